"""Carrier outcomes (domain/carrier.py) and where a handset's SMS goes (domain/recipients.py)."""

from __future__ import annotations

import pytest

from ringlet.domain.carrier import check_error_code, rule_outcome
from ringlet.domain.enums import ExtensionStatus, ExtensionType, MessageStatus
from ringlet.domain.errors import InvalidParameter
from ringlet.domain.model import Extension
from ringlet.domain.recipients import SmsRoute, route_sms, route_sms_from_handset


@pytest.mark.parametrize("code", ["SMS-CAR-411", "SMS-UP-410", "SMS-RC-413", "SMS-CAR-104"])
def test_documented_error_codes_are_accepted(code: str) -> None:
    assert check_error_code(code) == code


@pytest.mark.parametrize("code", ["SMS-CAR-999", "SMS-XX-411", "sms-car-411", "SMS-RC-411", ""])
def test_other_error_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        check_error_code(code)
    assert refused.value.parameter_name == "errorCode"


def test_a_failure_without_a_code_takes_the_documented_example() -> None:
    assert rule_outcome(MessageStatus.DELIVERY_FAILED, None) == (
        MessageStatus.DELIVERY_FAILED,
        "SMS-CAR-411",
    )
    assert rule_outcome(MessageStatus.SENDING_FAILED, None) == (
        MessageStatus.SENDING_FAILED,
        "SMS-RC-413",
    )
    assert rule_outcome(MessageStatus.DELIVERED, None) == (MessageStatus.DELIVERED, None)


@pytest.mark.parametrize(
    ("status", "code", "parameter"),
    [
        (MessageStatus.DELIVERED, "SMS-CAR-411", "errorCode"),
        (MessageStatus.QUEUED, None, "status"),
        (MessageStatus.SENT, None, "status"),
        (MessageStatus.RECEIVED, None, "status"),
    ],
)
def test_rules_that_make_no_sense_are_refused(
    status: MessageStatus, code: str | None, parameter: str
) -> None:
    with pytest.raises(InvalidParameter) as refused:
        rule_outcome(status, code)
    assert refused.value.parameter_name == parameter


def _ext(kind: ExtensionType, status: ExtensionStatus = ExtensionStatus.ENABLED) -> Extension:
    return Extension(1, 1, "201", kind, status, "x")


def test_a_departments_number_takes_handset_sms_but_not_internal_sms() -> None:
    department = _ext(ExtensionType.DEPARTMENT)
    assert route_sms(department) is SmsRoute.DROP  # R2
    assert route_sms_from_handset(department) is SmsRoute.DELIVER  # R7's replies


@pytest.mark.parametrize(
    ("extension", "route"),
    [
        (_ext(ExtensionType.USER), SmsRoute.DELIVER),
        (_ext(ExtensionType.VOICEMAIL), SmsRoute.DELIVER),
        (_ext(ExtensionType.ANNOUNCEMENT), SmsRoute.DROP),
        (_ext(ExtensionType.USER, ExtensionStatus.DISABLED), SmsRoute.DROP),
        (_ext(ExtensionType.DEPARTMENT, ExtensionStatus.FROZEN), SmsRoute.DROP),
    ],
)
def test_handset_sms_follow_r2_and_r8(extension: Extension, route: SmsRoute) -> None:
    assert route_sms_from_handset(extension) is route
