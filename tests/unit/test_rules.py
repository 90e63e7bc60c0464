"""The domain rules on plain objects, one group per rule of DESIGN.md."""

from __future__ import annotations

import pytest

from ringlet.domain import errors
from ringlet.domain.access import Reach, resolve_account, resolve_extension
from ringlet.domain.enums import (
    AppPermission,
    Availability,
    ExtensionStatus,
    ExtensionType,
    MessageType,
    PhoneNumberFeature,
    UsageType,
)
from ringlet.domain.lifecycle import availability_after_delete
from ringlet.domain.model import Account, Caller, Extension, PagerThread, PhoneNumber
from ringlet.domain.phone_numbers import normalize_recipient, parse_number
from ringlet.domain.recipients import SmsRoute, plan_pager, receives, route_sms
from ringlet.domain.sending import check_pager_sender, check_sms_sender, extension_numbers
from ringlet.domain.text import check_text, utf16_length
from ringlet.domain.threads import check_reply_allowed, sms_conversation_id

ACCOUNT = Account(id=1, name="Acme", main_number="+16509100000", operator_extension_number="101")


def ext(
    ext_id: int,
    number: str,
    type_: ExtensionType = ExtensionType.USER,
    status: ExtensionStatus = ExtensionStatus.ENABLED,
) -> Extension:
    return Extension(ext_id, 1, number, type_, status, f"Ext {number}")


OPERATOR = ext(1, "101")
BOB = ext(2, "102")
CAROL = ext(3, "103")
DAN = ext(4, "104", status=ExtensionStatus.DISABLED)
FAY = ext(5, "105", status=ExtensionStatus.FROZEN)
DEPT = ext(20, "201", ExtensionType.DEPARTMENT)
VOICEMAIL = ext(30, "301", ExtensionType.VOICEMAIL)
ANNOUNCEMENT = ext(40, "401", ExtensionType.ANNOUNCEMENT)

SMS = frozenset({PhoneNumberFeature.SMS_SENDER, PhoneNumberFeature.CALLER_ID})
NUMBERS = [
    PhoneNumber(100, 1, None, "+16509100000", UsageType.MAIN_COMPANY_NUMBER),
    PhoneNumber(101, 1, 1, "+16509100010", UsageType.DIRECT_NUMBER, SMS),
    PhoneNumber(102, 1, 2, "+16509100020", UsageType.DIRECT_NUMBER, SMS),
    PhoneNumber(
        103,
        1,
        3,
        "+16509100030",
        UsageType.DIRECT_NUMBER,
        frozenset({PhoneNumberFeature.CALLER_ID}),
    ),
    PhoneNumber(120, 1, 20, "+16509100201", UsageType.DIRECT_NUMBER, SMS),
]


# R1 / R3 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units"),
    [("hello", 5), ("é", 1), ("😀", 2), ("a😀b", 4), ("日本", 2)],
)
def test_r3_utf16_length_counts_astral_characters_twice(text: str, units: int) -> None:
    assert utf16_length(text) == units


@pytest.mark.parametrize(
    ("message_type", "ok", "too_long"),
    [
        (MessageType.SMS, "x" * 1000, "x" * 1001),
        (MessageType.SMS, "😀" * 500, "😀" * 500 + "x"),
        (MessageType.PAGER, "x" * 1024, "x" * 1025),
        (MessageType.PAGER, "😀" * 512, "😀" * 512 + "x"),
    ],
)
def test_r3_limits(message_type: MessageType, ok: str, too_long: str) -> None:
    check_text(ok, message_type)
    with pytest.raises(errors.InvalidParameter) as caught:
        check_text(too_long, message_type)
    assert caught.value.parameter_name == "text"


def test_r3_empty_text_is_refused() -> None:
    with pytest.raises(errors.InvalidParameter):
        check_text("", MessageType.SMS)


# R2 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "sms", "pager"),
    [
        (ExtensionType.USER, True, True),
        (ExtensionType.VOICEMAIL, True, True),
        (ExtensionType.DEPARTMENT, False, True),
        (ExtensionType.ANNOUNCEMENT, False, False),
        (ExtensionType.IVR_MENU, False, False),
    ],
)
def test_r2_who_receives(type_: ExtensionType, sms: bool, pager: bool) -> None:
    assert receives(type_, MessageType.SMS) is sms
    assert receives(type_, MessageType.PAGER) is pager


# R4 / R8 -------------------------------------------------------------------------------------


def test_r4_number_off_server_goes_to_carrier() -> None:
    assert route_sms(None) is SmsRoute.CARRIER


def test_r4_number_on_server_is_delivered() -> None:
    assert route_sms(BOB) is SmsRoute.DELIVER
    assert route_sms(VOICEMAIL) is SmsRoute.DELIVER


@pytest.mark.parametrize("owner", [DAN, FAY, DEPT, ANNOUNCEMENT])
def test_r8_r2_sms_to_inactive_or_non_receiving_extension_is_dropped(owner: Extension) -> None:
    assert route_sms(owner) is SmsRoute.DROP


def test_r4_recipient_syntax() -> None:
    assert normalize_recipient("+1 (650) 555-0100", lambda n: False) == "+16505550100"
    assert normalize_recipient(" 16505550100", lambda n: False) == "+16505550100"
    with pytest.raises(errors.RecipientIsExtensionNumber):
        normalize_recipient("102", {"102"}.__contains__)
    with pytest.raises(errors.RecipientIsShortNumber):
        normalize_recipient("12345", {"102"}.__contains__)
    with pytest.raises(errors.InvalidParameter):
        normalize_recipient("not a number", lambda n: False)
    with pytest.raises(errors.InvalidParameter):
        parse_number("+0123", "from.phoneNumber")


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("4155550100", "US", "+14155550100"),
        ("(415) 555-0100", "US", "+14155550100"),
        ("415.555.0100", "US", "+14155550100"),
        ("1 415 555 0100", "US", "+14155550100"),
        ("14151003732", "US", "+14151003732"),  # possible though unassigned: test numbers
        ("+1 415 555 0100", "US", "+14155550100"),
        (" 14155550100", "US", "+14155550100"),  # a `+` sent unencoded in a query
        (" 442071838750", "US", "+442071838750"),
        ("020 7183 8750", "GB", "+442071838750"),
        ("+44 20 7183 8750", "US", "+442071838750"),
        ("+1 415 555 0100", "GB", "+14155550100"),
    ],
)
def test_numbers_are_read_in_the_accounts_country(raw: str, country: str, e164: str) -> None:
    assert parse_number(raw, "to.phoneNumber", country) == e164


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("+4155550100", "US"),  # 10 digits after +41: no Swiss number is that long
        ("020 7183 8750", "US"),  # a British national number is no US number
        ("5550100", "US"),  # a local number without its area code
        ("call me", "US"),
        ("", "US"),
        ("1" * 300, "US"),
    ],
)
def test_impossible_numbers_are_refused(raw: str, country: str) -> None:
    with pytest.raises(errors.InvalidParameter) as caught:
        parse_number(raw, "to.phoneNumber", country)
    assert caught.value.parameter_name == "to.phoneNumber"


def test_a_number_with_an_extension_is_refused_clearly() -> None:
    with pytest.raises(errors.InvalidParameter) as caught:
        parse_number("415-555-0100 ext. 12", "from.phoneNumber")
    assert "extension" in caught.value.message


# R5 / R6 / R7 --------------------------------------------------------------------------------


def test_r5_own_sms_number_may_send() -> None:
    assert check_sms_sender(BOB, ACCOUNT, "+16509100020", NUMBERS).id == 102


def test_r5_number_without_sms_sender_is_refused() -> None:
    with pytest.raises(errors.NumberNotSmsEnabled):
        check_sms_sender(CAROL, ACCOUNT, "+16509100030", NUMBERS)


def test_r5_someone_elses_number_is_refused() -> None:
    with pytest.raises(errors.NumberNotOwned):
        check_sms_sender(BOB, ACCOUNT, "+16509100010", NUMBERS)


def test_r6_operator_holds_main_number_as_sms_sender() -> None:
    held = dict((n.phone_number, f) for n, f in extension_numbers(OPERATOR, ACCOUNT, NUMBERS))
    assert PhoneNumberFeature.SMS_SENDER in held["+16509100000"]
    assert check_sms_sender(OPERATOR, ACCOUNT, "+16509100000", NUMBERS).id == 100


def test_r6_nobody_else_holds_main_number() -> None:
    held = [n.phone_number for n, _ in extension_numbers(BOB, ACCOUNT, NUMBERS)]
    assert held == ["+16509100020"]
    with pytest.raises(errors.NumberNotOwned):
        check_sms_sender(BOB, ACCOUNT, "+16509100000", NUMBERS)


def test_r6_operator_is_named_by_the_account() -> None:
    other = Account(1, "Acme", "+16509100000", operator_extension_number="102")
    assert check_sms_sender(BOB, other, "+16509100000", NUMBERS).id == 100
    with pytest.raises(errors.NumberNotOwned):
        check_sms_sender(OPERATOR, other, "+16509100000", NUMBERS)


def test_r7_department_sends_sms_from_its_numbers_but_no_pager() -> None:
    assert check_sms_sender(DEPT, ACCOUNT, "+16509100201", NUMBERS).id == 120
    with pytest.raises(errors.DepartmentCannotSendPager):
        check_pager_sender(DEPT)


def test_announcement_cannot_send() -> None:
    with pytest.raises(errors.ExtensionCannotSend):
        check_sms_sender(ANNOUNCEMENT, ACCOUNT, "+16509100000", NUMBERS)
    with pytest.raises(errors.ExtensionCannotSend):
        check_pager_sender(ANNOUNCEMENT)


# R9 / R10 ------------------------------------------------------------------------------------


def test_r10_pager_to_several_extensions() -> None:
    plan = plan_pager(OPERATOR, [BOB, CAROL], {})
    assert [(r.extension.id, r.via_department) for r in plan.recipients] == [(2, False), (3, False)]
    assert not plan.to_department


def test_r10_department_fans_out_to_active_members_with_flag() -> None:
    plan = plan_pager(OPERATOR, [DEPT], {DEPT.id: [BOB, CAROL, DAN]})
    assert [(r.extension.id, r.via_department) for r in plan.recipients] == [(2, True), (3, True)]
    assert plan.department_ids == {DEPT.id}


def test_r10_sender_in_department_gets_no_inbound_copy() -> None:
    plan = plan_pager(BOB, [DEPT], {DEPT.id: [BOB, CAROL]})
    assert [r.extension.id for r in plan.recipients] == [3]


@pytest.mark.parametrize("inactive", [DAN, FAY])
def test_r9_explicit_inactive_recipient_refuses_the_message(inactive: Extension) -> None:
    with pytest.raises(errors.PagerToInactiveExtension) as caught:
        plan_pager(OPERATOR, [BOB, inactive], {})
    assert inactive.extension_number in caught.value.message


def test_r2_announcement_cannot_receive_pager() -> None:
    with pytest.raises(errors.PagerTargetNotFound):
        plan_pager(OPERATOR, [ANNOUNCEMENT], {})


# R12 / R13 -----------------------------------------------------------------------------------


def test_r13_sms_conversation_is_shared_by_both_directions() -> None:
    a, b, c = "+16509100010", "+16505550100", "+16505550101"
    assert sms_conversation_id(a, b) == sms_conversation_id(b, a)
    assert sms_conversation_id(a, b) != sms_conversation_id(a, c)
    assert 0 < sms_conversation_id(a, b) < 2**53


def test_r12_members_and_current_department_members_may_reply() -> None:
    thread = PagerThread(7, 1, frozenset({1, 2}), frozenset({20}))
    check_reply_allowed(2, thread, {3})
    check_reply_allowed(3, thread, {3})
    with pytest.raises(errors.NotInConversation):
        check_reply_allowed(3, thread, set())  # taken out of the department
    with pytest.raises(errors.NotInConversation):
        check_reply_allowed(5, thread, {3})  # never a member


# R14 -----------------------------------------------------------------------------------------

USER = Caller(1, 2, 1, frozenset(AppPermission), is_admin=False)
ADMIN = Caller(1, 1, 1, frozenset(AppPermission), is_admin=True)


def test_r14_tilde_is_the_caller() -> None:
    assert resolve_account(USER, "~") == 1
    assert resolve_extension(USER, "~", Reach.OWN_ONLY) == 2


def test_r14_other_account_is_not_found() -> None:
    with pytest.raises(errors.ResourceNotFound):
        resolve_account(ADMIN, "999")


@pytest.mark.parametrize(
    ("caller", "reach", "allowed"),
    [
        (USER, Reach.OWN_ONLY, False),
        (USER, Reach.OWN_OR_ADMIN, False),
        (USER, Reach.ACCOUNT, True),
        (ADMIN, Reach.OWN_ONLY, False),
        (ADMIN, Reach.OWN_OR_ADMIN, True),
    ],
)
def test_r14_reaching_another_extension(caller: Caller, reach: Reach, allowed: bool) -> None:
    if allowed:
        assert resolve_extension(caller, "3", reach) == 3
    else:
        with pytest.raises(errors.OtherExtension):
            resolve_extension(caller, "3", reach)


# R15 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "purge", "after"),
    [
        (Availability.ALIVE, False, Availability.DELETED),
        (Availability.DELETED, False, Availability.PURGED),
        (Availability.ALIVE, True, Availability.PURGED),
        (Availability.PURGED, False, Availability.PURGED),
    ],
)
def test_r15_delete_lifecycle(current: Availability, purge: bool, after: Availability) -> None:
    assert availability_after_delete(current, purge=purge) is after
