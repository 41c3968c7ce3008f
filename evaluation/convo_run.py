"""Run Botium convo files against ``POST /api/v1/chat`` and write a Korean report (Markdown + HTML).

The same semantics as Botium's generic HTTP/JSON connector with ``evaluation/botium.json``: one
session per conversation (the token of each reply goes with the next turn), every bot message of a
reply queued in order, each ``#bot`` block checks the next one. A handoff still waiting when the
conversation ends is cancelled, so test runs leave no residents in the officers' queue.
"""

from __future__ import annotations

import html
import shutil
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from api.runner import Stack, free_ports
from api.settings import Settings
from evaluation.convo import BotMessage, Convo, Expectation, Step, failed_expectations

TURN_TIMEOUT = 30.0


@dataclass
class Turn:
    said: str
    replies: list[BotMessage] = field(default_factory=list)


@dataclass
class ConvoResult:
    convo: Convo
    turns: list[Turn] = field(default_factory=list)
    failed_step: Step | None = None
    broken: list[Expectation] = field(default_factory=list)
    seen: BotMessage | None = None  # the message the failed step was checked against (None: no message)
    error: str = ""  # the api refused or could not be reached
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.failed_step is None and not self.error

    @property
    def flow(self) -> str:
        """The folder a conversation lives in names the flow it tests (faq, followup, handoff …)."""
        return self.convo.path.parent.name


def _message(item: dict[str, Any]) -> BotMessage:
    buttons = item.get("buttons") or []
    return BotMessage(
        text=str(item.get("text") or ""),
        buttons=tuple(str(b.get("title", "")) for b in buttons),
        payloads=tuple(str(b.get("payload", "")) for b in buttons if b.get("payload")),
    )


class ChatSession:
    """One resident: a session token carried from reply to reply."""

    def __init__(self, client: httpx.Client, api_url: str) -> None:
        self.client = client
        self.api_url = api_url.rstrip("/")
        self.token: str | None = None
        self.handoff_state = "bot"

    def say(self, text: str) -> list[BotMessage]:
        body = {"session": self.token, "text": text, "client_id": uuid.uuid4().hex}
        response = self.client.post(f"{self.api_url}/api/v1/chat", json=body, timeout=TURN_TIMEOUT)
        data = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code != 200:
            detail = data.get("detail") if isinstance(data, dict) else None
            raise RuntimeError(f"HTTP {response.status_code}: {detail or response.text[:200]}")
        self.token = data["session"]
        self.handoff_state = str((data.get("handoff") or {}).get("state", "bot"))
        return [_message(m) for m in data.get("messages", [])]

    def close(self) -> None:
        if self.token and self.handoff_state == "waiting":
            self.client.post(f"{self.api_url}/api/v1/handoff/cancel", json={"session": self.token}, timeout=10)


def run_convo(client: httpx.Client, api_url: str, convo: Convo) -> ConvoResult:
    result = ConvoResult(convo)
    session = ChatSession(client, api_url)
    queue: deque[BotMessage] = deque()
    started = time.perf_counter()
    try:
        for step in convo.steps:
            if step.sender == "me":
                turn = Turn(step.text)
                result.turns.append(turn)
                turn.replies = session.say(step.text)
                queue.extend(turn.replies)
                continue
            message = queue.popleft() if queue else None
            broken = list(step.expectations) if message is None else failed_expectations(step, message)
            if broken:
                result.failed_step, result.broken, result.seen = step, broken, message
                break
    except (httpx.HTTPError, RuntimeError, ValueError) as exc:
        result.error = str(exc) or type(exc).__name__
    finally:
        try:
            session.close()
        except httpx.HTTPError:
            pass
        result.seconds = time.perf_counter() - started
    return result


def run_all(api_url: str, convos: list[Convo], say: Any = print) -> list[ConvoResult]:
    results = []
    with httpx.Client() as client:
        for number, convo in enumerate(convos, start=1):
            result = run_convo(client, api_url, convo)
            mark = "통과" if result.passed else "실패"
            say(f"[{number}/{len(convos)}] {mark}  {convo.name}  ({convo.path.name})")
            results.append(result)
    return results


def copy_built_index(root: Path, dest: Path) -> Path:
    """The current index and the embedding cache of ``root``, copied to ``dest`` (a throwaway var)."""
    built = (root / "current").resolve()
    if not built.is_dir():
        raise RuntimeError(f"no built index at {root}; run `minwon index build`")
    shutil.copytree(built, dest / built.name)
    (dest / "current").symlink_to(built.name)
    # The api builds its own release from the throwaway database at start-up; without the phrasing
    # vectors it re-embeds every phrasing (about ten minutes on two cores) before the first turn.
    cache = root / "embeddings"
    if cache.is_dir():
        shutil.copytree(cache, dest / "embeddings")
    return dest


@contextmanager
def own_stack(settings: Settings, say: Any = print) -> Iterator[str]:
    """Rasa + api for the run only: free ports, a throwaway SQLite database and a copy of the built index
    (test conversations and handoffs never reach the county's database), the live-chat desk open."""
    with tempfile.TemporaryDirectory(prefix="minwon-convo-") as tmp:
        var = Path(tmp)
        index = copy_built_index(settings.index_root, var / "index")
        api_port, rasa_port = free_ports(2)
        own = replace(
            settings,
            var_dir=var,
            database_url="",
            index_dir=index,
            port=api_port,
            rasa_port=rasa_port,
            rasa_url=f"http://127.0.0.1:{rasa_port}",
            office_override="open",
            secret_key="",
            cors_origins=[],
            rasa_timeout=max(settings.rasa_timeout, 15.0),  # a busy machine is slow; answers are under test
            # Every scripted resident comes from this one address; the per-conversation limit still holds.
            turns_per_minute_address=100_000,
        )
        stack = Stack(own)
        stack.start()
        try:
            stack.wait_ready(timeout=300, say=say)
            yield stack.api_url
        finally:
            stack.stop()


def pass_rate(results: list[ConvoResult]) -> float:
    return sum(r.passed for r in results) / len(results) if results else 0.0


def _flows(results: list[ConvoResult]) -> dict[str, list[ConvoResult]]:
    flows: dict[str, list[ConvoResult]] = {}
    for result in results:
        flows.setdefault(result.flow, []).append(result)
    return flows


def _seen(result: ConvoResult) -> str:
    if result.error:
        return f"(오류) {result.error}"
    if result.seen is None:
        return "(챗봇이 더 답하지 않았습니다)"
    buttons = f"\n[버튼] {' | '.join(result.seen.buttons)}" if result.seen.buttons else ""
    return result.seen.text + buttons


def _failed_input(result: ConvoResult) -> str:
    return result.turns[-1].said if result.turns else ""


def markdown_report(results: list[ConvoResult], api_url: str) -> str:
    passed = sum(r.passed for r in results)
    lines = [
        "# 대화 시나리오 테스트 결과",
        "",
        f"- 대상: `{api_url}`",
        f"- 실행 시각: {time.strftime('%Y-%m-%d %H:%M', time.localtime())}",
        f"- 통과: **{passed} / {len(results)}** ({pass_rate(results):.0%})",
        "",
        "## 흐름별 통과율",
        "",
        "| 흐름 | 통과 | 전체 | 통과율 |",
        "|---|---|---|---|",
    ]
    for flow, group in sorted(_flows(results).items()):
        ok = sum(r.passed for r in group)
        lines.append(f"| {flow} | {ok} | {len(group)} | {ok / len(group):.0%} |")
    lines += ["", "## 대화별 결과", "", "| 결과 | 대화 | 파일 | 실패한 곳 |", "|---|---|---|---|"]
    for r in results:
        where = "" if r.passed else (f"{r.convo.path.name}:{r.failed_step.line}" if r.failed_step else "api 오류")
        lines.append(f"| {'통과' if r.passed else '실패'} | {r.convo.name} | {r.flow}/{r.convo.path.name} | {where} |")
    failures = [r for r in results if not r.passed]
    if failures:
        lines += ["", "## 실패한 대화", ""]
    for r in failures:
        lines += [f"### {r.convo.name}", "", f"- 파일: `{r.flow}/{r.convo.path.name}`"]
        if r.failed_step is not None:
            lines.append(f"- 실패한 줄: {r.failed_step.line} (#bot)")
        lines.append(f"- 주민이 입력한 말: `{_failed_input(r)}`")
        for expectation in r.broken:
            lines.append(f"- 기대: `{expectation.describe()}`")
        lines += ["- 주민이 본 답변:", "", "```", _seen(r), "```", ""]
    return "\n".join(lines) + "\n"


STYLE = (
    "body{font-family:'Noto Sans KR','Malgun Gothic',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
    "line-height:1.55;word-break:keep-all;overflow-wrap:anywhere}table{border-collapse:collapse;width:100%}"
    "td,th{border:1px solid #c8ced6;padding:4px 8px;text-align:left;vertical-align:top}"
    ".ok{color:#13401f;background:#e6f4ea}.fail{color:#8a1c1c;background:#fdecea}"
    "pre{white-space:pre-wrap;background:#f4f6f9;border:1px solid #c8ced6;padding:8px;border-radius:6px}"
    "details{margin:.5em 0}summary{cursor:pointer;font-weight:700}"
)


def html_report(results: list[ConvoResult], api_url: str) -> str:
    e = html.escape
    passed = sum(r.passed for r in results)
    out = [
        "<!doctype html><html lang='ko'><meta charset='utf-8'><title>대화 시나리오 테스트 결과</title>",
        f"<style>{STYLE}</style><body><h1>대화 시나리오 테스트 결과</h1>",
        f"<p>대상: <code>{e(api_url)}</code> · 통과 <strong>{passed} / {len(results)}</strong> "
        f"({pass_rate(results):.0%})</p>",
        "<h2>흐름별 통과율</h2><table><tr><th>흐름</th><th>통과</th><th>전체</th><th>통과율</th></tr>",
    ]
    for flow, group in sorted(_flows(results).items()):
        ok = sum(r.passed for r in group)
        out.append(f"<tr><td>{e(flow)}</td><td>{ok}</td><td>{len(group)}</td><td>{ok / len(group):.0%}</td></tr>")
    out.append("</table><h2>대화별 결과</h2>")
    for r in results:
        css, mark = ("ok", "통과") if r.passed else ("fail", "실패")
        out.append(
            f"<details{'' if r.passed else ' open'}><summary class='{css}'>{mark} · {e(r.convo.name)} "
            f"<small>({e(r.flow)}/{e(r.convo.path.name)})</small></summary>"
        )
        if not r.passed:
            where = f"{r.failed_step.line}번째 줄" if r.failed_step else "api 오류"
            expected = "".join(f"<li><code>{e(x.describe())}</code></li>" for x in r.broken)
            out.append(
                f"<p class='fail'>실패한 곳: {e(where)} · 주민 입력: <code>{e(_failed_input(r))}</code></p>"
                f"<p>기대:</p><ul>{expected}</ul><p>주민이 본 답변:</p><pre>{e(_seen(r))}</pre>"
            )
        out.append("<table><tr><th>주민</th><th>챗봇</th></tr>")
        for turn in r.turns:
            replies = "\n\n".join(
                m.text + (f"\n[버튼] {' | '.join(m.buttons)}" if m.buttons else "") for m in turn.replies
            )
            out.append(f"<tr><td>{e(turn.said)}</td><td><pre>{e(replies)}</pre></td></tr>")
        out.append("</table></details>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(results: list[ConvoResult], api_url: str, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.md").write_text(markdown_report(results, api_url), encoding="utf-8")
    (out_dir / "report.html").write_text(html_report(results, api_url), encoding="utf-8")
    return out_dir / "report.md"
