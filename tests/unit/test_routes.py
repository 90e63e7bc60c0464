"""The route table against RingCentral's OpenAPI description: each operation's path, method,
app permission, user permission and throttling group are those of the spec."""

from __future__ import annotations

import re

import pytest

from ringlet.api.rate_limit import DEFAULT_LIMITS, UNTHROTTLED
from ringlet.api.routes import OPERATIONS, Operation
from ringlet.domain.permissions import STANDARD_USER
from tests.support.openapi import load_spec

# Operations of the 2025 description that the 2022 file in reference/ does not have.
NEWER_THAN_THE_SPEC = {"patchMessage"}
# Not in either file's operations ringlet vendors; ringlet's choice (docs/compatibility.md):
# (throttling group, app permission). The guide names the permission WebSocketsSubscription.
NOT_IN_THE_SPEC = {"authWsToken": ("Auth", "WebSocketsSubscription")}


def _spec_operations() -> dict[str, tuple[str, str, dict]]:
    spec = load_spec()
    found = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                found[op["operationId"]] = (method.upper(), path, op)
    return found


SPEC = _spec_operations()
RESTAPI = [op for op in OPERATIONS if op.path.startswith("/restapi")]


@pytest.mark.parametrize("operation", RESTAPI, ids=lambda op: op.operation_id)
def test_operation_matches_the_spec(operation: Operation) -> None:
    if operation.operation_id in NOT_IN_THE_SPEC:
        assert operation.operation_id not in SPEC
        permission = operation.app_permission.value if operation.app_permission else None
        assert (operation.throttling_group, permission) == NOT_IN_THE_SPEC[operation.operation_id]
        assert operation.user_permission == ()
        return
    if operation.operation_id in NEWER_THAN_THE_SPEC:
        twin = SPEC["updateMessage"]
        assert operation.path == twin[1]
        # S25 gives patchMessage updateMessage's group and permissions (facts 2).
        assert operation.throttling_group == twin[2]["x-throttling-group"]
        assert _user_permission(operation) == twin[2].get("x-user-permission")
        return
    method, path, spec_op = SPEC[operation.operation_id]
    assert operation.method == method
    assert operation.path == path
    assert operation.throttling_group == spec_op["x-throttling-group"]
    permission = operation.app_permission.value if operation.app_permission else None
    assert permission == spec_op.get("x-app-permission")


def test_ringlet_additions_stay_outside_restapi() -> None:
    for op in OPERATIONS:
        assert op.path.startswith(("/restapi/", "/_ringlet/")) or op.path == "/restapi"
        if not op.path.startswith("/restapi"):
            assert re.match(r"^/_ringlet/", op.path)


def _user_permission(operation: Operation) -> str | None:
    """The operation's user permission spelled as the spec spells it: `A OR B`."""
    return " OR ".join(p.value for p in operation.user_permission) or None


@pytest.mark.parametrize("operation", RESTAPI, ids=lambda op: op.operation_id)
def test_user_permission_matches_the_spec(operation: Operation) -> None:
    if operation.operation_id in NOT_IN_THE_SPEC:
        return  # checked above
    name = "updateMessage" if operation.operation_id in NEWER_THAN_THE_SPEC else None
    spec_op = SPEC[name or operation.operation_id][2]
    assert _user_permission(operation) == spec_op.get("x-user-permission")


def test_public_operations_need_no_user_permission() -> None:
    for op in OPERATIONS:
        if op.public:
            assert op.user_permission == (), op.operation_id


def test_every_throttling_group_has_a_limit() -> None:
    for op in OPERATIONS:
        assert op.throttling_group in {*DEFAULT_LIMITS, UNTHROTTLED}, op.operation_id
        if not op.path.startswith("/restapi"):
            assert (
                op.throttling_group == UNTHROTTLED
            )  # ringlet's own endpoints are not RingCentral's


def test_ordinary_users_lack_only_group_management() -> None:
    """What a standard user is refused by permission alone (the rest is R14's business)."""
    refused = {
        op.operation_id
        for op in OPERATIONS
        if op.user_permission and not set(op.user_permission) & STANDARD_USER
    }
    assert refused == {"assignMultipleDepartmentMembers"}
