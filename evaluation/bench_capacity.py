"""Capacity under a rush: burst, steady and stress runs through /api/v1/chat, with and without admission control.

Each run starts its own Rasa + api (the same trained model and index) once per configuration:

- ``off``: no admission queue (every turn goes to Rasa at once; the behaviour before it existed, except
  that a timed-out turn is now answered from retrieval where it can be);
- ``on``: the default queue (MINWON_RASA_CONCURRENCY, MINWON_RASA_QUEUE, MINWON_RASA_QUEUE_WAIT);
- ``on2``: the same with two Rasa replicas (MINWON_RASA_REPLICAS=2);
- ``stock``: ``on`` with Rasa as shipped (MINWON_RASA_STOCK=1: without bot/components/rasa_speedups.py),
  the baseline of the CPU work;
- ``threads0``: ``on`` with the models' own thread defaults (MINWON_MODEL_THREADS=0: torch and TensorFlow
  use every core for each request), the baseline of one thread per request;
- ``torch``: ``on`` with the query encoder on torch (MINWON_ENCODER=torch), the baseline of ONNX Runtime;
- ``int8``: ``on`` with the int8 ONNX graph (MINWON_ENCODER=int8) instead of the float one;
- ``c4``: ``on`` with four turns at once with Rasa (MINWON_RASA_CONCURRENCY=4), the default before eight;
- ``c16``: ``on`` with sixteen turns at once with Rasa (MINWON_RASA_CONCURRENCY=16);
- ``pg``: ``on`` on PostgreSQL and Redis (a scratch database on MINWON_BENCH_PG_ADMIN's server; Rasa's
  trackers in it too), the baseline of the replicated stack;
- ``pgstock``: ``pg`` with Rasa as shipped (MINWON_RASA_STOCK=1), the baseline of the shortcuts there;
- ``r2``: ``pg`` with two api processes and two Rasa replicas (MINWON_API_REPLICAS=2,
  MINWON_RASA_REPLICAS=2); each turn goes to either api process at random, as behind a load balancer
  without sticky sessions.

Each scenario also reports the CPU each process spent per turn (from /proc), so "less CPU per turn" is
a measured ratio, not an impression.

Every simulated resident behaves like the widget: a "busy" 503 is sent again (same client id) after its
Retry-After; a Rasa-down 503 or any other failure is an error. Questions are the dev set
(evaluation/cases/dev.jsonl), each with one of a dozen everyday endings, drawn without repeats, plus
greetings: residents rarely type the same words twice, so the retriever's answer cache must not make
the encoder look free.

- burst: N residents send their first question at the same moment;
- steady: N residents each ask every ~``interval`` seconds (staggered) for ``duration`` seconds;
- stress: open-loop arrivals at rising rates; p95 and errors against offered load show the knee.

Prints a table per configuration and the ratios on against off, writes JSON and a plot to
evaluation/results/bench_capacity.{json,png}.

Usage: .venv/bin/python evaluation/bench_capacity.py [--burst 200] [--rates 10,20,30,40,50,60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import psycopg

from api.runner import Stack, free_ports
from api.settings import Settings
from evaluation.bench_latency import percentile, rss_mb

RESULTS = Path(__file__).resolve().parent / "results"
CASES = Path(__file__).resolve().parent / "cases" / "dev.jsonl"
SMALL_TALK = ["안녕하세요", "감사합니다", "도움이 됐어요", "안녕하세요 궁금한 게 있어요"]
MAX_TRIES = 20  # a resident gives up after this many "busy" answers in a row
PG_ADMIN = os.environ.get("MINWON_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("MINWON_BENCH_REDIS", "redis://127.0.0.1:6379/14")
SHARED = ("pg", "pgstock", "r2")  # configurations on PostgreSQL + Redis


# Endings that keep a question's meaning; with them the dev set gives more texts than one run sends.
ENDINGS = ["", "?", " 궁금합니다", " 알려주세요", " 문의드려요", " 여쭤봐요", " 알고 싶어요", " 질문이요",
           " 확인하고 싶어요", " 좀 알려 주실래요", " 어떻게 되나요", " 답변 부탁드려요"]  # fmt: skip


class Questions:
    """Every FAQ question text once (shuffled) before any comes again; greetings in between."""

    def __init__(self, seed: int = 1) -> None:
        lines = CASES.read_text(encoding="utf-8").splitlines()
        base = [json.loads(line)["q"] for line in lines if line.strip()]
        self.texts = [f"{q.rstrip('?')}{ending}" for q in base for ending in ENDINGS]
        self.draw = random.Random(seed)
        self.draw.shuffle(self.texts)
        self.position = 0

    def take(self) -> str:
        if self.draw.random() < 0.05:
            return self.draw.choice(SMALL_TALK)
        if self.position == len(self.texts):
            self.draw.shuffle(self.texts)
            self.position = 0
        self.position += 1
        return self.texts[self.position - 1]


@dataclass
class Outcome:
    seconds: float  # from the first send to the answer (busy waits included)
    status: str  # answered | degraded | rasa_down | error | gave_up
    busy_retries: int = 0
    detail: str = ""  # for an error: the HTTP status or the exception's class


@dataclass
class Summary:
    scenario: str
    config: str
    offered: float  # residents (burst) or turns per second (steady, stress)
    turns: int
    answered: int
    degraded: int
    errors: int  # Rasa-down apologies and failures: what a resident reads as "broken"
    busy_retries: int
    p50_ms: float
    p95_ms: float
    achieved_per_s: float
    wall_s: float
    notes: dict[str, float] = field(default_factory=dict)


class Spread:
    """The api processes of a stack as one client: each request to any of them, at random."""

    def __init__(self, clients: list[httpx.AsyncClient], seed: int = 7) -> None:
        self.clients = clients
        self.draw = random.Random(seed)

    async def post(self, url: str, json: dict[str, object]) -> httpx.Response:
        return await self.draw.choice(self.clients).post(url, json=json)


async def one_turn(client: Spread, text: str, session: str | None) -> tuple[Outcome, str | None]:
    client_id = uuid.uuid4().hex
    started = time.perf_counter()
    retries = 0
    for _ in range(MAX_TRIES):
        try:
            response = await client.post(
                "/api/v1/chat", json={"session": session, "text": text, "client_id": client_id}
            )
        except httpx.HTTPError as exc:
            return Outcome(time.perf_counter() - started, "error", retries, type(exc).__name__), session
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        session = body.get("session") or session
        if response.status_code == 503 and body.get("busy"):
            retries += 1
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        elapsed = time.perf_counter() - started
        if response.status_code == 200:
            degraded = any("간단한 방식으로 안내" in m.get("text", "") for m in body.get("messages", []))
            return Outcome(elapsed, "degraded" if degraded else "answered", retries), session
        status = "rasa_down" if response.status_code == 503 else "error"
        return Outcome(elapsed, status, retries, str(response.status_code)), session
    return Outcome(time.perf_counter() - started, "gave_up", retries), session


def error_counts(outcomes: list[Outcome]) -> Counter[str]:
    """What each error was (rasa_down, error:500, error:ReadTimeout, gave_up), to tell them apart."""
    failed = (o for o in outcomes if o.status in ("rasa_down", "error", "gave_up"))
    return Counter(o.status + (f":{o.detail}" if o.detail else "") for o in failed)


def summarise(scenario: str, config: str, offered: float, outcomes: list[Outcome], wall: float) -> Summary:
    times = [o.seconds * 1000 for o in outcomes] or [0.0]
    return Summary(
        scenario=scenario,
        config=config,
        offered=offered,
        turns=len(outcomes),
        answered=sum(o.status == "answered" for o in outcomes),
        degraded=sum(o.status == "degraded" for o in outcomes),
        errors=sum(o.status in ("rasa_down", "error", "gave_up") for o in outcomes),
        busy_retries=sum(o.busy_retries for o in outcomes),
        p50_ms=round(statistics.median(times), 1),
        p95_ms=round(percentile(times, 0.95), 1),
        achieved_per_s=round(len(outcomes) / wall, 1) if wall else 0.0,
        wall_s=round(wall, 1),
        notes={f"errors_{kind}": float(n) for kind, n in error_counts(outcomes).items()},
    )


async def burst(client: Spread, pool: Questions, residents: int, config: str) -> Summary:
    gate = asyncio.Event()

    async def resident() -> Outcome:
        await gate.wait()
        outcome, _ = await one_turn(client, pool.take(), None)
        return outcome

    tasks = [asyncio.create_task(resident()) for _ in range(residents)]
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    gate.set()
    outcomes = await asyncio.gather(*tasks)
    return summarise("burst", config, residents, list(outcomes), time.perf_counter() - started)


async def open_loop(
    client: Spread,
    pool: Questions,
    rate: float,
    seconds: float,
    scenario: str,
    config: str,
    visit_turns: float = 0.0,
) -> Summary:
    """Arrivals at ``rate`` per second (Poisson), each a new turn of one of the live sessions.

    A resident's visit lasts ``visit_turns`` turns on average (geometric), then a new resident takes the
    slot: Rasa's per-turn cost grows with the conversation (its trackers are read, featurised and sent
    to the action server whole), so fifty conversations growing for the whole run would bench a bot
    whose every resident asks dozens of questions. ``visit_turns=0``: the conversations never end."""
    draw = random.Random(int(rate * 1000))
    sessions: list[str | None] = [None] * 50
    pending: list[asyncio.Task[Outcome]] = []

    async def turn(slot: int) -> Outcome:
        outcome, sessions[slot] = await one_turn(client, pool.take(), sessions[slot])
        if visit_turns and draw.random() < 1 / visit_turns:
            sessions[slot] = None  # this resident leaves; the next turn in the slot starts a new visit
        return outcome

    started = time.perf_counter()
    next_at = started
    while next_at - started < seconds:
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        pending.append(asyncio.create_task(turn(draw.randrange(len(sessions)))))
        next_at += draw.expovariate(rate)
    outcomes = await asyncio.gather(*pending)
    return summarise(scenario, config, rate, list(outcomes), time.perf_counter() - started)


@contextmanager
def database_for(config: str, scratch: Path) -> Iterator[str]:
    """The configuration's own database: a SQLite file in ``scratch``, or for the PostgreSQL configurations a
    fresh database on PG_ADMIN's server, dropped when the configuration is done (never the operator's)."""
    if config not in SHARED:
        yield f"sqlite:///{scratch / f'bench-{config}.db'}"
        return
    name = f"minwon_bench_{config}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # left by a run that was killed
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_stack(config: str, settings: Settings, scratch: Path, database_url: str) -> Stack:
    api_port, rasa_port = free_ports(2)
    settings.port, settings.rasa_port = api_port, rasa_port
    settings.metrics_port = 0  # the default scrape port may belong to a running install
    settings.database_url = database_url
    if config in SHARED:
        settings.redis_url = REDIS_URL
    if config == "r2":
        settings.api_replicas = settings.rasa_replicas = 2
    extra = {"MINWON_TURNS_PER_MINUTE_ADDRESS": "1000000", "MINWON_TURNS_PER_MINUTE_SESSION": "1000000"}
    if config == "off":
        extra |= {"MINWON_RASA_CONCURRENCY": "1000000", "MINWON_RASA_QUEUE": "0"}
    if config == "c4":
        settings.rasa_concurrency = 4
    if config == "c16":
        settings.rasa_concurrency = 16
    if config == "threads0":
        settings.model_threads = 0  # both children take it from these settings
    if config == "torch":
        settings.encoder = "torch"
    if config == "int8":
        settings.encoder = "int8"
    if config == "on2":  # two Rasa replicas: Rasa's NLU is single-threaded, a 2-core machine has two
        settings.rasa_replicas = 2
    stack = Stack(settings, log_dir=scratch / f"logs-{config}", extra_env=extra)
    # Rasa's environment is copied from this process's when it starts.
    os.environ["MINWON_RASA_STOCK"] = "1" if config in ("stock", "pgstock") else "0"
    try:
        stack.start()
        stack.wait_ready(timeout=600, say=lambda line: print(line, flush=True))
    except BaseException:
        stack.stop()  # never leave a Rasa behind
        raise
    finally:
        os.environ.pop("MINWON_RASA_STOCK", None)
    return stack


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children so far (/proc/PID/stat, clock ticks)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU per turn of each process of the stack over one scenario."""

    def __init__(self, stack: Stack) -> None:
        self.pids = {name: process.pid for name, process in stack.processes.items()}
        self.start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.client_start = cpu_seconds(os.getpid())

    def per_turn(self, summary: Summary) -> Summary:
        turns = max(1, summary.turns)
        for name, pid in self.pids.items():
            spent = cpu_seconds(pid) - self.start[name]
            summary.notes[f"cpu_{name}_ms_per_turn"] = round(1000 * spent / turns, 1)
        # This script shares the two cores with the stack; a county's residents do not.
        spent = cpu_seconds(os.getpid()) - self.client_start
        summary.notes["client_cpu_ms_per_turn"] = round(1000 * spent / turns, 1)
        return summary


async def measure(stack: Stack, config: str, args: argparse.Namespace) -> list[Summary]:
    pool = Questions()  # the same sequence for every configuration
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends: reusing one the server is closing
    # at that moment is a ReadError of the client's making (a browser resends such a request itself).
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000, keepalive_expiry=2.0)
    clients = [httpx.AsyncClient(base_url=url, timeout=60, limits=limits) for url in stack.api_urls]
    client = Spread(clients)
    try:
        for text in [*SMALL_TALK, "여권 발급 수수료", "전입신고 방법"]:  # warm-up: encoder, Rasa, database
            await one_turn(client, text, None)
        meter = CpuMeter(stack)
        results = [meter.per_turn(await burst(client, pool, args.burst, config))]
        print_row(results[-1])
        meter = CpuMeter(stack)
        results.append(
            meter.per_turn(
                await open_loop(client, pool, args.steady_rate, args.seconds, "steady", config, args.visit_turns)
            )
        )
        print_row(results[-1])
        for rate in args.rates:
            meter = CpuMeter(stack)
            results.append(
                meter.per_turn(await open_loop(client, pool, rate, args.seconds, "stress", config, args.visit_turns))
            )
            print_row(results[-1])
    finally:
        for each in clients:
            await each.aclose()
    rss = {name: round(rss_mb(process.pid)) for name, process in stack.processes.items()}
    for summary in results:
        summary.notes.update({f"rss_{name}_mb": value for name, value in rss.items()})
    print(f"  RSS: {rss}")
    return results


def print_row(s: Summary) -> None:
    print(
        f"  {s.config:3s} {s.scenario:6s} offered {s.offered:6.0f}  turns {s.turns:5d}  answered {s.answered:5d}"
        f"  degraded {s.degraded:4d}  errors {s.errors:4d}  busy-retries {s.busy_retries:5d}"
        f"  p50 {s.p50_ms:8.1f} ms  p95 {s.p95_ms:8.1f} ms  achieved {s.achieved_per_s:5.1f}/s"
        f"  cpu/turn {cpu_per_turn(s)} (bench client {s.notes.get('client_cpu_ms_per_turn', 0):.0f} ms)"
        f"  {error_kinds(s)}",
        flush=True,
    )


def cpu_per_turn(s: Summary) -> str:
    return " ".join(f"{k[4:-12]} {v:.0f} ms" for k, v in s.notes.items() if k.startswith("cpu_"))


def error_kinds(s: Summary) -> str:
    return " ".join(f"{k[7:]}={v:.0f}" for k, v in s.notes.items() if k.startswith("errors_"))


BASELINES = ("off", "stock", "threads0", "torch", "c4", "on", "pgstock", "pg")


def plot(results: list[Summary], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right, cpu) = plt.subplots(1, 3, figsize=(16, 4))
    styles = {
        "off": "o--",
        "stock": "x:",
        "threads0": "d:",
        "torch": "v:",
        "int8": ">-",
        "c4": "D:",
        "c16": "P:",
        "pg": "h:",
        "pgstock": "1:",
        "r2": "*-",
        "on": "s-",
        "on2": "^-",
    }
    for config, style in styles.items():
        rows = sorted((r for r in results if r.config == config and r.scenario == "stress"), key=lambda r: r.offered)
        if not rows:
            continue
        offered = [r.offered for r in rows]
        left.plot(offered, [r.p95_ms / 1000 for r in rows], style, label=config)
        right.plot(offered, [100 * r.errors / max(1, r.turns) for r in rows], style, label=config)
        per_turn = [sum(v for k, v in r.notes.items() if k.startswith("cpu_")) for r in rows]
        cpu.plot(offered, per_turn, style, label=config)
    left.axhline(1.5, color="grey", linewidth=0.8, linestyle=":")
    left.set(xlabel="offered turns per second", ylabel="p95 time to answer (s)", title="Latency against load")
    right.set(xlabel="offered turns per second", ylabel="errors (% of turns)", title="Errors against load")
    cpu.set(xlabel="offered turns per second", ylabel="CPU ms per turn (all processes)", title="CPU per turn")
    for axis in (left, right, cpu):
        axis.grid(alpha=0.3)
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def print_ratios(results: list[Summary]) -> None:
    by_key = {(r.config, r.scenario, r.offered): r for r in results}
    for baseline in BASELINES:
        if not any(r.config == baseline for r in results):
            continue
        print(f"\nratios against {baseline} (same run):")
        for (config, scenario, offered), row in sorted(by_key.items()):
            base = by_key.get((baseline, scenario, offered))
            if config == baseline or base is None:
                continue
            p95 = row.p95_ms / base.p95_ms if base.p95_ms else float("nan")
            cpu_row = sum(v for k, v in row.notes.items() if k.startswith("cpu_"))
            cpu_base = sum(v for k, v in base.notes.items() if k.startswith("cpu_"))
            cpu = cpu_row / cpu_base if cpu_base else float("nan")
            print(
                f"  {config:5s} {scenario:6s} {offered:6.0f}: p95 x{p95:.2f}  CPU/turn x{cpu:.2f}"
                f"  errors {row.errors} vs {base.errors}  achieved {row.achieved_per_s} vs {base.achieved_per_s}/s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--steady-rate", type=float, default=10.0, help="turns per second (200 residents / 20 s)")
    parser.add_argument("--rates", type=lambda v: [float(x) for x in v.split(",")], default=[10, 20, 30, 40, 50, 60])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each open-loop run")
    parser.add_argument(
        "--visit-turns",
        type=float,
        default=4.0,
        help="mean turns of one resident's visit in the open-loop runs (a greeting, a question, a follow-up, "
        "thanks); 0: fifty conversations that never end",
    )
    parser.add_argument("--configs", default="off,stock,threads0,torch,c4,int8,on,on2")
    parser.add_argument("--name", default="bench_capacity", help="results file name in evaluation/results")
    args = parser.parse_args()
    results: list[Summary] = []
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as scratch:
        for config in args.configs.split(","):
            print(f"[bench] admission {config}: starting a stack", flush=True)
            with database_for(config, Path(scratch)) as database_url:
                stack = start_stack(config, Settings.from_env(), Path(scratch), database_url)
                try:
                    results.extend(asyncio.run(measure(stack, config, args)))
                finally:
                    stack.stop()
    print_ratios(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(
        json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    plot(results, RESULTS / f"{args.name}.png")
    print(f"wrote {RESULTS / args.name}.json and {args.name}.png")


if __name__ == "__main__":
    main()
