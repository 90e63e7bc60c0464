"""The route table against RingCentral's OpenAPI description: each operation's path, method,
app permission and throttling group are those of the spec."""

from __future__ import annotations

import re

import pytest

from ringlet.api.routes import OPERATIONS, Operation
from tests.support.openapi import load_spec

# Operations of the 2025 description that the 2022 file in reference/ does not have.
NEWER_THAN_THE_SPEC = {"patchMessage"}


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
    if operation.operation_id in NEWER_THAN_THE_SPEC:
        twin = SPEC["updateMessage"]
        assert operation.path == twin[1]
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
