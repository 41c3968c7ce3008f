"""The async face of the handoff: every change is stored, then announced to whoever watches."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from api.db.models import User
from api.handoff import texts
from api.handoff.config import HandoffConfig
from api.handoff.hub import QUEUE, Hub, conversation_topic
from api.handoff.store import HandoffStore, Status, StoredMessage

log = logging.getLogger("minwon.handoff")
RESIDENT_EVENT_SENDERS = ("officer", "system")


class HandoffDesk:
    def __init__(self, store: HandoffStore, config: HandoffConfig, hub: Hub | None = None) -> None:
        self.store = store
        self.config = config
        self.hub = hub or Hub()

    def _announce(self, conversation_id: str, queue: bool = True) -> None:
        topics = [conversation_topic(conversation_id)]
        if queue:
            topics.append(QUEUE)
        self.hub.publish(*topics)

    def public_status(self, status: Status) -> dict[str, Any]:
        return status.public(self.config.minutes_per_resident)

    # ---- resident side ----
    async def record(
        self,
        conversation_id: str,
        sender: str,
        text: str,
        buttons: list[dict[str, str]] | None = None,
        queue_changed: bool = False,
    ) -> StoredMessage:
        """Store one message and wake its watchers (and the queue's, when the queue changed with it)."""
        message = await asyncio.to_thread(self.store.add_message, conversation_id, sender, text, buttons)
        self._announce(conversation_id, queue=queue_changed or sender == "resident")
        return message

    async def record_resident(self, conversation_id: str, text: str) -> Status:
        """Store the resident's message; returns the handoff status that decides who answers."""
        _, status = await asyncio.to_thread(self.store.add_resident_message, conversation_id, text)
        self._announce(conversation_id, queue=status.state == "waiting")
        return status

    async def record_bot_replies(
        self, conversation_id: str, replies: list[tuple[str, list[dict[str, str]] | None]]
    ) -> list[StoredMessage]:
        if not replies:
            return []
        stored = await asyncio.to_thread(self.store.add_messages, conversation_id, "bot", replies)
        self._announce(conversation_id, queue=False)
        return stored

    async def set_bot_context(self, conversation_id: str, context: dict[str, Any]) -> None:
        await asyncio.to_thread(self.store.set_bot_context, conversation_id, context)

    async def latest_message_id(self, conversation_id: str) -> int:
        return await asyncio.to_thread(self.store.latest_message_id, conversation_id)

    async def resident_messages(self, conversation_id: str) -> list[StoredMessage]:
        return await asyncio.to_thread(self.store.messages, conversation_id, 0, ("resident",))

    async def status(self, conversation_id: str) -> Status:
        return await asyncio.to_thread(self.store.status, conversation_id)

    async def request(self, conversation_id: str, reason: str = "resident") -> tuple[Status, list[StoredMessage]]:
        """Queue for an officer in office hours; otherwise offer a callback request."""
        if not self.config.hours.is_open():
            notice = texts.CLOSED.format(hours=self.config.hours.describe())
            message = await self.record(conversation_id, "system", notice, [texts.BUTTON_CALLBACK])
            return await self.status(conversation_id), [message]
        status, created = await asyncio.to_thread(self.store.request, conversation_id, reason)
        if status.state == "active":
            text, buttons = texts.ALREADY_ACTIVE.format(officer=status.officer), None
        elif created:
            minutes = (status.position or 1) * self.config.minutes_per_resident
            text, buttons = texts.QUEUED.format(position=status.position, minutes=minutes), [texts.BUTTON_CANCEL]
        else:
            text, buttons = texts.ALREADY_WAITING.format(position=status.position), [texts.BUTTON_CANCEL]
        message = await self.record(conversation_id, "system", text, buttons, queue_changed=True)
        return status, [message]

    async def cancel(self, conversation_id: str) -> tuple[Status, list[StoredMessage]]:
        cancelled = await asyncio.to_thread(self.store.cancel, conversation_id)
        if cancelled is None:
            return await self.status(conversation_id), []
        message = await self.record(conversation_id, "system", texts.CANCELLED, queue_changed=True)
        return Status(), [message]

    async def wait_for_messages(
        self, conversation_id: str, after: int, timeout: float, senders: tuple[str, ...] | None = None
    ) -> list[StoredMessage]:
        """Messages after ``after`` (long poll): waits up to ``timeout`` s for the first one."""
        subscription = self.hub.subscribe(conversation_topic(conversation_id))
        try:
            messages = await asyncio.to_thread(self.store.messages, conversation_id, after, senders)
            if not messages and timeout > 0 and await subscription.wait(timeout):
                messages = await asyncio.to_thread(self.store.messages, conversation_id, after, senders)
        finally:
            subscription.close()
        return messages

    async def events(
        self, conversation_id: str, after: int, timeout: float
    ) -> tuple[list[StoredMessage], Status]:
        """What the resident's widget receives: officer and system messages, then the handoff status."""
        messages = await self.wait_for_messages(conversation_id, after, timeout, RESIDENT_EVENT_SENDERS)
        return messages, await self.status(conversation_id)

    async def create_ticket(
        self, conversation_id: str | None, name: str, phone: str, preferred_time: str, question: str
    ) -> int:
        ticket_id = await asyncio.to_thread(
            self.store.create_ticket, conversation_id, name, phone, preferred_time, question, texts.CONSENT_VERSION
        )
        self.hub.publish(QUEUE)
        return ticket_id

    # ---- officer side ----
    async def accept(self, handoff_id: int, officer: User) -> str | None:
        """The conversation id if this officer now owns it; None if someone else was first."""
        if not await asyncio.to_thread(self.store.accept, handoff_id, officer):
            return None
        item = await asyncio.to_thread(self.store.handoff, handoff_id)
        assert item is not None
        joined = texts.OFFICER_JOINED.format(officer=officer.display_name)
        await self.record(item.conversation_id, "system", joined, queue_changed=True)
        return item.conversation_id

    async def officer_message(self, handoff_id: int, officer: User, text: str) -> StoredMessage:
        conversation_id, message = await asyncio.to_thread(self.store.officer_message, handoff_id, officer, text)
        self._announce(conversation_id, queue=False)
        return message

    async def finish(self, handoff_id: int, officer: User, how: str) -> None:
        closing = texts.OFFICER_RETURNED if how == "returned" else texts.OFFICER_ENDED
        conversation_id, _ = await asyncio.to_thread(self.store.finish, handoff_id, officer, closing, how)
        self._announce(conversation_id)

    # ---- housekeeping ----
    async def sweep(self) -> int:
        """Turn requests nobody accepted in time into a callback offer."""
        expired = await asyncio.to_thread(self.store.expire_waiting, self.config.wait_timeout)
        for conversation_id in expired:
            await self.record(conversation_id, "system", texts.TIMED_OUT, [texts.BUTTON_CALLBACK], queue_changed=True)
        return len(expired)

    async def run_sweeper(self, every: float = 5.0) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # a database hiccup must not end the sweeper for good
                log.exception("handoff sweep failed")
            await asyncio.sleep(every)
