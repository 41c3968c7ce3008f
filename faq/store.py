"""Load, validate and render the curated FAQ.

Seed files (``faq/data/*.yaml``, one topic each) are edited by staff, so every
problem is reported with the file and line it comes from. Answers reference
county-specific values (``{dept.civil.phone}``) that live in one county
profile (``faq/county.yaml``); a real county edits that file only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

FAQ_DIR = Path(__file__).resolve().parent
DATA_DIR = FAQ_DIR / "data"
COUNTY_FILE = FAQ_DIR / "county.yaml"
PLACEHOLDER = re.compile(r"\{([a-z0-9_]+(?:\.[a-z0-9_]+)+)\}")
MIN_ALTERNATIVES = 4


class FaqLoadError(ValueError):
    """A seed or profile file is invalid; the message names file and line."""


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    url: str


class Answer(BaseModel):
    """The curated answer, in the order a resident reads it on a phone."""

    model_config = ConfigDict(extra="forbid")
    summary: str
    bring: list[str] = Field(default_factory=list)
    fee: str | None = None
    processing_time: str | None = None
    where: str | None = None
    online: str | None = None
    note: str | None = None


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^T\d{2}-\d{3}$")
    topic: str = ""
    question: str = Field(min_length=4)
    alternatives: list[str]
    answer: Answer
    department: str
    links: list[Link] = Field(default_factory=list)
    reviewed: dt.date
    source: str = Field(pattern=r"^https?://")
    # What follow-up questions refer to ("그거 수수료는요?"); defaults to the file's subject.
    subject: str = ""

    @field_validator("alternatives")
    @classmethod
    def _enough_alternatives(cls, value: list[str]) -> list[str]:
        if len(value) < MIN_ALTERNATIVES:
            raise ValueError(f"needs at least {MIN_ALTERNATIVES} alternative phrasings, has {len(value)}")
        if any(not v.strip() for v in value):
            raise ValueError("alternative phrasings must not be empty")
        return value

    @property
    def phrasings(self) -> list[str]:
        return [self.question, *self.alternatives]


class TopicFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str = Field(pattern=r"^T\d{2}$")
    title: str
    # Default subject of follow-up questions for this file's entries ("" = none).
    subject: str = ""
    entries: list[Entry]


class _LineLoader(yaml.SafeLoader):
    """Records the source line of every mapping as ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def _line_of(raw: Any, loc: tuple[int | str, ...]) -> int | None:
    line = raw.get("__line__") if isinstance(raw, dict) else None
    node = raw
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and "__line__" in node:
            line = node["__line__"]
    return line


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FaqLoadError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise FaqLoadError(f"{path}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc


def load_topic_file(path: Path) -> TopicFile:
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise FaqLoadError(f"{path}:1: expected a mapping with 'topic', 'title' and 'entries'")
    try:
        parsed = TopicFile.model_validate(_strip_lines(raw))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            line = _line_of(raw, err["loc"])
            field = ".".join(str(p) for p in err["loc"])
            problems.append(f"{path}:{line or '?'}: {field}: {err['msg']}")
        raise FaqLoadError("\n".join(problems)) from exc
    for entry in parsed.entries:
        entry.topic = parsed.topic
        entry.subject = entry.subject or parsed.subject
        if not entry.id.startswith(parsed.topic + "-"):
            raise FaqLoadError(f"{path}: entry {entry.id} does not belong to topic {parsed.topic}")
    return parsed


class CountyProfile:
    """County-specific values that answers reference as ``{dotted.keys}``."""

    def __init__(self, values: dict[str, Any], path: Path) -> None:
        self.path = path
        self.values = values
        self.flat = self._flatten(values)

    @classmethod
    def load(cls, path: Path = COUNTY_FILE) -> CountyProfile:
        raw = _read_yaml(path)
        if not isinstance(raw, dict):
            raise FaqLoadError(f"{path}:1: expected a mapping of county settings")
        return cls(_strip_lines(raw), path)

    @staticmethod
    def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, str]:
        flat: dict[str, str] = {}
        for key, value in values.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                flat.update(CountyProfile._flatten(value, name + "."))
            else:
                flat[name] = str(value)
        return flat

    def render(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.flat[m.group(1)], text)

    def missing(self, text: str) -> list[str]:
        return [m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1) not in self.flat]

    def department(self, key: str) -> dict[str, str]:
        dept = self.values.get("dept", {}).get(key)
        if not isinstance(dept, dict):
            raise KeyError(key)
        return {k: str(v) for k, v in dept.items()}


class FaqStore:
    """All entries, with answers rendered against the county profile."""

    def __init__(self, entries: list[Entry], profile: CountyProfile) -> None:
        self.entries = entries
        self.profile = profile
        self.by_id = {entry.id: entry for entry in entries}
        self._rendered: dict[str, str] = {}

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR, county_file: Path = COUNTY_FILE) -> FaqStore:
        profile = CountyProfile.load(county_file)
        files = sorted(data_dir.glob("*.yaml"))
        if not files:
            raise FaqLoadError(f"{data_dir}: no FAQ seed files (*.yaml)")
        entries: list[Entry] = []
        seen: dict[str, Path] = {}
        problems: list[str] = []
        for path in files:
            try:
                topic = load_topic_file(path)
            except FaqLoadError as exc:
                problems.append(str(exc))
                continue
            for entry in topic.entries:
                if entry.id in seen:
                    problems.append(f"{path}: duplicate id {entry.id} (also in {seen[entry.id].name})")
                seen[entry.id] = path
                problems.extend(cls._check_references(entry, profile, path))
                entries.append(entry)
        if problems:
            raise FaqLoadError("\n".join(problems))
        return cls(entries, profile)

    @staticmethod
    def _check_references(entry: Entry, profile: CountyProfile, path: Path) -> list[str]:
        problems = []
        try:
            profile.department(entry.department)
        except KeyError:
            problems.append(f"{path}: {entry.id}: unknown department '{entry.department}' (see {profile.path.name})")
        texts = [entry.question, *entry.alternatives, *entry.answer.model_dump(exclude_none=True).values()]
        for text in texts:
            for item in text if isinstance(text, list) else [text]:
                for key in profile.missing(str(item)):
                    problems.append(f"{path}: {entry.id}: unknown placeholder {{{key}}} (see {profile.path.name})")
        return problems

    def fingerprint(self) -> str:
        """Changes whenever any entry or the county profile changes."""
        digest = hashlib.sha256()
        for entry in self.entries:
            digest.update(entry.model_dump_json().encode())
        digest.update(repr(sorted(self.profile.flat.items())).encode())
        return digest.hexdigest()[:16]

    def render_answer(self, entry: Entry) -> str:
        """The answer as residents read it: summary, then labelled lines (rendered once)."""
        if entry.id not in self._rendered:
            self._rendered[entry.id] = self._render(entry)
        return self._rendered[entry.id]

    def _render(self, entry: Entry) -> str:
        answer = entry.answer
        dept = self.profile.department(entry.department)
        lines = [self.profile.render(answer.summary.strip())]
        details: list[tuple[str, str | None]] = [
            ("준비물", ", ".join(self.profile.render(b) for b in answer.bring) or None),
            ("수수료", answer.fee),
            ("처리기간", answer.processing_time),
            ("신청 장소", answer.where),
            ("온라인", answer.online),
            ("참고", answer.note),
        ]
        body = [f"■ {label}: {self.profile.render(value.strip())}" for label, value in details if value]
        body.append(f"■ 문의: {dept['name']} ({dept['phone']})")
        for link in entry.links:
            body.append(f"■ 바로가기: {link.title} {link.url}")
        return "\n".join([*lines, "", *body])
