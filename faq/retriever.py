"""Hybrid FAQ retrieval: dense FAISS + Kiwi BM25, fused per entry, with a confidence call.

Every phrasing of an entry is indexed; each retriever ranks entries by their
best phrasing, and the two rankings are fused with weighted reciprocal rank
fusion. Answers are always the curated text of the chosen entry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np

from faq.check import today_kst
from faq.coverage import Coverage, CoverageCheck
from faq.embedder import Embedder
from faq.index import LoadedIndex
from faq.store import FaqStore

Mode = Literal["hybrid", "bm25", "dense"]
SEARCH_CACHE = 4096  # decisions remembered per release (a few MB)
MODES: tuple[Mode, ...] = ("hybrid", "bm25", "dense")
# answer: the top entry answers the question; related: it is about the same thing but does not cover
# what was asked (shown as related guidance, never as the answer); choose: several entries are close;
# clarify: the question is too vague to pick one; none: nothing in the FAQ is about it;
# expired: the entry that would answer is past its expiry date (not served; the department is named).
Decision = Literal["answer", "related", "choose", "clarify", "none", "expired"]
# A vague question with one of these asks for some 민원 ("신청하려고요", "서류 떼려고요"), never out of scope.
PROCEDURE_WORDS = frozenset({"신청", "발급", "재발급", "서류", "증명서", "민원", "접수", "신고"})


@dataclass(frozen=True)
class RetrievalConfig:
    """Fusion, confidence and coverage settings, chosen by evaluation/tune_retrieval.py on the tune
    splits of the dev set and of the hand-labelled real resident titles (confident-wrong at most 3 %
    on real tune titles); the held-back splits report them (evaluation/README.md). Re-tune after
    large FAQ changes."""

    # "score": dense cosine + bm25_share x (BM25 / best BM25 of the query);
    # "rrf": weighted reciprocal rank fusion (k = rrf_k).
    fusion: Literal["score", "rrf"] = "score"
    bm25_share: float = 0.08
    rrf_k: float = 5.0
    dense_weight: float = 2.0
    bm25_weight: float = 1.0
    candidates: int = 50
    # Dense cosine (query-prompt e5) of the best phrasing: at or above
    # ``confident_similarity`` answer directly; below ``in_scope_similarity``
    # with no lexical evidence, the question is not about anything in the FAQ.
    confident_similarity: float = 0.93
    # BM25 may lift an entry slightly above the dense favourite; still answer
    # directly when its own similarity is within this distance of the best.
    rerank_tolerance: float = 0.02
    in_scope_similarity: float = 0.87
    # In scope on similarity alone, without a shared specific term (dev: in-scope >= 0.946, OOS mostly < 0.91).
    in_scope_alone: float = 0.93
    min_bm25: float = 2.0
    # When dense cannot separate two close entries, a clear BM25 lead for
    # the same entry settles it (both retrievers agree).
    agreement_similarity: float = 0.89
    agreement_bm25_lead: float = 2.0
    # A direct answer must also cover the question's specific terms (faq/coverage.py): at most this
    # much idf-weighted meaning may be left unmentioned by the entry, and no term unknown to the FAQ.
    max_uncovered: float = 2.0
    unknown_terms_allowed: int = 0
    # Practically one of the entry's own phrasings (typos and all): coverage is not asked for.
    trust_similarity: float = 0.96
    # Another entry this close in similarity (a sibling: 인감 대리 발급 vs 대리 발급 알림) means the
    # question does not tell them apart: offer both instead of picking one.
    min_margin: float = 0.0


@dataclass(frozen=True)
class Candidates:
    """Per entry: (best score, phrasing index) from the dense and lexical retrievers."""

    dense: dict[str, tuple[float, int]]
    lexical: dict[str, tuple[float, int]]


@dataclass
class ResultItem:
    id: str
    question: str
    answer: str
    score: float
    similarity: float = 0.0
    matched: str = ""


@dataclass
class SearchResult:
    query: str
    decision: Decision
    results: list[ResultItem] = field(default_factory=list)
    coverage: CoverageCheck | None = None  # of the top entry, when the decision looked at it

    @property
    def confident(self) -> bool:
        """True only when the top entry is presented as the answer."""
        return self.decision == "answer"

    def to_json(self) -> dict[str, object]:
        return {
            "query": self.query,
            "confident": self.confident,
            "decision": self.decision,
            "results": [
                {"id": r.id, "question": r.question, "answer": r.answer, "score": round(r.score, 6)}
                for r in self.results
            ],
        }


class Retriever:
    def __init__(
        self,
        store: FaqStore,
        index: LoadedIndex,
        embedder: Embedder,
        config: RetrievalConfig | None = None,
    ) -> None:
        self.store = store
        self.index = index
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        # torch and faiss are thread-safe for inference, but serialising keeps
        # per-query latency predictable on a 2-core county server.
        self._lock = threading.Lock()
        missing = {p.entry_id for p in index.phrasings} - set(store.by_id)
        if missing:
            raise ValueError(f"index {index.folder.name} references unknown entries {sorted(missing)[:5]}; rebuild it")
        self.coverage = Coverage(store)
        # A rush is many residents asking the same few things (a notice on the homepage): the same
        # question on the same day gets the same decision, so it is worked out once per release.
        self._answers: OrderedDict[tuple[str, int, Mode, date, RetrievalConfig], SearchResult] = OrderedDict()
        self._answers_lock = threading.Lock()

    def _best_per_entry(self, phrasing_ids: np.ndarray, scores: np.ndarray) -> dict[str, tuple[float, int]]:
        best: dict[str, tuple[float, int]] = {}
        for pid, score in zip(phrasing_ids.tolist(), scores.tolist(), strict=True):
            entry_id = self.index.phrasings[pid].entry_id
            if entry_id not in best or score > best[entry_id][0]:
                best[entry_id] = (float(score), int(pid))
        return best

    def candidates(self, query: str, mode: Mode = "hybrid", vector: np.ndarray | None = None) -> Candidates:
        """Best phrasing score per entry from each retriever the mode uses (the expensive part).

        ``vector``: the query's embedding when the caller already has it (comparing two releases)."""
        cfg = self.config
        dense: dict[str, tuple[float, int]] = {}
        lexical: dict[str, tuple[float, int]] = {}
        with self._lock:
            if mode in ("hybrid", "dense"):
                if vector is None:
                    vector = self.embedder.encode([query])[0]
                ids, sims = self.index.dense_search(vector, cfg.candidates)
                dense = self._best_per_entry(ids, sims)
            if mode in ("hybrid", "bm25"):
                scores = self.index.bm25_scores(self.store.lexicon.terms(query))
                top = np.argsort(-scores)[: cfg.candidates]
                lexical = {
                    self.index.entry_ids[i]: (float(scores[i]), self.index.first_phrasing[i])
                    for i in top.tolist()
                    if scores[i] > 0
                }
        return Candidates(dense, lexical)

    def search(self, query: str, top_k: int = 3, mode: Mode = "hybrid") -> SearchResult:
        query = query.strip()
        if not query:
            return SearchResult(query, "none")
        # The day: an entry may expire overnight; the config: tuning swaps it on a live retriever.
        key = (query, top_k, mode, today_kst(), self.config)
        with self._answers_lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
        result = self.decide(query, self.candidates(query, mode), top_k, mode)
        with self._answers_lock:
            self._answers[key] = result
            while len(self._answers) > SEARCH_CACHE:
                self._answers.popitem(last=False)
        return result

    def decide(self, query: str, found: Candidates, top_k: int = 3, mode: Mode = "hybrid") -> SearchResult:
        """Fuse the candidates, rank entries and make the confidence call (cheap; used for tuning)."""
        dense, lexical = found.dense, found.lexical
        fused = self._fuse(dense, lexical, mode)
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        top_sim = max((s for s, _ in dense.values()), default=0.0)
        top_bm25 = max((s for s, _ in lexical.values()), default=0.0)
        confident = self._is_confident(ranked, dense, lexical, mode)
        vague = self.coverage.is_vague(query)
        # "뭐 좀 신청하려고 왔어요" is far from every phrasing, yet plainly asks for a 민원: offer choices.
        asks_for_procedure = vague and any(t in PROCEDURE_WORDS for t in self.coverage.terms(query))
        in_scope = confident or asks_for_procedure or self._in_scope(query, top_sim, top_bm25, mode)
        if not in_scope:
            return SearchResult(query, "none")
        decision: Decision = "choose"
        check = None
        if vague:
            decision = "clarify"
            ranked = self._one_per_topic(ranked)
        elif confident:
            check = self.coverage.check(query, ranked[0][0])
            covered = dense.get(ranked[0][0], (0.0, -1))[0] >= self.config.trust_similarity or (
                check.weight <= self.config.max_uncovered and len(check.unknown) <= self.config.unknown_terms_allowed
            )
            runner = max((v[0] for e, v in dense.items() if e != ranked[0][0]), default=0.0)
            apart = dense.get(ranked[0][0], (0.0, -1))[0] - runner >= self.config.min_margin
            decision = ("answer" if apart else "choose") if covered else "related"
            if decision in ("answer", "related") and self.store.is_expired(self.store.by_id[ranked[0][0]], today_kst()):
                decision = "expired"
        items = []
        for entry_id, score in ranked[:top_k]:
            entry = self.store.by_id[entry_id]
            _, pid = dense.get(entry_id, lexical.get(entry_id, (0.0, -1)))
            items.append(
                ResultItem(
                    id=entry_id,
                    question=entry.question,
                    answer=self.store.render_answer(entry),
                    score=score,
                    similarity=dense.get(entry_id, (0.0, -1))[0],
                    matched=self.index.phrasings[pid].text if pid >= 0 else "",
                )
            )
        return SearchResult(query, decision, items, check)

    def _one_per_topic(self, ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
        """For a vague question, offer the best entry of each topic first (등본, 가족관계증명서, 인감 …)."""
        seen: set[str] = set()
        first: list[tuple[str, float]] = []
        rest: list[tuple[str, float]] = []
        for entry_id, score in ranked:
            topic = self.store.by_id[entry_id].topic
            (rest if topic in seen else first).append((entry_id, score))
            seen.add(topic)
        return first + rest

    def _fuse(
        self, dense: dict[str, tuple[float, int]], lexical: dict[str, tuple[float, int]], mode: Mode
    ) -> dict[str, float]:
        cfg = self.config
        if mode == "dense":
            return {k: v[0] for k, v in dense.items()}
        if mode == "bm25":
            return {k: v[0] for k, v in lexical.items()}
        if cfg.fusion == "score":
            floor = min((v[0] for v in dense.values()), default=0.0)
            best_lex = max((v[0] for v in lexical.values()), default=0.0) or 1.0
            return {
                entry_id: dense.get(entry_id, (floor, -1))[0]
                + cfg.bm25_share * lexical.get(entry_id, (0.0, -1))[0] / best_lex
                for entry_id in dense.keys() | lexical.keys()
            }
        fused: dict[str, float] = {}
        for weight, ranking in ((cfg.dense_weight, dense), (cfg.bm25_weight, lexical)):
            ordered = sorted(ranking.items(), key=lambda kv: -kv[1][0])
            for rank, (entry_id, _) in enumerate(ordered, start=1):
                fused[entry_id] = fused.get(entry_id, 0.0) + weight / (cfg.rrf_k + rank)
        return fused

    def _is_confident(
        self,
        ranked: list[tuple[str, float]],
        dense: dict[str, tuple[float, int]],
        lexical: dict[str, tuple[float, int]],
        mode: Mode,
    ) -> bool:
        cfg = self.config
        if not ranked:
            return False
        top_id = ranked[0][0]
        lex = sorted(lexical.items(), key=lambda kv: -kv[1][0])
        lex_top = lex[0][1][0] if lex else 0.0
        lex_runner = lex[1][1][0] if len(lex) > 1 else 0.0
        if mode == "bm25":
            return lex_top >= 3 * cfg.min_bm25 and lex_top >= 1.25 * lex_runner
        ordered = sorted(dense.items(), key=lambda kv: -kv[1][0])
        if not ordered:
            return False
        top_sim = dense.get(top_id, (0.0, -1))[0]
        runner = next((v[0] for e, v in ordered if e != top_id), 0.0)
        if top_sim >= cfg.confident_similarity and top_sim >= runner - cfg.rerank_tolerance:
            return True
        if mode != "hybrid" or not lex:
            return False
        # Both retrievers independently put the same entry first, with a clear
        # lexical lead: trust it at a lower similarity than dense alone.
        return (
            lex[0][0] == top_id
            and ordered[0][0] == top_id
            and top_sim >= cfg.agreement_similarity
            and lex_top >= 2 * cfg.min_bm25
            and lex_top >= cfg.agreement_bm25_lead * lex_runner
        )

    def _in_scope(self, query: str, top_sim: float, top_bm25: float, mode: Mode) -> bool:
        """Is the question about anything in the FAQ? Similarity alone is weak evidence (e5 puts most
        Korean sentences above 0.85): at the lower bar the question must also share a specific term
        with the FAQ ("로또 번호" shares only the framing word 번호)."""
        cfg = self.config
        if mode == "bm25":
            return top_bm25 >= cfg.min_bm25
        if top_sim >= cfg.in_scope_alone:
            return True
        shares_a_term = any(term in self.coverage.df for term in self.coverage.specific_terms(query))
        if not shares_a_term:
            return False
        return top_sim >= cfg.in_scope_similarity or (
            mode == "hybrid" and top_bm25 >= 2 * cfg.min_bm25 and top_sim >= cfg.in_scope_similarity - 0.03
        )
