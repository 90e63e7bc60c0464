"""R2, R4, R8-R10: who receives a message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from ringlet.domain.enums import ExtensionType, MessageType
from ringlet.domain.errors import PagerTargetNotFound, PagerToInactiveExtension
from ringlet.domain.model import Extension

_RECEIVERS: dict[MessageType, frozenset[ExtensionType]] = {
    # R2
    MessageType.SMS: frozenset({ExtensionType.USER, ExtensionType.VOICEMAIL}),
    MessageType.PAGER: frozenset(
        {ExtensionType.USER, ExtensionType.VOICEMAIL, ExtensionType.DEPARTMENT}
    ),
}


def receives(extension_type: ExtensionType, message_type: MessageType) -> bool:
    """R2: SMS reaches User and Voicemail; Pager also Department; other types neither."""
    return extension_type in _RECEIVERS[message_type]


# RingCentral's words when bulk-assign is asked to put a Department into a department.
DEPARTMENT_IN_DEPARTMENT = "Extension of type [Department] cannot be included into call queue"


def can_join_department(extension_type: ExtensionType) -> bool:
    """R10 fans a Pager to a Department out to its members, one level: a Department is never
    a member of a department (bulk-assign and fixture files alike)."""
    return extension_type is not ExtensionType.DEPARTMENT


class SmsRoute(Enum):
    DELIVER = "deliver"  # into an extension's message store on this server (R4)
    CARRIER = "carrier"  # to a handset off this server (R4)
    DROP = "drop"  # kept only as the sender's outbound copy (R8, R2)


def route_sms(owner: Extension | None) -> SmsRoute:
    """Where an SMS to a number goes, given the extension that owns the number, if any."""
    if owner is None:
        return SmsRoute.CARRIER
    if not owner.is_active:  # R8: dropped silently, no error
        return SmsRoute.DROP
    if not receives(owner.type, MessageType.SMS):  # R2
        return SmsRoute.DROP
    return SmsRoute.DELIVER


def route_sms_from_handset(owner: Extension) -> SmsRoute:
    """An SMS from a handset to a number on this server: as `route_sms`, except that a
    Department receives it in its own store. R7 gives a Department numbers to send SMS from; the
    handsets' replies to them come back to it (RingCentral's call-queue SMS inbox)."""
    if owner.is_active and owner.type is ExtensionType.DEPARTMENT:
        return SmsRoute.DELIVER
    return route_sms(owner)


@dataclass(frozen=True, slots=True)
class PagerRecipient:
    extension: Extension
    via_department: bool


@dataclass(frozen=True, slots=True)
class PagerPlan:
    """Who gets an inbound copy, and which departments the message was addressed to."""

    recipients: tuple[PagerRecipient, ...]
    department_ids: frozenset[int]

    @property
    def to_department(self) -> bool:
        return bool(self.department_ids)


def check_pager_target(target: Extension) -> None:
    """R2 and R9 for an extension named explicitly in `to`."""
    if not receives(target.type, MessageType.PAGER):
        raise PagerTargetNotFound(
            target.extension_number,
            f"Extension of type {target.type.value} cannot receive pager messages",
        )
    if not target.is_active:
        raise PagerToInactiveExtension(target.extension_number, target.status.value)


def plan_pager(
    sender: Extension,
    targets: Sequence[Extension],
    department_members: Mapping[int, Sequence[Extension]],
    *,
    implicit: Sequence[Extension] = (),
) -> PagerPlan:
    """R9, R10: the inbound copies of a Pager message.

    `targets` are the extensions named in `to`: any Disabled/Frozen one refuses the whole
    message (R9). A Department target fans out to its active members (R10). `implicit` are
    members of a thread a reply goes to without naming them: inactive ones are skipped, not
    refused. The sender never receives an inbound copy of its own message.
    """
    for target in targets:
        check_pager_target(target)
    chosen: dict[int, PagerRecipient] = {}
    departments: set[int] = set()

    def add(extension: Extension, via_department: bool) -> None:
        if extension.id == sender.id or not extension.is_active:
            return
        if not receives(extension.type, MessageType.PAGER):
            return
        known = chosen.get(extension.id)
        if known is None or (via_department and not known.via_department):
            chosen[extension.id] = PagerRecipient(extension, via_department)

    for target in [*targets, *implicit]:
        if target.type is ExtensionType.DEPARTMENT:
            departments.add(target.id)
            for member in department_members.get(target.id, ()):
                add(member, True)
        else:
            add(target, False)
    return PagerPlan(tuple(chosen.values()), frozenset(departments))
