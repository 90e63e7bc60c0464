"""R5-R7: which numbers an extension may send SMS from, and who may send at all.

One function, `sender_features`, decides what an extension's phone-number list shows and what
the SMS `from` check accepts, so the list and the send path can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

from ringlet.domain.enums import ExtensionType, MessageType, PhoneNumberFeature, UsageType
from ringlet.domain.errors import (
    DepartmentCannotSendPager,
    ExtensionCannotSend,
    NumberNotOwned,
    NumberNotSmsEnabled,
)
from ringlet.domain.model import Account, Extension, PhoneNumber

# Extension types that may log in and send. Departments send SMS from their own numbers (R7)
# but never Pager; other types (Announcement, IvrMenu, ...) have nobody behind them to send.
_SMS_SENDERS = frozenset({ExtensionType.USER, ExtensionType.VOICEMAIL, ExtensionType.DEPARTMENT})
_PAGER_SENDERS = frozenset({ExtensionType.USER, ExtensionType.VOICEMAIL})


def is_operator(extension: Extension, account: Account) -> bool:
    """R6: the operator is the extension whose number the account names (101 by default)."""
    return extension.extension_number == account.operator_extension_number


def sender_features(
    number: PhoneNumber, extension: Extension, account: Account
) -> frozenset[PhoneNumberFeature] | None:
    """The features `number` has for `extension`, or None when the extension does not hold it.

    R5: an extension holds its own numbers with their provisioned features.
    R6: the operator also holds the main company number, always as an SMS sender; nobody else
    holds it.
    """
    if number.usage_type is UsageType.MAIN_COMPANY_NUMBER:
        if not is_operator(extension, account):
            return None
        return number.features | {PhoneNumberFeature.SMS_SENDER}
    if number.extension_id != extension.id:
        return None
    return number.features


def extension_numbers(
    extension: Extension, account: Account, numbers: Iterable[PhoneNumber]
) -> list[tuple[PhoneNumber, frozenset[PhoneNumberFeature]]]:
    """The numbers listed at .../extension/{id}/phone-number, with their features."""
    held = []
    for number in numbers:
        features = sender_features(number, extension, account)
        if features is not None:
            held.append((number, features))
    return held


def check_sms_sender(
    extension: Extension, account: Account, from_number: str, numbers: Iterable[PhoneNumber]
) -> PhoneNumber:
    """R5-R7: the number `extension` may send this SMS from, or the reason it may not."""
    if extension.type not in _SMS_SENDERS:
        raise ExtensionCannotSend(extension.type.value)
    for number, features in extension_numbers(extension, account, numbers):
        if number.phone_number == from_number:
            if PhoneNumberFeature.SMS_SENDER not in features:
                raise NumberNotSmsEnabled(from_number)
            return number
    raise NumberNotOwned(from_number)


def check_pager_sender(extension: Extension) -> None:
    """R7: a Department may not send Pager messages; nor may types nobody logs in as."""
    if extension.type is ExtensionType.DEPARTMENT:
        raise DepartmentCannotSendPager()
    if extension.type not in _PAGER_SENDERS:
        raise ExtensionCannotSend(extension.type.value)


def may_send(extension: Extension, message_type: MessageType) -> bool:
    senders = _SMS_SENDERS if message_type is MessageType.SMS else _PAGER_SENDERS
    return extension.type in senders
