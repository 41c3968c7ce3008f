"""What the api loaded (retriever, feedback log), handed to actions running in the same process."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from api.feedback import FeedbackLog
    from faq.retriever import Retriever

_retriever: Retriever | None = None
_feedback: FeedbackLog | None = None


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
