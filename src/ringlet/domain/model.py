"""The entities of the messaging model as plain, immutable objects."""

from __future__ import annotations

from dataclasses import dataclass, field

from ringlet.domain.enums import (
    AppPermission,
    Availability,
    Direction,
    ExtensionStatus,
    ExtensionType,
    MessageStatus,
    MessageType,
    PhoneNumberFeature,
    ReadStatus,
    UsageType,
)


@dataclass(frozen=True, slots=True)
class App:
    """An OAuth client application."""

    id: int
    client_id: str
    name: str
    permissions: frozenset[AppPermission]


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str
    main_number: str | None
    operator_extension_number: str
    country: str = "US"  # where its numbers are read (domain/phone_numbers.py)


# R8, R9: extensions in these states neither receive nor are reached; they cannot log in.
INACTIVE_STATUSES = frozenset({ExtensionStatus.DISABLED, ExtensionStatus.FROZEN})


@dataclass(frozen=True, slots=True)
class Extension:
    id: int
    account_id: int
    extension_number: str
    type: ExtensionType
    status: ExtensionStatus
    name: str
    email: str | None = None
    admin: bool = False

    @property
    def is_active(self) -> bool:
        """Disabled and Frozen extensions neither receive nor are reached (R8, R9)."""
        return self.status not in INACTIVE_STATUSES


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    id: int
    account_id: int
    extension_id: int | None
    phone_number: str
    usage_type: UsageType
    features: frozenset[PhoneNumberFeature] = frozenset()


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the token's extension and the app it logged in through."""

    account_id: int
    extension_id: int
    app_id: int
    app_permissions: frozenset[AppPermission]
    is_admin: bool
    country: str = "US"  # the account's: where the numbers it writes are read


@dataclass(frozen=True, slots=True)
class Party:
    """One end of a message: `from`, or an entry of `to`."""

    phone_number: str | None = None
    extension_number: str | None = None
    extension_id: int | None = None
    name: str | None = None
    target: bool | None = None
    message_status: MessageStatus | None = None


@dataclass(frozen=True, slots=True)
class NewMessage:
    """One copy of a message to be stored in one extension's message store (R11)."""

    account_id: int
    extension_id: int
    type: MessageType
    direction: Direction
    sender: Party
    recipients: tuple[Party, ...]
    subject: str
    conversation_id: int
    message_status: MessageStatus
    read_status: ReadStatus
    pg_to_department: bool | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A stored copy of a message, as one extension's message store holds it."""

    id: int
    account_id: int
    extension_id: int
    type: MessageType
    direction: Direction
    sender: Party
    recipients: tuple[Party, ...]
    subject: str
    conversation_id: int
    message_status: MessageStatus
    read_status: ReadStatus
    availability: Availability
    creation_time_ms: int
    last_modified_ms: int
    pg_to_department: bool | None = None
    # SMS to a handset: the carrier's error code, and when its delivery receipt came.
    delivery_error_code: str | None = None
    sms_delivery_ms: int | None = None


@dataclass(frozen=True, slots=True)
class PagerThread:
    """A Pager conversation (R12): who started it and whom it was addressed to."""

    conversation_id: int
    account_id: int
    member_extension_ids: frozenset[int]
    department_ids: frozenset[int] = field(default_factory=frozenset)
