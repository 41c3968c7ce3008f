"""What the api loaded (retriever, feedback log, context sink), handed to actions running in the same process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.feedback import FeedbackLog
    from faq.retriever import Retriever

_retriever: Retriever | None = None
_feedback: FeedbackLog | None = None
ContextSink = Callable[[str, dict[str, Any]], Awaitable[None]]
_context_sink: ContextSink | None = None


def set_context_sink(sink: ContextSink) -> None:
    """Where actions report what the bot tried (shown to the officer who takes over)."""
    global _context_sink
    _context_sink = sink


async def record_context(conversation_id: str, context: dict[str, Any]) -> None:
    if _context_sink is not None:
        await _context_sink(conversation_id, context)


def set_feedback_log(log: FeedbackLog) -> None:
    global _feedback
    _feedback = log


def get_feedback_log() -> FeedbackLog | None:
    return _feedback


def set_retriever(retriever: Retriever) -> None:
    global _retriever
    _retriever = retriever


def get_retriever() -> Retriever | None:
    return _retriever
