"""Botium's convo text format (``*.convo.txt``): read a file, check one bot message against a ``#bot`` block.

The subset QA teams use, with Botium's meaning, so the same files run in Botium unchanged:

- the first line is the conversation's title (further lines before the first ``#`` describe it);
- ``#me`` blocks are what the resident types (``BUTTON <payload>`` presses a button: sends its payload);
- each ``#bot`` block is checked against the **next** bot message, in order (a turn that makes two
  messages needs two ``#bot`` blocks);
- a bot text line must occur in the message (``*`` matches anything; case and spacing are ignored);
  a leading ``!`` means it must not occur;
- ``BUTTONS a|b``: the message offers buttons containing each text; ``TEXT_CONTAINS_ALL a|b`` /
  ``TEXT_CONTAINS_ANY a|b``: the text contains all / any of them; each may be negated with ``!``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

SUFFIX = ".convo.txt"
Sender = Literal["me", "bot"]
Check = Literal["text", "BUTTONS", "TEXT_CONTAINS_ALL", "TEXT_CONTAINS_ANY"]
ASSERTERS: tuple[Check, ...] = ("BUTTONS", "TEXT_CONTAINS_ALL", "TEXT_CONTAINS_ANY")
SENDERS = ("me", "bot")
SPACES = re.compile(r"\s+")


class ConvoError(ValueError):
    """A convo file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Expectation:
    check: Check
    args: tuple[str, ...]
    negated: bool = False

    def describe(self) -> str:
        """The expectation in the words a QA person wrote it, for reports."""
        prefix = "!" if self.negated else ""
        if self.check == "text":
            return prefix + self.args[0]
        return f"{prefix}{self.check} {'|'.join(self.args)}"


@dataclass(frozen=True)
class Step:
    sender: Sender
    line: int
    text: str = ""  # what the resident sends (#me)
    pressed: bool = False  # sent by pressing a button (BUTTON <payload>), not typed
    expectations: tuple[Expectation, ...] = ()  # what the bot message must satisfy (#bot)


@dataclass(frozen=True)
class Convo:
    name: str
    path: Path
    steps: tuple[Step, ...]
    description: str = ""

    @property
    def resident_turns(self) -> list[Step]:
        return [s for s in self.steps if s.sender == "me"]


@dataclass(frozen=True)
class BotMessage:
    """One bot message as the resident sees it."""

    text: str
    buttons: tuple[str, ...] = ()
    payloads: tuple[str, ...] = field(default=(), compare=False)


def _args(rest: str) -> tuple[str, ...]:
    # Botium's argument list: "|" separates, "\|" is a literal bar.
    parts = rest.replace("\\|", "\x00").split("|")
    return tuple(p.replace("\x00", "|").strip() for p in parts if p.strip())


def _bot_step(lines: list[tuple[int, str]], path: Path, start: int) -> Step:
    expectations: list[Expectation] = []
    text_lines: list[str] = []
    for number, line in lines:
        negated = line.startswith("!") and not line.startswith("!!")
        body = line[1:] if line.startswith("!") else line
        name, _, rest = body.partition(" ")
        if name in ASSERTERS:
            args = _args(rest)
            if not args:
                raise ConvoError(f"{path}:{number}: {name} needs at least one argument (a|b)")
            expectations.append(Expectation(name, args, negated))
        else:
            text_lines.append(line)
    if text_lines:
        # Botium joins a block's text lines into one expected text; only the first line's "!" counts.
        first = text_lines[0]
        negated = first.startswith("!") and not first.startswith("!!")
        text = " ".join([first[1:] if first.startswith("!") else first, *text_lines[1:]])
        expectations.insert(0, Expectation("text", (text,), negated))
    if not expectations:
        raise ConvoError(f"{path}:{start}: #bot block without anything to check")
    return Step("bot", start, expectations=tuple(expectations))


def _me_step(lines: list[tuple[int, str]], path: Path, start: int) -> Step:
    texts = [line for _, line in lines]
    if not texts:
        raise ConvoError(f"{path}:{start}: #me block without a message")
    if texts[0].startswith("BUTTON "):
        args = _args(texts[0][len("BUTTON ") :])
        if not args:
            raise ConvoError(f"{path}:{start}: BUTTON needs the button's payload")
        return Step("me", start, text=args[0], pressed=True)
    return Step("me", start, text="\n".join(texts))


def parse(text: str, path: Path) -> Convo:
    header: list[str] = []
    blocks: list[tuple[Sender, int, list[tuple[int, str]]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#"):
            sender = line[1:].strip().split(" ", 1)[0]
            if sender not in SENDERS:
                raise ConvoError(f"{path}:{number}: unknown section #{sender} (use #me or #bot)")
            blocks.append((sender, number, []))  # type: ignore[arg-type]
        elif not line:
            continue
        elif blocks:
            blocks[-1][2].append((number, line))
        else:
            header.append(line)
    if not header:
        raise ConvoError(f"{path}:1: the first line must be the conversation's title")
    steps = [
        _me_step(lines, path, start) if sender == "me" else _bot_step(lines, path, start)
        for sender, start, lines in blocks
    ]
    if not any(s.sender == "me" for s in steps):
        raise ConvoError(f"{path}: no #me block: the resident never says anything")
    return Convo(name=header[0], description="\n".join(header[1:]), path=path, steps=tuple(steps))


def load(path: Path) -> Convo:
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel and Notepad like to add a BOM
    except UnicodeDecodeError as exc:
        raise ConvoError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    return parse(text, path)


def load_dir(folder: Path) -> list[Convo]:
    files = sorted(folder.rglob(f"*{SUFFIX}"))
    if not files:
        raise ConvoError(f"{folder}: no {SUFFIX} files")
    return [load(p) for p in files]


def normalize(text: str) -> str:
    """Botium's SCRIPTING_NORMALIZE_TEXT: line breaks and runs of spaces become one space."""
    return SPACES.sub(" ", text).strip()


def matches(actual: str, expected: str) -> bool:
    """Botium's default ``wildcardIgnoreCase``: ``expected`` occurs in ``actual``; ``*`` matches anything."""
    pattern = ".*".join(re.escape(normalize(part)) for part in expected.split("*"))
    return re.search(pattern, normalize(actual), re.IGNORECASE | re.DOTALL) is not None


def _holds(expectation: Expectation, message: BotMessage) -> bool:
    if expectation.check == "text":
        return matches(message.text, expectation.args[0])
    if expectation.check == "BUTTONS":
        offered = [*message.buttons, *message.payloads]
        found = [a for a in expectation.args if any(matches(b, a) for b in offered)]
        # BUTTONS: all of them offered; !BUTTONS: none of them offered.
        return len(found) == len(expectation.args) if not expectation.negated else bool(found)
    text = normalize(message.text)
    hits = [normalize(a) in text for a in expectation.args]
    return all(hits) if expectation.check == "TEXT_CONTAINS_ALL" else any(hits)


def failed_expectations(step: Step, message: BotMessage) -> list[Expectation]:
    """The expectations of a ``#bot`` step this message breaks (empty: the step passes)."""
    return [e for e in step.expectations if _holds(e, message) == e.negated]
