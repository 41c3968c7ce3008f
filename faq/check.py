"""Editorial rules on top of schema validation: what ``minwon faq check`` enforces.

Errors block a content release; staleness is reported so owners re-verify.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from faq.store import PLACEHOLDER, FaqStore

KST = ZoneInfo("Asia/Seoul")
DEFAULT_MAX_AGE_DAYS = 365


@dataclass
class CheckReport:
    errors: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    unused_facts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def today_kst() -> dt.date:
    return dt.datetime.now(KST).date()


def _unbalanced(item: str) -> bool:
    """A flow-list item that a comma inside parentheses split in two ("사진 1매(최근 6개월 이내")."""
    return any(item.count(o) != item.count(c) for o, c in ("()", "[]", "「」", "『』"))


def check_store(store: FaqStore, max_age_days: int = DEFAULT_MAX_AGE_DAYS, today: dt.date | None = None) -> CheckReport:
    report = CheckReport()
    today = today or today_kst()
    names = store.profile.literal_names()
    cutoff = today - dt.timedelta(days=max_age_days)
    used: set[str] = set()
    for entry in store.entries:
        where = f"{entry.id} ({store.topic_titles.get(entry.topic, entry.topic)})"
        for text in entry.texts():
            for name in names:
                if name in text:
                    report.errors.append(
                        f"{where}: names the county literally ('{name}' in \"{text[:60]}\"); "
                        "use a county.yaml key such as {county.name} or {county.office}"
                    )
        for item in entry.answer.bring:
            if _unbalanced(item):
                report.errors.append(
                    f'{where}: 준비물 item "{item}" has unbalanced brackets; a comma inside '
                    "parentheses split one item into two. Quote the item in the YAML list."
                )
        if entry.verified > today:
            report.errors.append(f"{where}: verified {entry.verified} is in the future")
        elif entry.verified < cutoff:
            report.stale.append(f"entry {where}: verified {entry.verified} ({(today - entry.verified).days} days ago)")
        used.update(store.facts_used(entry))
    for key, fact in sorted(store.facts.facts.items()):
        if fact.verified > today:
            report.errors.append(f"fact {key}: verified {fact.verified} is in the future")
        elif fact.verified < cutoff:
            report.stale.append(f"fact {key}: verified {fact.verified} ({(today - fact.verified).days} days ago)")
        for name in names:
            if name in fact.value:
                report.errors.append(f"fact {key}: names the county literally ('{name}'); facts are national")
        if PLACEHOLDER.search(fact.value):
            report.errors.append(f"fact {key}: a fact's value cannot contain placeholders")
        if key not in used:
            report.unused_facts.append(key)
    return report
