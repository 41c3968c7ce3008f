"""Build a knowledge release: the published entries, the county profile, the facts and the synonyms,
with an index over their phrasings (only changed phrasings are embedded). Built off the chat path;
the caller swaps it in whole."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from api.settings import Settings
from faq.embedder import Embedder
from faq.facts import FactsTable
from faq.index import LoadedIndex, build_index, index_key
from faq.lexicon import Lexicon
from faq.retriever import Retriever
from faq.store import DATA_DIR, CountyProfile, Entry, FaqLoadError, FaqStore, load_topic_file


@dataclass(frozen=True)
class BuiltRelease:
    retriever: Retriever
    key: str
    seconds: float


def topic_titles(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """Topic titles from the content pack (the console shows them; county entries reuse the topics)."""
    titles: dict[str, str] = {}
    for path in sorted(data_dir.glob("*.yaml")):
        topic = load_topic_file(path)
        titles[topic.topic] = topic.title
    return titles


def make_store(settings: Settings, entries: list[Entry], synonyms: dict[str, str], titles: dict[str, str]) -> FaqStore:
    """The content residents are answered from, checked the way the content pack is."""
    profile = CountyProfile.load(settings.county_file)
    store = FaqStore(entries, profile, FactsTable.load(), titles, Lexicon(synonyms))
    problems = [p for entry in entries for p in reference_problems(store, entry)]
    if problems:
        raise FaqLoadError("\n".join(problems))
    return store


def reference_problems(store: FaqStore, entry: Entry) -> list[str]:
    """What would stop ``entry`` from rendering with ``store``'s profile and facts (department, {keys})."""
    return [
        p.split(": ", 2)[-1] for p in FaqStore._check_references(entry, store.profile, store.values, Path(entry.id))
    ]


def release_key(store: FaqStore, embedder: Embedder) -> str:
    return index_key(store, embedder.key)


def build_release(
    settings: Settings, store: FaqStore, embedder: Embedder, progress: Callable[[str], None] = print
) -> BuiltRelease:
    started = time.perf_counter()
    folder = build_index(store, embedder, settings.index_root, progress, make_current=False)
    index = LoadedIndex(folder, terms=store.lexicon.terms)
    retriever = Retriever(store, index, embedder)
    retriever.search("여권 발급")  # warm the new release before residents reach it
    return BuiltRelease(retriever, folder.name, time.perf_counter() - started)
