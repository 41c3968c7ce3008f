"""The one door to the handoff: every change is stored, then announced to whoever watches.

Routes, the chat service and the CLI go through ``HandoffDesk``; none of them
touches the store or the hub directly. Office hours are decided here only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from api.db.models import AuditEntry, Ticket, User, utcnow
from api.handoff import texts
from api.handoff.config import HandoffConfig
from api.handoff.hub import QUEUE, Hub, conversation_topic
from api.handoff.store import (
    Buttons,
    EarlierMessage,
    HandoffStore,
    QueueItem,
    Replay,
    Status,
    StoredMessage,
    TurnRecord,
)
from api.kinds import DeskState, FinishHow, HandoffReason, HandoffState, Sender, TicketStatus
from api.privacy import mask_pii

if TYPE_CHECKING:
    from api.ops.metrics import DeskSnapshot, Metrics

log = logging.getLogger("minwon.handoff")
RESIDENT_EVENT_SENDERS = (Sender.OFFICER, Sender.SYSTEM)
# A retry waiting for its first try's answer on another process reads the database this often: plain
# polling, because the answer is marked after the replies' wake-up and a retry is rare.
REPLAY_POLL_SECONDS = 0.2


class HandoffDesk:
    def __init__(
        self, store: HandoffStore, config: HandoffConfig, hub: Hub | None = None, metrics: Metrics | None = None
    ) -> None:
        self._store = store
        self.config = config
        self._hub = hub or Hub()
        self.metrics = metrics

    def _announce(self, conversation_id: str, queue: bool = True) -> None:
        topics = [conversation_topic(conversation_id)]
        if queue:
            topics.append(QUEUE)
        self._hub.publish(*topics)

    # ---- office hours (the only place that decides them) ----
    def is_open(self) -> bool:
        return self.config.hours.is_open()

    def hours_text(self) -> str:
        return self.config.hours.describe()

    def public_status(self, status: Status) -> dict[str, Any]:
        return status.public(self.config.minutes_per_resident)

    # ---- resident side ----
    async def record(
        self,
        conversation_id: str,
        sender: Sender,
        text: str,
        buttons: Buttons | None = None,
        queue_changed: bool = False,
    ) -> StoredMessage:
        """Store one message and wake its watchers (and the queue's, when the queue changed with it)."""
        message = await asyncio.to_thread(self._store.add_message, conversation_id, sender, text, buttons)
        self._announce(conversation_id, queue=queue_changed or sender is Sender.RESIDENT)
        return message

    async def record_resident(
        self, conversation_id: str, text: str, client_id: str | None = None
    ) -> tuple[StoredMessage, Status]:
        """Store the resident's message; returns it and the handoff status that decides who answers.

        Raises AlreadyStored if another try of the same widget message (``client_id``) stored it first."""
        message, status = await asyncio.to_thread(self._store.add_resident_message, conversation_id, text, client_id)
        self._announce(conversation_id, queue=status.state is DeskState.WAITING)
        return message, status

    async def earlier_message(self, conversation_id: str, client_id: str) -> EarlierMessage | None:
        return await asyncio.to_thread(self._store.earlier_message, conversation_id, client_id)

    async def record_replay(self, conversation_id: str, client_id: str, replay: Replay) -> None:
        """Keep how this message was answered, for its retries on any api process."""
        await asyncio.to_thread(self._store.record_replay, conversation_id, client_id, replay)

    async def wait_for_replay(self, conversation_id: str, client_id: str, timeout: float) -> Replay | None:
        """The answer another try of this message stores (whichever process runs it); None after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            earlier = await self.earlier_message(conversation_id, client_id)
            if earlier is not None and earlier.replay is not None:
                return earlier.replay
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await asyncio.sleep(min(REPLAY_POLL_SECONDS, remaining))

    async def record_bot_turn(
        self,
        conversation_id: str,
        replies: list[tuple[str, Buttons | None]],
        context: dict[str, Any] | None,
        turn: TurnRecord | None = None,
        resident_message_id: int | None = None,
        replay: Replay | None = None,
    ) -> list[StoredMessage]:
        """The bot's replies, what it tried and how the resident's turn ended (and, given ``replay``, the
        answer for the message's retries), in one transaction."""
        stored = await asyncio.to_thread(
            self._store.add_bot_turn, conversation_id, replies, context, turn, resident_message_id, replay
        )
        if stored:
            self._announce(conversation_id, queue=False)
        return stored

    async def record_turn(self, conversation_id: str, resident_message_id: int | None, turn: TurnRecord) -> None:
        await asyncio.to_thread(self._store.record_turn, conversation_id, resident_message_id, turn)

    async def vote(self, conversation_id: str, helpful: bool, answer: str, channel: str) -> int:
        """A resident's helpfulness vote (masked answer excerpt), kept with the conversation."""
        return await asyncio.to_thread(self._store.add_vote, conversation_id, helpful, mask_pii(answer[:300]), channel)

    async def notice(self, conversation_id: str, text: str, buttons: Buttons | None = None) -> StoredMessage:
        """A system message in the conversation (closed desk, Rasa down, ticket received …)."""
        return await self.record(conversation_id, Sender.SYSTEM, text, buttons)

    async def latest_message_id(self, conversation_id: str) -> int:
        return await asyncio.to_thread(self._store.latest_message_id, conversation_id)

    async def resident_messages(self, conversation_id: str) -> list[StoredMessage]:
        return await asyncio.to_thread(self._store.messages, conversation_id, 0, (Sender.RESIDENT,))

    async def status(self, conversation_id: str) -> Status:
        return await asyncio.to_thread(self._store.status, conversation_id)

    async def request(
        self, conversation_id: str, reason: HandoffReason = HandoffReason.RESIDENT
    ) -> tuple[Status, list[StoredMessage]]:
        """Queue for an officer in office hours; otherwise offer a callback request."""
        if not self.is_open():
            await asyncio.to_thread(self._store.record_closed_request, conversation_id, reason)
            notice = texts.CLOSED.format(hours=self.hours_text())
            message = await self.notice(conversation_id, notice, [texts.BUTTON_CALLBACK])
            return await self.status(conversation_id), [message]
        status, created = await asyncio.to_thread(self._store.request, conversation_id, reason)
        if created and self.metrics is not None:
            self.metrics.handoff("requested")
        buttons: Buttons | None
        if status.state is DeskState.ACTIVE:
            text, buttons = texts.ALREADY_ACTIVE.format(officer=status.officer), None
        elif created:
            minutes = (status.position or 1) * self.config.minutes_per_resident
            text, buttons = texts.QUEUED.format(position=status.position, minutes=minutes), [texts.BUTTON_CANCEL]
        else:
            text, buttons = texts.ALREADY_WAITING.format(position=status.position), [texts.BUTTON_CANCEL]
        message = await self.record(conversation_id, Sender.SYSTEM, text, buttons, queue_changed=True)
        return status, [message]

    def unavailable_buttons(self) -> Buttons:
        """What a resident can do when the bot cannot answer: a person in hours, a callback otherwise."""
        return [texts.BUTTON_HANDOFF if self.is_open() else texts.BUTTON_CALLBACK]

    async def cancel(self, conversation_id: str) -> tuple[Status, list[StoredMessage]]:
        cancelled = await asyncio.to_thread(self._store.cancel, conversation_id)
        if cancelled is None:
            return await self.status(conversation_id), []
        message = await self.record(conversation_id, Sender.SYSTEM, texts.CANCELLED, queue_changed=True)
        return Status(), [message]

    async def wait_for_messages(
        self, conversation_id: str, after: int, timeout: float, senders: tuple[Sender, ...] | None = None
    ) -> list[StoredMessage]:
        """Messages after ``after`` (long poll): waits up to ``timeout`` s for the first one."""
        subscription = self._hub.subscribe(conversation_topic(conversation_id))
        try:
            messages = await asyncio.to_thread(self._store.messages, conversation_id, after, senders)
            if not messages and timeout > 0 and await subscription.wait(timeout):
                messages = await asyncio.to_thread(self._store.messages, conversation_id, after, senders)
        finally:
            subscription.close()
        return messages

    async def events(self, conversation_id: str, after: int, timeout: float) -> tuple[list[StoredMessage], Status]:
        """What the resident's widget receives: officer and system messages, then the handoff status."""
        messages = await self.wait_for_messages(conversation_id, after, timeout, RESIDENT_EVENT_SENDERS)
        return messages, await self.status(conversation_id)

    async def create_ticket(
        self, conversation_id: str | None, name: str, phone: str, preferred_time: str, question: str
    ) -> int:
        ticket_id = await asyncio.to_thread(
            self._store.create_ticket, conversation_id, name, phone, preferred_time, question, texts.CONSENT_VERSION
        )
        self._hub.publish(QUEUE)
        return ticket_id

    # ---- officer side ----
    def queue_version(self) -> int:
        return self._hub.version(QUEUE)

    async def wait_for_queue(self, since: int, timeout: float) -> int:
        """Long poll: returns the queue version once it is newer than ``since`` (or after ``timeout``)."""
        subscription = self._hub.subscribe(QUEUE)
        try:
            if timeout > 0 and since >= self._hub.version(QUEUE):
                await subscription.wait(timeout)
        finally:
            subscription.close()
        return self._hub.version(QUEUE)

    async def queue(self) -> list[QueueItem]:
        return await asyncio.to_thread(self._store.queue)

    async def new_ticket_count(self) -> int:
        return await asyncio.to_thread(self._store.count_tickets, TicketStatus.NEW)

    async def handoff(self, handoff_id: int) -> QueueItem | None:
        return await asyncio.to_thread(self._store.handoff, handoff_id)

    async def accept(self, handoff_id: int, officer: User) -> str | None:
        """The conversation id if this officer now owns it; None if someone else was first."""
        if not await asyncio.to_thread(self._store.accept, handoff_id, officer):
            return None
        item = await self.handoff(handoff_id)
        assert item is not None
        if self.metrics is not None:
            self.metrics.accepted((utcnow() - item.requested_at).total_seconds())
        joined = texts.OFFICER_JOINED.format(officer=officer.display_name)
        await self.record(item.conversation_id, Sender.SYSTEM, joined, queue_changed=True)
        return item.conversation_id

    async def officer_message(self, handoff_id: int, officer: User, text: str) -> StoredMessage:
        conversation_id, message = await asyncio.to_thread(self._store.officer_message, handoff_id, officer, text)
        self._announce(conversation_id, queue=False)
        return message

    async def finish(self, handoff_id: int, officer: User, how: FinishHow) -> None:
        closing = texts.OFFICER_RETURNED if how == "returned" else texts.OFFICER_ENDED
        conversation_id, _ = await asyncio.to_thread(self._store.finish, handoff_id, officer, closing, how)
        self._announce(conversation_id)

    async def tickets(self, status: TicketStatus | None = None) -> list[Ticket]:
        return await asyncio.to_thread(self._store.tickets, status)

    async def update_ticket(self, ticket_id: int, officer: User, status: TicketStatus, notes: str) -> Ticket:
        ticket = await asyncio.to_thread(self._store.update_ticket, ticket_id, officer, status, notes)
        self._hub.publish(QUEUE)  # the queue page shows the count of new tickets
        return ticket

    async def audit_log(self, limit: int = 300) -> list[AuditEntry]:
        return await asyncio.to_thread(self._store.audit_log, limit)

    def snapshot(self) -> DeskSnapshot:
        """The queue right now, for a metrics scrape (called from the scrape thread, so not async)."""
        from api.ops.metrics import DeskSnapshot

        items = self._store.queue()
        waiting = [item for item in items if item.state is HandoffState.WAITING]
        oldest = min((item.requested_at for item in waiting), default=None)
        return DeskSnapshot(
            waiting=len(waiting),
            active=sum(1 for item in items if item.state is HandoffState.ACTIVE),
            oldest_wait_seconds=(utcnow() - oldest).total_seconds() if oldest else 0.0,
            new_tickets=self._store.count_tickets(TicketStatus.NEW),
        )

    # ---- housekeeping ----
    async def sweep(self) -> int:
        """Turn requests nobody accepted in time into a callback offer."""
        expired = await asyncio.to_thread(self._store.expire_waiting, self.config.wait_timeout)
        if expired and self.metrics is not None:
            self.metrics.handoff("timed_out", len(expired))
        for conversation_id in expired:
            await self.record(
                conversation_id, Sender.SYSTEM, texts.TIMED_OUT, [texts.BUTTON_CALLBACK], queue_changed=True
            )
        return len(expired)

    async def run_sweeper(self, every: float = 5.0) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # a database hiccup must not end the sweeper for good
                log.exception("handoff sweep failed")
            await asyncio.sleep(every)

    def purge(self, ticket_days: int, conversation_days: int, dry_run: bool = False) -> dict[str, int]:
        """Retention (``minwon purge``): tickets and idle conversations past their periods."""
        return self._store.purge(ticket_days, conversation_days, dry_run)
