"""Carrier outcomes: which final statuses a carrier rule may impose, and which delivery error
codes RingCentral documents (developer guide, messaging/sms/sms-errors)."""

from __future__ import annotations

import re

from ringlet.domain.enums import MessageStatus
from ringlet.domain.errors import InvalidParameter

FINAL_STATUSES = (
    MessageStatus.DELIVERED,
    MessageStatus.DELIVERY_FAILED,
    MessageStatus.SENDING_FAILED,
)

# The documented codes, by source: RC = RingCentral, UP = the upstream gateway, CAR = carrier.
_CODES: dict[str, frozenset[int]] = {
    "RC": frozenset({403, 410, 413, 430, 500, 501, 503, 504}),
    "UP": frozenset({410, 413, 414, 430, 431, 432, 433, 500}),
    "CAR": frozenset(
        {104, 199, 400, 410, 411, 412, 413, 414, 430, 431, 432, 433, 434, 435, 450, 451, 452}
        | {460, 461, 500}
    ),
}
_CODE = re.compile(r"SMS-(RC|UP|CAR)-(\d{3})")

# The code a failure carries when a rule names none: the documented example of each status.
DEFAULT_ERROR_CODES = {
    MessageStatus.DELIVERY_FAILED: "SMS-CAR-411",
    MessageStatus.SENDING_FAILED: "SMS-RC-413",
}

# What ringlet reports when an HTTP gateway stays unreachable (RingCentral's "service
# unavailable" code) or refuses an SMS without saying why (upstream's generic failure).
UNREACHABLE_ERROR_CODE = "SMS-RC-503"
REFUSED_ERROR_CODE = "SMS-UP-500"


def check_error_code(code: str, parameter: str = "errorCode") -> str:
    """A documented delivery error code (`SMS-CAR-411`), or 400 CMN-101 naming `parameter`."""
    match = _CODE.fullmatch(code)
    if match is None or int(match.group(2)) not in _CODES[match.group(1)]:
        raise InvalidParameter(
            parameter, "not one of RingCentral's documented SMS delivery error codes", value=code
        )
    return code


def rule_outcome(status: MessageStatus, error_code: str | None) -> tuple[MessageStatus, str | None]:
    """The final status and error code a carrier rule imposes: a failure without a code takes
    the default; Delivered takes none (a delivered message has no error)."""
    if status not in FINAL_STATUSES:
        allowed = ", ".join(s.value for s in FINAL_STATUSES)
        raise InvalidParameter("status", f"must be one of {allowed}", value=status.value)
    if status is MessageStatus.DELIVERED:
        if error_code is not None:
            raise InvalidParameter("errorCode", "a Delivered message has no error code")
        return status, None
    code = DEFAULT_ERROR_CODES[status] if error_code is None else check_error_code(error_code)
    return status, code
