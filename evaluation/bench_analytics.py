"""Dashboard and ``minwon analytics --json`` time at a million stored turns, on SQLite and PostgreSQL.

Usage: .venv/bin/python evaluation/bench_analytics.py [--turns 1000000] [--backends sqlite,postgresql]

Seeds a throwaway database (a temporary SQLite file; a fresh PostgreSQL database on 127.0.0.1) with
synthetic conversations spread over a year — four resident turns each on average, every turn with its
resident message, a realistic mix of outcomes, votes, handoffs and tickets — then times, in the same
run: the dashboard's metrics for the whole year and for the default 30-day window, the unanswered
list the inbox starts from, a drill-down, and the CLI as an operator runs it. Each is reported against
the same measurement at a tenth of the size (the baseline), and the 30-day window is also timed with
the time indexes dropped, to show what they buy. Writes a plot to evaluation/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from api.analytics.metrics import KST, Analytics, Period
from api.db import Database
from api.db.models import Base, Conversation, Handoff, Message, Ticket, Turn, Vote

RESULTS = Path(__file__).parent / "results"
END = dt.datetime(2026, 11, 30, 23, 0, tzinfo=KST)
OUTCOMES = [("answered", 55), ("related", 10), ("clarified", 10), ("unanswered", 12), ("other", 10), ("handoff", 3)]
TOPICS = [f"T{n:02d}" for n in range(1, 38)]
QUESTIONS = ["여권 수수료 얼마예요", "전입신고 언제까지", "드론 자격증 어디서", "대형폐기물 버리는 법", "주차 과태료"]
TIME_INDEXES = ("ix_turns_at", "ix_turns_outcome_at")
PG_ADMIN = os.environ.get("MINWON_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    import psycopg

    name = f"minwon_bench_{random.randrange(16**8):08x}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(db: Database, turns: int, rng: random.Random) -> None:
    """Bulk rows (Core inserts in batches; the ORM would take an hour)."""
    weights = [w for _, w in OUTCOMES]
    names = [o for o, _ in OUTCOMES]
    conversation_rows: list[dict[str, Any]] = []
    message_rows: list[dict[str, Any]] = []
    turn_rows: list[dict[str, Any]] = []
    vote_rows: list[dict[str, Any]] = []
    handoff_rows: list[dict[str, Any]] = []
    made = 0
    message_id = 0
    n = 0

    def flush(final: bool = False) -> None:
        if not final and len(turn_rows) < 50_000:
            return
        with db.engine.begin() as conn:
            for model, rows in (
                (Conversation, conversation_rows),
                (Message, message_rows),
                (Turn, turn_rows),
                (Vote, vote_rows),
                (Handoff, handoff_rows),
            ):
                if rows:
                    conn.execute(insert(Base.metadata.tables[model.__tablename__]), rows)
                    rows.clear()

    while made < turns:
        n += 1
        cid = f"bench-{n:08d}"
        # busier on weekday office hours, as county traffic is
        day = END - dt.timedelta(days=rng.randrange(365))
        start = day.replace(hour=rng.choice([9, 10, 10, 11, 13, 14, 14, 15, 16, 17, 20, 22]), minute=rng.randrange(60))
        conversation_rows.append({"id": cid, "created_at": start, "updated_at": start, "bot_context": None})
        count = min(rng.choice([1, 2, 3, 4, 5, 6, 7]), turns - made)
        for k in range(count):
            at = start + dt.timedelta(minutes=k)
            outcome = rng.choices(names, weights)[0]
            message_id += 1
            message_rows.append(
                {
                    "id": message_id,
                    "conversation_id": cid,
                    "sender": "resident",
                    "text": rng.choice(QUESTIONS),
                    "buttons": None,
                    "created_at": at,
                }
            )
            topic = rng.choice(TOPICS) if outcome in ("answered", "related", "clarified") else None
            turn_rows.append(
                {
                    "conversation_id": cid,
                    "message_id": message_id,
                    "at": at,
                    "outcome": outcome,
                    "entry_id": f"{topic}-00{rng.randrange(1, 9)}" if topic and outcome == "answered" else None,
                    "topic": topic,
                    "department": "civil" if topic else None,
                    "similarity": 0.95 if outcome == "answered" else None,
                    "choices": {"ids": ["T01-001", "T01-002"]} if outcome == "clarified" else None,
                    "overdue": False,
                }
            )
            if outcome == "handoff":
                handoff_rows.append(
                    {
                        "conversation_id": cid,
                        "state": rng.choice(["ended", "cancelled", "timed_out"]),
                        "reason": "resident",
                        "requested_at": at,
                        "accepted_at": at + dt.timedelta(seconds=rng.randrange(20, 600)),
                        "ended_at": at + dt.timedelta(minutes=10),
                    }
                )
        made += count
        if rng.random() < 0.2:
            vote_rows.append(
                {"conversation_id": cid, "at": start, "helpful": rng.random() < 0.75, "answer": "", "channel": "button"}
            )
        flush()
    flush(final=True)
    with db.engine.begin() as conn:
        conn.execute(
            insert(Base.metadata.tables[Ticket.__tablename__]),
            [
                {
                    "conversation_id": None,
                    "name": "[이름]",
                    "phone": "[전화번호]",
                    "preferred_time": "오전",
                    "question": "문의",
                    "status": "done",
                    "consent_version": "v1",
                    "consented_at": END,
                    "created_at": END - dt.timedelta(days=i % 365),
                    "updated_at": END,
                    "done_at": END,
                }
                for i in range(max(turns // 500, 1))
            ],
        )
    if db.backend == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def timed(action: Callable[[], object], repeat: int = 3) -> float:
    """The best of ``repeat`` runs (the machine is shared; the minimum is the least disturbed)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def cli_seconds(url: str) -> float:
    env = {**os.environ, "DATABASE_URL": url}
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "analytics", "--json"], env=env, capture_output=True, check=True, text=True
    ).stdout
    seconds = time.perf_counter() - start
    json.loads(out)
    return seconds


@contextmanager
def database(backend: str, folder: Path, name: str) -> Iterator[Database]:
    if backend == "postgresql":
        with throwaway_postgres() as url:
            db = Database(url)
            db.upgrade()
            try:
                yield db
            finally:
                db.dispose()
    else:
        db = Database(f"sqlite:///{folder / name}.db")
        db.upgrade()
        try:
            yield db
        finally:
            db.dispose()


def measure(db: Database, turns: int, with_indexes: bool = True) -> dict[str, float]:
    analytics = Analytics(db)
    year = Period(END.date() - dt.timedelta(days=364), END.date())
    month = Period(END.date() - dt.timedelta(days=29), END.date())
    out = {
        "dashboard_year_s": timed(lambda: analytics.metrics(year), 1 if turns >= 500_000 else 3),
        "dashboard_30d_s": timed(lambda: analytics.metrics(month)),
        "inbox_list_30d_s": timed(lambda: analytics.unanswered_questions(month)),
        "drill_30d_s": timed(lambda: analytics.drill(month, "unanswered")),
        "cli_all_s": cli_seconds(db.url),
    }
    if with_indexes:
        with db.engine.begin() as conn:
            for name in TIME_INDEXES:
                conn.execute(text(f"DROP INDEX {name}"))
        out["dashboard_30d_no_time_index_s"] = timed(lambda: analytics.metrics(month))
        with db.engine.begin() as conn:
            conn.execute(text("CREATE INDEX ix_turns_at ON turns (at)"))
            conn.execute(text("CREATE INDEX ix_turns_outcome_at ON turns (outcome, at)"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    report: dict[str, Any] = {"turns": args.turns, "baseline_turns": args.turns // 10, "backends": {}}
    with tempfile.TemporaryDirectory(prefix="minwon-bench-analytics-") as tmp:
        for backend in args.backends.split(","):
            rows: dict[str, Any] = {}
            for label, size in (("baseline", args.turns // 10), ("full", args.turns)):
                with database(backend, Path(tmp), f"{backend}-{size}") as db:
                    start = time.perf_counter()
                    seed(db, size, random.Random(7))
                    seeded = time.perf_counter() - start
                    print(f"[{backend}] seeded {size:,} turns in {seeded:.1f} s", flush=True)
                    rows[label] = measure(db, size)
                    print(f"[{backend}] {label}: {json.dumps(rows[label])}", flush=True)
            ratios = {k: round(rows["full"][k] / rows["baseline"][k], 2) for k in rows["full"] if rows["baseline"][k]}
            index_gain = round(rows["full"]["dashboard_30d_no_time_index_s"] / rows["full"]["dashboard_30d_s"], 2)
            report["backends"][backend] = {**rows, "full_over_baseline": ratios, "time_index_speedup_30d": index_gain}
            print(f"[{backend}] full / baseline: {ratios}; 30-day dashboard without the time indexes: x{index_gain}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_analytics.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    plot(report, RESULTS / "bench_analytics.png")
    print(f"wrote {RESULTS / 'bench_analytics.json'} and bench_analytics.png")
    return 0


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["dashboard_year_s", "dashboard_30d_s", "inbox_list_30d_s", "drill_30d_s", "cli_all_s"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.2
    for i, (backend, rows) in enumerate(report["backends"].items()):
        for j, label in enumerate(("baseline", "full")):
            values = [rows[label][k] for k in keys]
            offset = (i * 2 + j - 1.5) * width
            ax.bar([x + offset for x in range(len(keys))], values, width, label=f"{backend} {label}")
    ax.set_xticks(range(len(keys)), [k.removesuffix("_s") for k in keys], rotation=15)
    ax.set_ylabel("seconds (best of runs)")
    ax.set_title(f"analytics at {report['turns']:,} turns vs {report['baseline_turns']:,} (baseline)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
