"""Load and validate the curated FAQ (the baseline content pack).

Topic files (``faq/data/*.yaml``) are edited by staff, so every problem is
reported with the file and line it comes from. Answers reference county values
(``{dept.civil.phone}``) from the county profile (``faq/county.yaml``) and
national values (``{fact.passport.fee_10y_58}``) from the facts table
(``faq/facts.yaml``); a real county edits the profile only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from faq.facts import FACT_PREFIX, FACTS_FILE, FactsTable
from faq.lexicon import Lexicon
from faq.yamlio import FaqLoadError, line_of, read_yaml, strip_lines

__all__ = ["ANSWER_FIELDS", "Answer", "CountyProfile", "Entry", "FaqLoadError", "FaqStore"]

FAQ_DIR = Path(__file__).resolve().parent
DATA_DIR = FAQ_DIR / "data"
COUNTY_FILE = FAQ_DIR / "county.yaml"
PLACEHOLDER = re.compile(r"\{([a-z0-9_]+(?:\.[a-z0-9_]+)+)\}")
# Rasa would try to fill {braces} from slots, so the bot's responses mark county values as [[county.name]].
BOT_MARKER = re.compile(r"\[\[([a-z0-9_]+(?:\.[a-z0-9_]+)+)\]\]")
MIN_ALTERNATIVES = 4

# Answer fields in the order a resident reads them on a phone, with the label shown.
ANSWER_FIELDS: dict[str, str] = {
    "eligibility": "대상",
    "benefit": "지원 내용",
    "bring": "준비물",
    "fee": "수수료",
    "deadline": "기한",
    "processing_time": "처리기간",
    "where": "신청 장소",
    "online": "온라인",
    "payment": "납부 방법",
    "note": "참고",
}


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    url: str = Field(pattern=r"^https?://")


class Answer(BaseModel):
    """The curated answer. Each field holds only what its label says."""

    model_config = ConfigDict(extra="forbid")
    summary: str = Field(min_length=1)
    eligibility: str | None = None  # 대상: who qualifies
    benefit: str | None = None  # 지원 내용: what is given (amounts, services)
    bring: list[str] = Field(default_factory=list)  # 준비물
    fee: str | None = None  # 수수료 (what the resident pays the office)
    deadline: str | None = None  # 기한: filing or payment deadlines, periods
    processing_time: str | None = None  # 처리기간: how long the office takes
    where: str | None = None  # 신청 장소: where to apply
    online: str | None = None  # 온라인: the online route
    payment: str | None = None  # 납부 방법: how to pay a tax, fine or fee
    note: str | None = None  # 참고

    def texts(self) -> list[str]:
        values = self.model_dump(exclude_none=True)
        out: list[str] = []
        for value in values.values():
            out.extend(value if isinstance(value, list) else [value])
        return out


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # T: the shipped content pack; C: entries a county created in the console (same topic numbers).
    id: str = Field(pattern=r"^[TC]\d{2}-\d{3}$")
    topic: str = ""
    question: str = Field(min_length=4)
    alternatives: list[str]
    answer: Answer
    department: str = ""  # defaults to the topic file's department
    links: list[Link] = Field(default_factory=list)
    # Pinpoint public source (law article, ministry or 정부24 page) and the day it was actually checked.
    source: str = Field(pattern=r"^https?://")
    basis: str | None = None  # the law and article, where there is one ("여권법 시행령 제38조")
    verified: dt.date
    # Shown to residents when values change yearly ("2026년 기준"); derived from the facts used when empty.
    as_of: str | None = None
    # The owner re-checks the entry by this day (listed as overdue after it); past ``expires`` the
    # answer is no longer served (the bot points to the department instead).
    review_by: dt.date | None = None
    expires: dt.date | None = None
    # For officers only (처리 요령, 내부 참고, 관련 부서 연락처): shown in the console, never to residents.
    internal_notes: str | None = None
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

    def texts(self) -> list[str]:
        """Every resident-visible string of the entry (for reference and wording checks)."""
        return [self.question, *self.alternatives, *self.answer.texts(), *(link.title for link in self.links)]


class TopicFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str = Field(pattern=r"^T\d{2}$")
    title: str
    # Default subject of follow-up questions for this file's entries ("" = none).
    subject: str = ""
    department: str = ""  # default department key for the file's entries
    entries: list[Entry]


def load_topic_file(path: Path) -> TopicFile:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise FaqLoadError(f"{path}:1: expected a mapping with 'topic', 'title' and 'entries'")
    try:
        parsed = TopicFile.model_validate(strip_lines(raw))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            line = line_of(raw, err["loc"])
            field = ".".join(str(p) for p in err["loc"])
            problems.append(f"{path}:{line or '?'}: {field}: {err['msg']}")
        raise FaqLoadError("\n".join(problems)) from exc
    problems = []
    for number, entry in enumerate(parsed.entries):
        entry.topic = parsed.topic
        entry.subject = entry.subject or parsed.subject
        entry.department = entry.department or parsed.department
        at = line_of(raw, ("entries", number)) or "?"
        if not entry.id.startswith(parsed.topic + "-"):
            problems.append(f"{path}:{at}: entry {entry.id} does not belong to topic {parsed.topic}")
        if not entry.department:
            problems.append(f"{path}:{at}: {entry.id}: no department (set it on the entry or the file)")
    if problems:
        raise FaqLoadError("\n".join(problems))
    return parsed


class CountyProfile:
    """County-specific values that answers reference as ``{dotted.keys}``."""

    def __init__(self, values: dict[str, Any], path: Path) -> None:
        self.path = path
        self.values = values
        self.flat = self._flatten(values)

    @classmethod
    def load(cls, path: Path = COUNTY_FILE) -> CountyProfile:
        raw = read_yaml(path)
        if not isinstance(raw, dict):
            raise FaqLoadError(f"{path}:1: expected a mapping of county settings")
        values = strip_lines(raw)
        if FACT_PREFIX.rstrip(".") in values:
            raise FaqLoadError(f"{path}: 'fact' is reserved for the national facts table ({FACTS_FILE.name})")
        return cls(values, path)

    @staticmethod
    def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, str]:
        flat: dict[str, str] = {}
        for key, value in values.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                flat.update(CountyProfile._flatten(value, name + "."))
            elif isinstance(value, list):
                flat[name] = ", ".join(str(v) for v in value)
            else:
                flat[name] = str(value)
        return flat

    def fill_markers(self, text: str) -> str:
        """Replace ``[[county.name]]``-style markers (used in the bot's own responses, which Rasa stores)."""
        return BOT_MARKER.sub(lambda m: self.flat.get(m.group(1), m.group(0)), text)

    def department(self, key: str) -> dict[str, str]:
        dept = self.values.get("dept", {}).get(key)
        if not isinstance(dept, dict):
            raise KeyError(key)
        return {k: str(v) for k, v in dept.items()}

    def literal_names(self) -> list[str]:
        """Names that identify this county; answers must reference them, never spell them out."""
        county = self.values.get("county", {})
        names = [str(county.get(key, "")) for key in ("name", "office", "short_name")]
        names.extend(str(alias) for alias in county.get("aliases", []) or [])
        return sorted({n for n in names if len(n) >= 2}, key=len, reverse=True)


class FaqStore:
    """All entries, with the county profile and the facts table they reference."""

    def __init__(
        self,
        entries: list[Entry],
        profile: CountyProfile,
        facts: FactsTable,
        titles: dict[str, str],
        lexicon: Lexicon | None = None,
    ) -> None:
        self.entries = entries
        self.profile = profile
        self.facts = facts
        self.topic_titles = titles
        self.lexicon = lexicon or Lexicon()
        self.by_id = {entry.id: entry for entry in entries}
        self.values = {**profile.flat, **facts.flat()}
        self._rendered: dict[str, str] = {}

    @classmethod
    def load(
        cls, data_dir: Path = DATA_DIR, county_file: Path = COUNTY_FILE, facts_file: Path = FACTS_FILE
    ) -> FaqStore:
        profile = CountyProfile.load(county_file)
        facts = FactsTable.load(facts_file)
        files = sorted(data_dir.glob("*.yaml"))
        if not files:
            raise FaqLoadError(f"{data_dir}: no FAQ topic files (*.yaml)")
        entries: list[Entry] = []
        titles: dict[str, str] = {}
        seen: dict[str, Path] = {}
        problems: list[str] = []
        store_values = {**profile.flat, **facts.flat()}
        for path in files:
            try:
                topic = load_topic_file(path)
            except FaqLoadError as exc:
                problems.append(str(exc))
                continue
            titles[topic.topic] = topic.title
            for entry in topic.entries:
                if entry.id in seen:
                    problems.append(f"{path}: duplicate id {entry.id} (also in {seen[entry.id].name})")
                seen[entry.id] = path
                problems.extend(cls._check_references(entry, profile, store_values, path))
                entries.append(entry)
        if problems:
            raise FaqLoadError("\n".join(problems))
        return cls(entries, profile, facts, titles)

    @staticmethod
    def _check_references(entry: Entry, profile: CountyProfile, values: dict[str, str], path: Path) -> list[str]:
        problems = []
        try:
            profile.department(entry.department)
        except KeyError:
            problems.append(f"{path}: {entry.id}: unknown department '{entry.department}' (see {profile.path.name})")
        for text in entry.texts():
            for key in PLACEHOLDER.findall(text):
                if key not in values:
                    where = FACTS_FILE.name if key.startswith(FACT_PREFIX) else profile.path.name
                    problems.append(f"{path}: {entry.id}: unknown placeholder {{{key}}} (see {where})")
        return problems

    def fingerprint(self) -> str:
        """Changes whenever any entry, the county profile or the facts table changes."""
        digest = hashlib.sha256()
        for entry in sorted(self.entries, key=lambda e: e.id):  # the same content in any order, one key
            digest.update(entry.model_dump_json().encode())
        digest.update(repr(sorted(self.values.items())).encode())
        digest.update(self.lexicon.fingerprint().encode())
        return digest.hexdigest()[:16]

    def is_expired(self, entry: Entry, today: dt.date) -> bool:
        return entry.expires is not None and entry.expires < today

    def fill(self, text: str) -> str:
        """Replace ``{keys}`` with county and national values."""
        return PLACEHOLDER.sub(lambda m: self.values[m.group(1)], text)

    def facts_used(self, entry: Entry) -> list[str]:
        """Keys of the national facts an entry quotes, in first-use order."""
        keys: dict[str, None] = {}
        for text in entry.texts():
            for key in PLACEHOLDER.findall(text):
                if key.startswith(FACT_PREFIX):
                    keys[key.removeprefix(FACT_PREFIX)] = None
        return list(keys)

    def as_of(self, entry: Entry) -> str | None:
        """ "2026년 3월 1일 기준" from the newest effective date of the facts an entry quotes."""
        if entry.as_of:
            return entry.as_of
        dates = [f.effective for key in self.facts_used(entry) if (f := self.facts.get(key)) and f.effective]
        if not dates:
            return None
        newest = max(dates)
        return f"{korean_date(newest)} 시행 기준"

    def render_answer(self, entry: Entry) -> str:
        """The answer as residents read it: summary, labelled lines, then who is responsible and why."""
        if entry.id not in self._rendered:
            self._rendered[entry.id] = self._render(entry)
        return self._rendered[entry.id]

    def _render(self, entry: Entry) -> str:
        answer = entry.answer
        dept = self.profile.department(entry.department)
        body: list[str] = []
        for name, label in ANSWER_FIELDS.items():
            value = getattr(answer, name)
            if isinstance(value, list):
                value = ", ".join(self.fill(v.strip()) for v in value) or None
            elif value:
                value = self.fill(value.strip())
            if value:
                body.append(f"■ {label}: {value}")
        for link in entry.links:
            body.append(f"■ 바로가기: {self.fill(link.title)} {link.url}")
        body.append(f"■ 담당부서: {dept['name']} ({dept['phone']})")
        if entry.basis:
            body.append(f"■ 근거: {entry.basis}")
        checked = f"■ 최종 확인일: {korean_date(entry.verified)}"
        as_of = self.as_of(entry)
        body.append(f"{checked} ({as_of})" if as_of else checked)
        return "\n".join([self.fill(answer.summary.strip()), "", *body])


def korean_date(day: dt.date) -> str:
    return f"{day.year}년 {day.month}월 {day.day}일"
