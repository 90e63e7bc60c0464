"""Sending SMS and Pager messages: each send is one transaction that stores the sender's
copy and every recipient's copy, or nothing (R11)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from ringlet.clock import Clock
from ringlet.domain.enums import (
    Availability,
    Direction,
    ExtensionType,
    MessageStatus,
    MessageType,
    ReadStatus,
)
from ringlet.domain.errors import (
    InvalidParameter,
    PagerRecipientMismatch,
    PagerSenderIdMismatch,
    PagerSenderNumberMismatch,
    PagerTargetNotFound,
    ResourceNotFound,
)
from ringlet.domain.model import Extension, Message, NewMessage, Party
from ringlet.domain.phone_numbers import normalize_recipient, parse_number
from ringlet.domain.recipients import SmsRoute, plan_pager, route_sms
from ringlet.domain.sending import check_pager_sender, check_sms_sender
from ringlet.domain.text import check_text
from ringlet.domain.threads import (
    check_reply_allowed,
    new_pager_conversation_id,
    sms_conversation_id,
)
from ringlet.store import carrier, directory, messages, threads
from ringlet.store.cache import Caches
from ringlet.store.database import Database

# R4: peer to peer. More than one recipient is group messaging, which ringlet does not do;
# RingCentral caps group messages at 10 recipients (MSG-381).
_GROUP_LIMIT = 10


@dataclass(frozen=True, slots=True)
class SendSms:
    from_number: str | None
    to_numbers: Sequence[str | None]
    text: str


@dataclass(frozen=True, slots=True)
class ExtensionRef:
    """A Pager address as the request gives it: an extension number, an id, or both."""

    extension_number: str | None = None
    extension_id: int | None = None


@dataclass(frozen=True, slots=True)
class SendPager:
    sender: ExtensionRef | None
    to: Sequence[ExtensionRef]
    text: str
    reply_on: int | None = None


def _extension_party(extension: Extension) -> Party:
    return Party(
        extension_number=extension.extension_number,
        extension_id=extension.id,
        name=extension.name,
    )


def _stored(copy: NewMessage, message_id: int, now_ms: int) -> Message:
    return Message(
        id=message_id,
        account_id=copy.account_id,
        extension_id=copy.extension_id,
        type=copy.type,
        direction=copy.direction,
        sender=copy.sender,
        recipients=copy.recipients,
        subject=copy.subject,
        conversation_id=copy.conversation_id,
        message_status=copy.message_status,
        read_status=copy.read_status,
        availability=Availability.ALIVE,
        creation_time_ms=now_ms,
        last_modified_ms=now_ms,
        pg_to_department=copy.pg_to_department,
    )


class MessagingService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        caches: Caches | None = None,
        new_conversation_id: Callable[[], int] = new_pager_conversation_id,
        carrier_delay_ms: int = 0,
        carrier_wakeup: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.clock = clock
        # An SMS to a handset waits this long for the carrier (Queued), then is handed on.
        self.carrier_delay_ms = carrier_delay_ms
        # Called after a send recorded an SMS for the carrier: the worker need not wait for
        # its next look at the outbox.
        self.carrier_wakeup = carrier_wakeup
        # Directory lookups of the send path, memoised (see store/cache.py for freshness).
        self.caches = caches or Caches(clock)
        self.new_conversation_id = new_conversation_id

    def _sender(self, conn: Connection, account_id: int, extension_id: int) -> Extension:
        sender = self.caches.extension(conn, account_id, extension_id)
        if sender is None:
            raise ResourceNotFound("extensionId", str(extension_id))
        return sender

    def _save(self, conn: Connection, copies: list[NewMessage]) -> Message:
        now_ms = self.clock()
        ids = messages.insert_messages(conn, copies, now_ms)
        return _stored(copies[0], ids[0], now_ms)

    def _queue_for_carrier(self, conn: Connection, sent: Message, to_number: str) -> None:
        """R4: an SMS to a handset. The transaction only records it (the carrier outbox); the
        carrier worker hands it on after the carrier delay (carrier/worker.py)."""
        assert sent.sender.phone_number is not None
        carrier.enqueue(
            conn,
            account_id=sent.account_id,
            extension_id=sent.extension_id,
            message_id=sent.id,
            from_number=sent.sender.phone_number,
            to_number=to_number,
            text=sent.subject,
            due_ms=sent.creation_time_ms + self.carrier_delay_ms,
        )

    # -- SMS ------------------------------------------------------------------------------------

    async def send_sms(self, account_id: int, extension_id: int, cmd: SendSms) -> Message:
        """R3-R6, R8, R11, R13. Returns the sender's copy."""
        check_text(cmd.text, MessageType.SMS)
        raw_from = cmd.from_number
        if raw_from is None:
            raise InvalidParameter("from.phoneNumber", "the sending number is required")
        if not cmd.to_numbers:
            raise InvalidParameter("to", "one recipient is required")
        if len(cmd.to_numbers) > _GROUP_LIMIT:
            raise InvalidParameter(
                "to", f"Exceeded maximum number of recipients for a Group MMS: [{_GROUP_LIMIT}]"
            )
        if len(cmd.to_numbers) > 1:
            raise InvalidParameter("to", "SMS is peer to peer: send one message per recipient")
        raw_to = cmd.to_numbers[0]
        if raw_to is None:
            raise InvalidParameter("to.phoneNumber", "the recipient number is required")

        queued_for_carrier = False

        def work(conn: Connection) -> Message:
            nonlocal queued_for_carrier
            sender = self._sender(conn, account_id, extension_id)
            account = self.caches.account(conn, account_id)
            assert account is not None
            # Both numbers are read in the account's country (domain/phone_numbers.py).
            from_number = parse_number(raw_from, "from.phoneNumber", account.country)
            numbers = self.caches.numbers_held_by(conn, account_id, extension_id)
            check_sms_sender(sender, account, from_number, numbers)
            to_number = normalize_recipient(
                raw_to,
                lambda n: n in self.caches.extension_numbers(conn, account_id),
                account.country,
            )
            owner = self.caches.number_owner(conn, to_number)
            recipient = owner.extension if owner else None
            route = route_sms(recipient)
            conversation_id = sms_conversation_id(from_number, to_number)
            sender_party = Party(phone_number=from_number, name=sender.name)
            to_party = Party(phone_number=to_number, name=recipient.name if recipient else None)

            to_handset = route is SmsRoute.CARRIER
            # R11: the status at the moment of the response. On this server, and with no
            # carrier delay, the message is handed on at once: Sent; a handset's SMS waits for
            # the carrier for the delay: Queued.
            queued = to_handset and self.carrier_delay_ms > 0
            outbound_status = MessageStatus.QUEUED if queued else MessageStatus.SENT

            def copy(owner_ext: Extension, direction: Direction) -> NewMessage:
                outbound = direction is Direction.OUTBOUND
                return NewMessage(
                    account_id=owner_ext.account_id,
                    extension_id=owner_ext.id,
                    type=MessageType.SMS,
                    direction=direction,
                    sender=sender_party,
                    recipients=(to_party,),
                    subject=cmd.text,
                    conversation_id=conversation_id,
                    message_status=outbound_status if outbound else MessageStatus.RECEIVED,
                    read_status=ReadStatus.READ if outbound else ReadStatus.UNREAD,
                )

            copies = [copy(sender, Direction.OUTBOUND)]
            if route is SmsRoute.DELIVER and recipient is not None:
                copies.append(copy(recipient, Direction.INBOUND))
            sent = self._save(conn, copies)
            if to_handset:
                self._queue_for_carrier(conn, sent, to_number)
                queued_for_carrier = True
            return sent

        sent = await self.db.write(work)
        if queued_for_carrier:
            self.carrier_wakeup()
        return sent

    # -- Pager ----------------------------------------------------------------------------------

    async def send_pager(self, account_id: int, extension_id: int, cmd: SendPager) -> Message:
        """R3, R7, R9-R12. Returns the sender's copy."""
        check_text(cmd.text, MessageType.PAGER)
        for index, ref in enumerate(cmd.to):
            if ref.extension_number is None and ref.extension_id is None:
                raise InvalidParameter(
                    "to", f"recipient {index + 1} names neither extensionNumber nor extensionId"
                )
        if not cmd.to and cmd.reply_on is None:
            raise InvalidParameter("to", "at least one recipient is required")

        def work(conn: Connection) -> Message:
            sender = self._sender(conn, account_id, extension_id)
            check_pager_sender(sender)
            if cmd.sender is not None:
                self._check_from(sender, cmd.sender)
            targets = self._resolve_targets(conn, account_id, cmd.to)
            thread = None
            implicit: list[Extension] = []
            if cmd.reply_on is not None:
                conversation = messages.conversation_of_message(conn, account_id, cmd.reply_on)
                thread = (
                    None if conversation is None else threads.thread(conn, account_id, conversation)
                )
                if thread is None:
                    raise ResourceNotFound("replyOn", str(cmd.reply_on))
                current = self.caches.department_members(conn, account_id, thread.department_ids)
                member_ids = {e.id for members in current.values() for e in members}
                check_reply_allowed(sender.id, thread, member_ids)  # R12
                implicit = list(
                    directory.extensions_by_ids(
                        conn,
                        account_id,
                        (thread.member_extension_ids | thread.department_ids) - {sender.id},
                    ).values()
                )
            departments = [
                e.id for e in [*targets, *implicit] if e.type is ExtensionType.DEPARTMENT
            ]
            plan = plan_pager(
                sender,
                targets,
                self.caches.department_members(conn, account_id, departments),
                implicit=implicit,
            )
            explicit_ids = {e.id for e in targets if e.id not in plan.department_ids}
            if thread is None:
                conversation_id = self.new_conversation_id()
                threads.create_thread(
                    conn,
                    account_id,
                    conversation_id,
                    {sender.id} | explicit_ids,
                    plan.department_ids,
                )
            else:
                conversation_id = thread.conversation_id
                threads.add_thread_members(
                    conn, conversation_id, explicit_ids, plan.department_ids, thread
                )
            # R10: `to` lists the sender and everyone addressed (departments as themselves).
            addressed = [sender, *(e for e in [*targets, *implicit] if e.id != sender.id)]
            seen: set[int] = set()
            to_parties = []
            for ext in addressed:
                if ext.id not in seen:
                    seen.add(ext.id)
                    to_parties.append(_extension_party(ext))
            sender_party = _extension_party(sender)
            # One tuple shared by every copy: a fan-out's copies are then alike but for their
            # store, and encoded once (store/messages.py).
            recipients = tuple(to_parties)

            def copy(owner: Extension, inbound: bool, via_department: bool) -> NewMessage:
                return NewMessage(
                    account_id=account_id,
                    extension_id=owner.id,
                    type=MessageType.PAGER,
                    direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                    sender=sender_party,
                    recipients=recipients,
                    subject=cmd.text,
                    conversation_id=conversation_id,
                    message_status=MessageStatus.RECEIVED if inbound else MessageStatus.SENT,
                    read_status=ReadStatus.UNREAD if inbound else ReadStatus.READ,
                    pg_to_department=via_department,
                )

            copies = [copy(sender, False, plan.to_department)]
            copies.extend(copy(r.extension, True, r.via_department) for r in plan.recipients)
            return self._save(conn, copies)

        return await self.db.write(work)

    @staticmethod
    def _check_from(sender: Extension, ref: ExtensionRef) -> None:
        """`from` is optional; when given it must be the caller's own extension."""
        if ref.extension_number is not None and ref.extension_number != sender.extension_number:
            raise PagerSenderNumberMismatch(ref.extension_number)
        if ref.extension_id is not None and ref.extension_id != sender.id:
            raise PagerSenderIdMismatch(str(ref.extension_id))

    @staticmethod
    def _resolve_targets(
        conn: Connection, account_id: int, refs: Sequence[ExtensionRef]
    ) -> list[Extension]:
        """R10: recipients by extensionNumber or extensionId, in request order, once each."""
        by_number = directory.extensions_by_numbers(
            conn, account_id, [r.extension_number for r in refs if r.extension_number]
        )
        ids = [r.extension_id for r in refs if r.extension_id is not None]
        by_id = directory.extensions_by_ids(conn, account_id, ids)
        targets: dict[int, Extension] = {}
        for ref in refs:
            found_by_number = by_number.get(ref.extension_number or "")
            found_by_id = None
            if ref.extension_id is not None:
                found_by_id = by_id.get(ref.extension_id)
                if found_by_id is None:
                    raise PagerTargetNotFound(str(ref.extension_id))
            if ref.extension_number is not None and found_by_number is None:
                raise PagerTargetNotFound(ref.extension_number)
            if found_by_id and found_by_number and found_by_id.id != found_by_number.id:
                raise PagerRecipientMismatch()
            target = found_by_id or found_by_number
            assert target is not None
            targets.setdefault(target.id, target)
        return list(targets.values())
