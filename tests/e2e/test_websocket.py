"""The WebSocket gateway end to end (facts 13.4, 7.5), with a raw WebSocket client: the token,
the frames, REST-over-WebSocket, the timeouts, session recovery and the /_ringlet/ controls."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from ringlet.domain.enums import AppPermission
from tests.conftest import provision_account
from tests.e2e.messaging import EXT, records
from tests.support.client import ApiClient
from tests.support.server import RingletServer
from tests.support.ws import WSTOKEN, WsClient, connect_url, ws_token

pytestmark = pytest.mark.usefixtures("server")

ME = "/restapi/v1.0/account/~/extension/~"
SESSIONS = "/_ringlet/websocket/sessions"


def _sessions(srv: RingletServer, extension_id: int | str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{srv.base_url}{SESSIONS}",
        headers=srv.admin_headers(),
        params={"extensionId": str(extension_id)},
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["records"]
    return found


def _only_session(srv: RingletServer, extension_id: int | str) -> dict[str, Any]:
    (session,) = _sessions(srv, extension_id)
    return session


# -- POST /restapi/oauth/wstoken -------------------------------------------------------------


def test_wstoken_names_the_gateway_on_ringlets_own_port(server, account, client_for) -> None:
    token = ws_token(client_for(account, "102"))
    assert token["uri"] == f"ws://127.0.0.1:{server.port}/ws"
    assert token["ws_access_token"].startswith("rlws_")
    assert token["expires_in"] == 30


def test_wstoken_follows_the_host_the_client_called(account, client_for) -> None:
    bob = client_for(account, "102")
    # Another name and port of this server (a port forward, say): Host names it, and the port
    # is not compared (api/middleware/host.py).
    response = bob.post(WSTOKEN, headers={"Host": "localhost:8443"})
    assert response.status_code == 200, response.text
    assert response.json()["uri"] == "ws://localhost:8443/ws"


def test_wstoken_needs_a_valid_access_token(api) -> None:
    response = api.post(WSTOKEN)
    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["errorCode"] == "AGW-401"
    response = api.post(WSTOKEN, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["errorCode"] == "OAU-213"


def test_wstoken_needs_the_websocket_app_permission(new_account, client_for) -> None:
    def without_websocket(doc: dict[str, Any]) -> None:
        doc["apps"][0]["permissions"] = [
            p.value for p in AppPermission if p is not AppPermission.WEBSOCKETS_SUBSCRIPTION
        ]

    account = new_account(edit=without_websocket)
    response = client_for(account, "102").post(WSTOKEN)
    assert response.status_code == 403, response.text
    (error,) = response.json()["errors"]
    assert error["errorCode"] == "CMN-401"
    assert error["permissionName"] == "WebSocketsSubscription"


# -- connecting ------------------------------------------------------------------------------


def test_first_frame_is_connection_details(account, client_for) -> None:
    with WsClient.open(client_for(account, "102")) as ws:
        meta, body = ws.details
    assert meta["type"] == "ConnectionDetails"
    assert meta["status"] == 200
    assert meta["messageId"]
    assert meta["headers"]["RCRequestId"]
    assert meta["wsc"]["sequence"] == 1
    assert meta["wsc"]["token"]
    assert body.pop("creationTime").endswith("Z")
    assert body == {
        "maxConnectionsPerSession": 50,
        "recoveryBufferSize": 100,
        "recoveryTimeout": 180,
        "idleTimeout": 1800,
        "absoluteTimeout": 86400,
        "maxActiveRequests": 10,
    }


def test_one_token_serves_several_connections_until_it_expires(account, client_for) -> None:
    """@rc-ex/ws reconnects with the token it already has (for 0.8 x expires_in)."""
    bob = client_for(account, "102")
    token = ws_token(bob)
    for _ in range(2):
        with WsClient.open(bob, token=token) as ws:
            assert ws.details[0]["type"] == "ConnectionDetails"


@pytest.mark.parametrize(
    ("access_token", "code", "status"),
    [("", "AGW-401", 401), ("rlws_unknown", "OAU-213", 401)],
    ids=["missing", "unknown"],
)
def test_a_bad_ws_token_gets_an_error_frame_and_a_close(server, access_token, code, status) -> None:
    with connect(f"ws://127.0.0.1:{server.port}/ws?access_token={access_token}") as raw:
        frame = json.loads(raw.recv(timeout=10))
        with pytest.raises(ConnectionClosed):
            raw.recv(timeout=10)
    meta, body = frame
    assert meta["type"] == "Error"
    assert meta["status"] == status
    assert body["errorCode"] == code


def test_a_revoked_session_cannot_connect(account, client_for, api) -> None:
    bob = client_for(account, "102")
    token = ws_token(bob)
    revoked = api.post(
        "/restapi/oauth/revoke",
        data={"token": bob.access_token},
        auth=(account.client_id, account.client_secret),
    )
    assert revoked.status_code == 200, revoked.text
    with connect(connect_url(token)) as raw:
        meta, body = json.loads(raw.recv(timeout=10))
    assert meta["type"] == "Error"
    assert body["errorCode"] == "OAU-213"


# -- frames ----------------------------------------------------------------------------------


def test_heartbeat_is_echoed(account, client_for) -> None:
    with WsClient.open(client_for(account, "102")) as ws:
        message_id = str(uuid.uuid4())
        ws.send([{"type": "Heartbeat", "messageId": message_id}])
        (meta,) = ws.until(message_id)
    assert meta["type"] == "Heartbeat"
    assert meta["status"] == 200
    assert "RCRequestId" in meta["headers"]


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        '{"type": "ClientRequest"}',
        '[{"type": "Nonsense", "messageId": "m"}]',
        '[{"type": "ClientRequest", "messageId": "m", "method": "BREW", "path": "/restapi"}]',
        '[{"type": "ClientRequest", "method": "GET", "path": "/restapi"}]',
        '[{"type": "ClientRequest", "messageId": "m", "method": "GET", "path": "restapi"}]',
    ],
    ids=["not-json", "not-array", "unknown-type", "bad-method", "no-message-id", "bad-path"],
)
def test_a_malformed_frame_gets_an_error_frame_and_the_connection_stays(
    account, client_for, spec_validator, frame
) -> None:
    with WsClient.open(client_for(account, "102")) as ws:
        ws.send(frame)
        meta, body = ws.recv()
        assert meta["type"] == "Error"
        assert meta["status"] == 400
        assert body["errorCode"] == "CMN-104"
        spec_validator.validate_error(ME, json.dumps(body).encode())
        assert ws.heartbeat()[0]["type"] == "Heartbeat"


# -- REST over WebSocket ---------------------------------------------------------------------


def test_rest_over_websocket_answers_as_http_does(account, client_for) -> None:
    bob = client_for(account, "102")
    with WsClient.open(bob) as ws:
        meta, body = ws.request("GET", ME, headers={"X-User-Agent": "test/1.0"})
    assert meta["status"] == 200
    assert meta["headers"]["Content-Type"].startswith("application/json")
    assert meta["headers"]["RCRequestId"]
    assert meta["headers"]["X-Rate-Limit-Group"] == "light"
    assert body == bob.get(ME).json()


def test_rest_over_websocket_takes_query_and_body(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    with WsClient.open(olivia) as ws:
        meta, sent = ws.request(
            "POST", f"{EXT}/company-pager", {"to": [{"extensionNumber": "102"}], "text": "hi ws"}
        )
        assert meta["status"] == 200, sent
        meta, page = ws.request(
            "GET", f"{EXT}/message-store", query={"messageType": "Pager", "perPage": 1}
        )
    assert meta["status"] == 200
    assert [r["id"] for r in page["records"]] == [sent["id"]]
    assert page["paging"]["perPage"] == 1
    (copy,) = records(bob)
    assert copy["subject"] == "hi ws"


def test_rest_over_websocket_errors_are_the_apis(account, client_for) -> None:
    with WsClient.open(client_for(account, "102")) as ws:
        meta, body = ws.request("GET", "/restapi/v1.0/account/~/nothing-here")
        assert meta["status"] == 404
        assert body["errorCode"] == "CMN-120"
        meta, body = ws.request("POST", f"{EXT}/company-pager", {"text": "no recipient"})
        assert meta["status"] == 400
        meta, body = ws.request("DELETE", f"{EXT}/message-store/1")
        assert meta["status"] == 404
        assert body["errorCode"] == "CMN-102"


def test_rest_over_websocket_acts_as_the_session_not_as_a_header(account, client_for) -> None:
    """The session's own token is used: an Authorization header in the frame changes nothing."""
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    with WsClient.open(bob) as ws:
        other = {"Authorization": f"Bearer {olivia.access_token}"}
        meta, body = ws.request("GET", ME, headers=other)
    assert meta["status"] == 200
    assert body["extensionNumber"] == "102"


# -- timeouts --------------------------------------------------------------------------------


def test_idle_timeout_ends_the_connection_with_wsg_902(server_factory) -> None:
    srv = server_factory(extra_args=["--ws-idle-timeout", "1"])
    frames = _connect_and_wait(srv)
    assert frames[0][0]["type"] == "ConnectionDetails"
    assert frames[0][1]["idleTimeout"] == 1
    meta, body = frames[-1]
    assert meta["type"] == "Error"
    assert body["errorCode"] == "WSG-902"
    assert body["message"] == "Idle timeout expired"


def test_absolute_timeout_ends_the_connection_with_wsg_903(server_factory) -> None:
    srv = server_factory(extra_args=["--ws-absolute-timeout", "1"])
    frames = _connect_and_wait(srv)
    assert frames[0][1]["absoluteTimeout"] == 1
    meta, body = frames[-1]
    assert meta["type"] == "Error"
    assert body["errorCode"] == "WSG-903"
    assert body["message"] == "Absolute timeout expired"


def _connect_and_wait(srv: RingletServer) -> list[Any]:
    acct = provision_account(srv)
    with ApiClient(srv.base_url) as api, api.login(acct, "102") as bob:
        ws = WsClient.open(bob)
        return [ws.details, *ws.closed_with()]


# -- recovery --------------------------------------------------------------------------------


def test_a_malformed_wsc_is_refused_with_wsg_400(account, client_for) -> None:
    bob = client_for(account, "102")
    with connect(connect_url(ws_token(bob), wsc="not-a-wsc")) as raw:
        meta, body = json.loads(raw.recv(timeout=10))
        with pytest.raises(ConnectionClosed):
            raw.recv(timeout=10)
    assert meta["type"] == "Error"
    assert body["errorCode"] == "WSG-400"


def test_recovering_an_unknown_session_fails_with_a_new_session(account, client_for) -> None:
    bob = client_for(account, "102")
    with WsClient.open(bob, wsc="A" * 32 + ".7") as ws:
        meta, body = ws.details
        assert body["recoveryState"] == "Failed"
        assert body["recoveryErrorCode"] == "WSG-1005"
        assert meta["wsc"]["sequence"] == 1  # a session of its own
        assert ws.request("GET", ME)[0]["status"] == 200


def test_recovering_a_session_without_subscription_fails(server, account, client_for) -> None:
    bob = client_for(account, "102")
    first = WsClient.open(bob)
    assert first.wsc is not None
    wsc = first.wsc["token"]
    first.close()
    with WsClient.open(bob, wsc=wsc) as ws:
        body = ws.details[1]
    assert body["recoveryState"] == "Failed"
    assert body["recoveryErrorCode"] == "WSG-1005"


def test_another_oauth_session_cannot_recover_a_session(server, account, client_for) -> None:
    bob_here, bob_there = client_for(account, "102"), client_for(account, "102")
    first = WsClient.open(bob_here)
    assert first.wsc is not None
    with WsClient.open(bob_there, wsc=first.wsc["token"]) as ws:
        body = ws.details[1]
        assert body["recoveryState"] == "Failed"
        assert body["recoveryErrorCode"] == "WSG-1003"
        # The first connection is untouched.
        assert first.heartbeat()[0]["type"] == "Heartbeat"
    first.close()


# -- /_ringlet/websocket/ ---------------------------------------------------------------------


def test_sessions_are_listed_and_a_drop_closes_the_connection(server, account, client_for) -> None:
    bob = client_for(account, "102")
    ws = WsClient.open(bob)
    session = _only_session(server, account.ext("102").id)
    assert session["connected"] is True
    assert session["subscriptionId"] is None
    assert session["sequence"] == 1
    dropped = httpx.post(
        f"{server.base_url}{SESSIONS}/{session['id']}/drop", headers=server.admin_headers()
    )
    assert dropped.status_code == 204, dropped.text
    assert ws.closed_with() == []  # no Error frame: the connection just goes
    after = _only_session(server, account.ext("102").id)
    assert after["id"] == session["id"]
    assert after["connected"] is False  # kept for a recovery


def test_a_session_past_its_recovery_timeout_is_gone(server_factory) -> None:
    srv = server_factory(extra_args=["--ws-recovery-timeout", "1"])
    acct = provision_account(srv)
    with ApiClient(srv.base_url) as api, api.login(acct, "102") as bob:
        ws = WsClient.open(bob)
        assert ws.details[1]["recoveryTimeout"] == 1
        assert ws.wsc is not None
        wsc = ws.wsc["token"]
        ws.close()
        _wait_for(lambda: _sessions(srv, acct.ext("102").id) == [])
        with WsClient.open(bob, wsc=wsc) as again:
            assert again.details[1]["recoveryState"] == "Failed"


def test_delayed_frames_arrive_in_order(server, account, client_for) -> None:
    bob = client_for(account, "102")
    with WsClient.open(bob) as ws:
        session = _only_session(server, account.ext("102").id)
        url = f"{server.base_url}{SESSIONS}/{session['id']}/delay"
        response = httpx.post(url, headers=server.admin_headers(), json={"delayMs": 50})
        assert response.status_code == 200, response.text
        assert response.json()["delayMs"] == 50
        ids = [str(uuid.uuid4()) for _ in range(3)]
        for message_id in ids:
            ws.send([{"type": "Heartbeat", "messageId": message_id}])
        assert [ws.recv()[0]["messageId"] for _ in ids] == ids
        assert (
            httpx.post(url, headers=server.admin_headers(), json={"delayMs": 0}).json()["delayMs"]
            == 0
        )


@pytest.mark.parametrize("body", [{"delayMs": -1}, {"delayMs": "soon"}, {}])
def test_a_bad_delay_is_refused(server, account, client_for, spec_validator, body) -> None:
    with WsClient.open(client_for(account, "102")):
        session = _only_session(server, account.ext("102").id)
        response = httpx.post(
            f"{server.base_url}{SESSIONS}/{session['id']}/delay",
            headers=server.admin_headers(),
            json=body,
        )
        assert response.status_code == 400, response.text
        assert response.json()["errorCode"] == "CMN-101"
        assert _only_session(server, account.ext("102").id)["delayMs"] == 0


def test_controls_of_an_unknown_session_answer_404(server) -> None:
    for action in ("drop", "delay"):
        response = httpx.post(
            f"{server.base_url}{SESSIONS}/nope/{action}",
            headers=server.admin_headers(),
            json={"delayMs": 1},
        )
        assert response.status_code == 404, response.text
        assert response.json()["errorCode"] == "CMN-102"


def _wait_for(condition: Any, attempts: int = 100) -> None:
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
