"""The gateway's pure parts: client frames, the wsc token, and the sealing of wstoken rows."""

from __future__ import annotations

import pytest

from ringlet.ws import frames
from ringlet.ws.sealing import seal, unseal
from ringlet.ws.tunnel import query_string


def test_a_client_request_is_read_with_its_query_headers_and_body() -> None:
    frame = frames.parse_client_frame(
        '[{"type":"ClientRequest","messageId":"m1","method":"post","path":"/restapi/v1.0/x",'
        '"query":{"a":1},"headers":{"X-User-Agent":"t"}},{"k":"v"}]'
    )
    assert frame == frames.ClientRequest(
        "m1", "POST", "/restapi/v1.0/x", {"a": 1}, {"X-User-Agent": "t"}, {"k": "v"}, True
    )


def test_a_heartbeat_without_message_id_still_gets_one() -> None:
    frame = frames.parse_client_frame('[{"type":"Heartbeat"}]')
    assert isinstance(frame, frames.Heartbeat)
    assert frame.message_id


@pytest.mark.parametrize(
    "text",
    ["", "{}", "[]", "[1]", '[{"type":"ClientRequest","messageId":"m","method":"GET"}]'],
)
def test_malformed_frames_are_named(text: str) -> None:
    assert isinstance(frames.parse_client_frame(text), frames.Malformed)


def test_wsc_tokens_round_trip_and_foreign_ones_are_refused() -> None:
    key = "k" * 32
    assert frames.parse_wsc(frames.wsc_token(key, 7)) == (key, 7)
    for foreign in ("", "short.1", f"{key}", f"{key}.x", f"{key}.1.2", "é" * 32 + ".1"):
        assert frames.parse_wsc(foreign) is None


def test_a_sealed_token_opens_only_with_its_ws_token() -> None:
    sealed = seal("rlws_one", "rlat_secret-access-token")
    assert "secret" not in sealed
    assert unseal("rlws_one", sealed) == "rlat_secret-access-token"
    assert unseal("rlws_two", sealed) != "rlat_secret-access-token"
    assert unseal("rlws_one", "not hex") is None


def test_the_query_object_follows_the_paths_own_query() -> None:
    assert query_string("a=1", {"b": [2, 3], "c": True, "d": None}) == "a=1&b=2&b=3&c=true"
