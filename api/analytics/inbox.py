"""The unanswered-question inbox: what residents asked that the bot could not settle, grouped.

Questions (masked) the bot did not answer directly, answered only with related guidance or with
choices, or answered and then voted down are grouped into clusters of paraphrases: two questions
join when their embeddings are close or they share most of their specific terms. A curator adds a
cluster as phrasings of an existing entry (a draft), starts a new entry from it, or ignores it; every
decision can be undone. Officers can propose their reply in a handoff as an answer.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from api.db import Database
from api.db.models import InboxAction, utcnow
from api.kinds import INBOX_DECISIONS, InboxActionKind
from faq.coverage import IGNORED_WORDS
from faq.embedder import Embedder
from faq.korean import lexical_terms

SIMILAR = 0.90  # cosine between question embeddings (e5, query prompt) for "the same question"
SHARED_TERMS = 0.6  # or this share of specific terms in common
MAX_EXAMPLES = 5


def normalise(text: str) -> str:
    return re.sub(r"[\s?!.,~…]+", " ", text).strip().lower()


def key_of(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()[:40]


def terms_of(text: str) -> frozenset[str]:
    return frozenset(t for t in lexical_terms(text) if t not in IGNORED_WORDS and len(t) > 1)


@dataclass
class Cluster:
    key: str  # the representative question's key
    text: str  # the representative (the most asked wording)
    count: int = 0
    examples: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    suggestion: dict[str, str] | None = None  # the nearest entry, for "add as a phrasing"


def cluster(questions: list[tuple[str, str]], embedder: Embedder) -> list[Cluster]:
    """Group (text, why) pairs into clusters of paraphrases, most asked first."""
    counts = Counter(text for text, _ in questions)
    reasons: dict[str, Counter[str]] = {}
    for text, why in questions:
        reasons.setdefault(text, Counter())[why] += 1
    texts = [t for t, _ in counts.most_common()]
    if not texts:
        return []
    vectors = embedder.encode(texts)
    terms = [terms_of(t) for t in texts]
    clusters: list[Cluster] = []
    centroids: list[np.ndarray] = []
    members: list[list[int]] = []
    for index, text in enumerate(texts):
        home = None
        if centroids:
            sims = np.stack(centroids) @ vectors[index]
            best = int(np.argmax(sims))
            if sims[best] >= SIMILAR:
                home = best
            else:
                for c, indices in enumerate(members):
                    first = terms[indices[0]]
                    if first and terms[index] and len(first & terms[index]) / len(first | terms[index]) >= SHARED_TERMS:
                        home = c
                        break
        if home is None:
            clusters.append(Cluster(key_of(text), text))
            centroids.append(vectors[index].copy())
            members.append([])
            home = len(clusters) - 1
        target = clusters[home]
        members[home].append(index)
        target.count += counts[text]
        target.keys.append(key_of(text))
        target.reasons.update(reasons[text])
        if len(target.examples) < MAX_EXAMPLES:
            target.examples.append(text)
        centroid = np.mean(vectors[members[home]], axis=0)
        centroids[home] = centroid / (np.linalg.norm(centroid) or 1.0)
    return sorted(clusters, key=lambda c: -c.count)


class InboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def decided_keys(self) -> set[str]:
        """Questions a curator already ignored or used (and did not undo)."""
        with self.db.session() as session:
            rows = session.scalars(
                select(InboxAction.key).where(InboxAction.action.in_(INBOX_DECISIONS), InboxAction.undone_at.is_(None))
            )
            return set(rows)

    def record(
        self,
        keys: list[str],
        question: str,
        action: InboxActionKind,
        actor: str,
        entry_id: str | None = None,
        answer: str | None = None,
    ) -> list[int]:
        batch = secrets.token_hex(8)
        with self.db.session() as session:
            made = [
                InboxAction(
                    key=k,
                    batch=batch,
                    question=question[:1000],
                    action=action,
                    actor=actor,
                    entry_id=entry_id,
                    answer=answer,
                )
                for k in dict.fromkeys(keys)
            ]
            session.add_all(made)
            session.flush()
            return [m.id for m in made]

    def undo_with_siblings(self, action_id: int) -> int:
        """Undo a decision and every row recorded with it; returns how many rows were undone."""
        with self.db.session() as session:
            batch = session.scalar(select(InboxAction.batch).where(InboxAction.id == action_id))
            rows = session.scalars(
                select(InboxAction).where(InboxAction.batch == batch, InboxAction.undone_at.is_(None))
            )
            undone = 0
            for row in rows:
                row.undone_at = utcnow()
                undone += 1
            return undone

    def history(self, limit: int = 100) -> list[InboxAction]:
        with self.db.session() as session:
            return list(session.scalars(select(InboxAction).order_by(InboxAction.id.desc()).limit(limit)))

    def proposals(self) -> list[InboxAction]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(InboxAction)
                    .where(InboxAction.action == InboxActionKind.PROPOSAL, InboxAction.undone_at.is_(None))
                    .order_by(InboxAction.id.desc())
                )
            )


def suggestions(found: list[Cluster], nearest: Callable[[str], tuple[str, str] | None]) -> None:
    """Attach the nearest entry to each cluster (``nearest(text)`` -> (id, question) or None)."""
    for group in found:
        hit = nearest(group.text)
        if hit is not None:
            group.suggestion = {"id": hit[0], "question": hit[1]}
