"""How a message's parties are kept: `messages.parties`, one compact JSON document (single-letter
keys) with the sender and the recipients, from which a stored message is read back whole."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from ringlet.domain.enums import Direction, MessageStatus, MessageType
from ringlet.domain.model import Party


class _StoredParty(msgspec.Struct, omit_defaults=True):
    p: str | None = None  # phone number
    n: str | None = None  # extension number
    i: int | None = None  # extension id
    m: str | None = None  # name
    t: bool | None = None  # target
    s: str | None = None  # message status


class _StoredParties(msgspec.Struct):
    f: _StoredParty
    to: list[_StoredParty]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_StoredParties)


def _store_party(p: Party) -> _StoredParty:
    return _StoredParty(
        p=p.phone_number,
        n=p.extension_number,
        i=p.extension_id,
        m=p.name,
        t=p.target,
        s=None if p.message_status is None else p.message_status.value,
    )


def _load_party(s: _StoredParty) -> Party:
    return Party(
        phone_number=s.p,
        extension_number=s.n,
        extension_id=s.i,
        name=s.m,
        target=s.t,
        message_status=None if s.s is None else MessageStatus(s.s),
    )


def encode_parties(sender: Party, recipients: Sequence[Party]) -> str:
    stored = _StoredParties(_store_party(sender), [_store_party(r) for r in recipients])
    return _encoder.encode(stored).decode()


def decode_parties(text: str) -> tuple[Party, tuple[Party, ...]]:
    """The sender and recipients kept in `messages.parties`."""
    parties = _decoder.decode(text)
    return _load_party(parties.f), tuple(_load_party(p) for p in parties.to)


@dataclass(frozen=True, slots=True)
class StoredFixedPart:
    """The columns a record's fixed part is rendered from (message_json.FixedPart), for rows
    read back as they are stored (migration 0002 fills `fixed_json` with it)."""

    type: MessageType
    direction: Direction
    sender: Party
    recipients: tuple[Party, ...]
    conversation_id: int
    pg_to_department: bool | None

    @classmethod
    def of_row(
        cls,
        type_: str,
        direction: str,
        parties: str,
        conversation_id: int,
        pg_to_department: bool | None,
    ) -> StoredFixedPart:
        sender, recipients = decode_parties(parties)
        return cls(
            MessageType(type_),
            Direction(direction),
            sender,
            recipients,
            conversation_id,
            None if pg_to_department is None else bool(pg_to_department),
        )
