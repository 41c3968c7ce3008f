"""The retriever the api loaded, handed to actions (they run in the same process)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faq.retriever import Retriever

_retriever: Retriever | None = None


def set_retriever(retriever: Retriever) -> None:
    global _retriever
    _retriever = retriever


def get_retriever() -> Retriever | None:
    return _retriever
