"""The directory's rules that depend on no storage: which numbers a caller sees (facts §11),
what an extension's messaging service features say (R2, R5-R7), which statuses an admin may set,
and how one `name` maps to RingCentral's first and last names."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ringlet.domain import sending
from ringlet.domain.enums import ExtensionStatus, MessageType, UsageType
from ringlet.domain.model import Caller, Extension, PhoneNumber
from ringlet.domain.recipients import receives


class NumberStatus(StrEnum):
    """A phone number's provisioning status. ringlet neither ports nor reserves numbers, so
    every number it holds is `Normal`; the filter still accepts the other documented values."""

    NORMAL = "Normal"
    PENDING = "Pending"
    PORTED_IN = "PortedIn"
    TEMPORARY = "Temporary"


class ServiceFeature(StrEnum):
    """The messaging entries of an extension's `serviceFeatures`."""

    SMS = "SMS"
    SMS_RECEIVING = "SMSReceiving"
    PAGER = "Pager"
    PAGER_RECEIVING = "PagerReceiving"


# Statuses an admin may set (ExtensionUpdateRequest); `Unassigned` describes an extension
# without a number and cannot be set.
SETTABLE_STATUSES = frozenset(
    {
        ExtensionStatus.ENABLED,
        ExtensionStatus.DISABLED,
        ExtensionStatus.FROZEN,
        ExtensionStatus.NOT_ACTIVATED,
    }
)

# facts §11: a non-admin sees the other extensions' direct numbers and the main number, not
# the company's other numbers (fax, additional company numbers, ...).
_PUBLIC_USAGE = frozenset({UsageType.DIRECT_NUMBER, UsageType.MAIN_COMPANY_NUMBER})


@dataclass(frozen=True, slots=True)
class NumberQuery:
    usage_types: frozenset[UsageType] = frozenset()
    status: NumberStatus | None = None

    def matches(self, number: PhoneNumber) -> bool:
        if self.usage_types and number.usage_type not in self.usage_types:
            return False
        return self.status in (None, NumberStatus.NORMAL)


def visible_to(caller: Caller, number: PhoneNumber) -> bool:
    """facts §11: admins see every number of the account; others their own numbers, and of the
    rest only direct numbers and the main number."""
    if caller.is_admin or number.extension_id == caller.extension_id:
        return True
    return number.usage_type in _PUBLIC_USAGE


def service_features(extension: Extension) -> list[tuple[ServiceFeature, bool]]:
    """R2 (who receives) and R5-R7 (who sends) as the extension's own feature flags."""
    return [
        (ServiceFeature.SMS, sending.may_send(extension, MessageType.SMS)),
        (ServiceFeature.SMS_RECEIVING, receives(extension.type, MessageType.SMS)),
        (ServiceFeature.PAGER, sending.may_send(extension, MessageType.PAGER)),
        (ServiceFeature.PAGER_RECEIVING, receives(extension.type, MessageType.PAGER)),
    ]


def split_name(name: str) -> tuple[str, str]:
    """ringlet keeps one `name`; RingCentral's contact has first and last names. The first
    word is the first name, the rest the last name."""
    first, _, last = name.partition(" ")
    return first, last
