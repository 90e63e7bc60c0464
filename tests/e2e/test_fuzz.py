"""Schema fuzzing (issue 9): Schemathesis generates requests from RingCentral's OpenAPI file
for every operation ringlet serves (api/routes.OPERATIONS, so an operation another branch adds
is fuzzed too), valid and invalid ones, authenticated as an account admin, on both databases.

Each answer must be below 500, valid against the spec (tests/support/openapi.py, strict), and
a refused request (4xx) must have written nothing. Bounded: RINGLET_FUZZ_EXAMPLES examples per
operation and kind of case (default 4). Hypothesis draws from a seed printed with any failure;
`RINGLET_FUZZ_SEED=<seed>` replays it."""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import pytest
import requests
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode

from ringlet.api.routes import OPERATIONS
from ringlet.store.database import create_engine
from tests.conftest import provision_account
from tests.support.client import ApiClient
from tests.support.fixtures import ProvisionedAccount
from tests.support.openapi import REPO_ROOT, SpecValidator
from tests.support.server import RingletServer

SPEC_PATH = REPO_ROOT / "reference" / "ringcentral-messaging.openapi.yaml"
EXAMPLES = int(os.environ.get("RINGLET_FUZZ_EXAMPLES", "4"))
SEED = int(os.environ.get("RINGLET_FUZZ_SEED") or random.SystemRandom().randrange(2**32))

SCHEMA = schemathesis.openapi.from_path(SPEC_PATH)
_IN_SPEC = {
    op.definition.raw.get("operationId")
    for op in (result.ok() for result in SCHEMA.get_all_operations())
}
FUZZED = sorted(op.operation_id for op in OPERATIONS if op.operation_id in _IN_SPEC)

# What a refused request must leave as it was: every table a request can write. Messages and
# sessions are summed server-wide (any insert, update or delete moves a count, a maximum or a
# sum: a change sets modified_ms to now), the directory is read for the fuzzed account.
_STATE_QUERIES = [
    "SELECT count(*), max(id), max(modified_ms), sum(modified_ms % 1000003),"
    " sum(CASE WHEN read_status = 'Read' THEN 1 ELSE 0 END) FROM messages",
    "SELECT count(*), max(id) FROM sessions",
    "SELECT id, status, name, email FROM extensions WHERE account_id = :account ORDER BY id",
    "SELECT m.department_id, m.extension_id FROM department_members m"
    " JOIN extensions e ON e.id = m.department_id WHERE e.account_id = :account"
    " ORDER BY m.department_id, m.extension_id",
]


def test_every_served_operation_of_the_spec_is_fuzzed() -> None:
    assert len(FUZZED) >= 20
    assert {"createSMSMessage", "listMessages", "readMessage", "updateExtension"} <= set(FUZZED)


@pytest.fixture
def engine(server: RingletServer) -> Iterator[sa.Engine]:
    eng = create_engine(server.database_url, writer=False)
    try:
        yield eng
    finally:
        eng.dispose()


def _state(engine: sa.Engine, account_id: int) -> str:
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for query in _STATE_QUERIES:
            for row in conn.execute(sa.text(query), {"account": account_id}):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _path_ids(account: ProvisionedAccount, message_id: int) -> dict[str, Any]:
    """Ids that exist, so that generated requests reach the operations' logic; the generated
    path parameters (any string) are tried as well."""
    return {
        "accountId": "~",
        "extensionId": "~",
        "messageId": str(message_id),
        "phoneNumberId": str(account.new_id(33333301)),
        "departmentId": str(account.ext("201").id),
        "attachmentId": "1",
        "apiVersion": "v1.0",
    }


@dataclass
class Fuzzed:
    """One account per server for every operation: provisioning and logging in cost more than
    a dozen fuzzed requests."""

    account: ProvisionedAccount
    admin: ApiClient


_FUZZED_ACCOUNTS: dict[str, Fuzzed] = {}


@pytest.fixture
def fuzzed(server: RingletServer, api: ApiClient) -> Fuzzed:
    found = _FUZZED_ACCOUNTS.get(server.database_url)
    if found is None:
        account = provision_account(server)
        found = Fuzzed(account, api.login(account, "101"))
        _FUZZED_ACCOUNTS[server.database_url] = found
    return found


@pytest.mark.parametrize("operation_id", FUZZED)
def test_fuzzed_requests_are_answered_by_the_spec(
    server: RingletServer,
    fuzzed: Fuzzed,
    spec_validator: SpecValidator,
    engine: sa.Engine,
    operation_id: str,
) -> None:
    account, olivia = fuzzed.account, fuzzed.admin
    # A message of its own for each operation, whatever the operations before did to theirs.
    sent = olivia.post(
        "/restapi/v1.0/account/~/extension/~/company-pager",
        json={"text": "fuzz", "to": [{"extensionNumber": "102"}]},
    )
    assert sent.status_code == 200, sent.text
    operation = SCHEMA.find_operation_by_id(operation_id)
    present = {p.name for p in operation.path_parameters}
    fixed = {k: v for k, v in _path_ids(account, sent.json()["id"]).items() if k in present}
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
        # Any string as a path id: what found the ids that cannot be ids (issue 9).
        operation.as_strategy(GenerationMode.POSITIVE),
    ]
    if list(operation.query) or list(operation.body) or list(operation.headers):
        # Invalid queries and bodies; an operation with only string path parameters has none
        # (Hypothesis would spend seconds looking for one).
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed))
    strategy = st.one_of(strategies)
    auth = {"Authorization": f"Bearer {olivia.access_token}"}
    account_id = account.new_id(1346632010)
    problems: list[str] = []
    session = requests.Session()

    @hypothesis.seed(SEED)
    @hypothesis.settings(
        max_examples=EXAMPLES * len(strategies),
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the bound is time
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @hypothesis.given(case=strategy)
    def fuzz(case: schemathesis.Case) -> None:
        before = _state(engine, account_id)
        response = case.call(base_url=server.base_url, session=session, headers=auth, timeout=30)
        path = urlsplit(str(response.request.url)).path
        where = f"{case.method} {path} -> {response.status_code}"
        try:
            assert response.status_code < 500, f"{where}: {response.content[:500]!r}"
            spec_validator.validate(
                case.method,
                path,
                response.status_code,
                (response.headers.get("content-type") or [""])[0],
                response.content,
            )
            if 400 <= response.status_code < 500:
                assert _state(engine, account_id) == before, f"{where}: a refused request wrote"
        except AssertionError as exc:
            problems.append(f"{exc}\n  replay: {case.as_curl_command(headers=auth)}")
            raise

    try:
        fuzz()
    except Exception as exc:  # also the strategies' own errors: report the seed either way
        pytest.fail(
            f"{operation_id}: {problems[-1] if problems else exc!r}\n"
            f"Replay with RINGLET_FUZZ_SEED={SEED} (RINGLET_FUZZ_EXAMPLES={EXAMPLES})",
            pytrace=False,
        )
