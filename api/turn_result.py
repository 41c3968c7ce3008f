"""What one resident turn gives back to every channel (HTTP, WebSocket, socket.io)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.handoff.store import Replay, StoredMessage
from api.kinds import ButtonAction, DeskState, Sender


class Button(BaseModel):
    title: str
    payload: str = ""
    action: ButtonAction | None = Field(default=None, description="Handled by the widget itself, not sent as text")


class BotMessage(BaseModel):
    text: str = ""
    buttons: list[Button] = Field(default_factory=list)
    id: int | None = Field(default=None, description="Stored message id (for de-duplicating live events)")
    sender: Sender = Field(default=Sender.BOT, description="bot | officer | system")
    author: str | None = Field(default=None, description="The officer's display name")

    @classmethod
    def from_stored(cls, message: StoredMessage) -> BotMessage:
        return cls(
            text=message.text,
            buttons=[Button.model_validate(b) for b in message.buttons],
            id=message.id,
            sender=message.sender,
            author=message.author,
        )


class TurnResult(BaseModel):
    messages: list[BotMessage]
    handoff: dict[str, Any] = Field(default_factory=lambda: {"state": DeskState.BOT.value})
    rasa_down: bool = False
    # Too many turns ahead: nothing was stored; the channel asks the client to send it again later.
    busy: bool = False
    retry_after: int | None = None
    degraded: bool = False  # answered from retrieval without the dialogue engine
    # Its replay was stored with the replies (one transaction less); never sent to a channel.
    replay_stored: bool = Field(default=False, exclude=True)

    @classmethod
    def replayed(cls, replay: Replay) -> TurnResult:
        """The first try's answer again, as it was given (the handoff status of that moment included)."""
        return cls(
            messages=[BotMessage.from_stored(m) for m in replay.messages],
            handoff=replay.handoff,
            rasa_down=replay.rasa_down,
            degraded=replay.degraded,
        )

    def as_replay(self) -> Replay:
        """What is stored so a retry reaching any api process gets this answer again."""
        return Replay(
            message_ids=[m.id for m in self.messages if m.id is not None],
            handoff=self.handoff,
            rasa_down=self.rasa_down,
            degraded=self.degraded,
        )
