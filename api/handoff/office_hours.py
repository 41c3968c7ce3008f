"""When officers answer chats: county weekdays and hours, minus Korean public holidays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import holidays

DAY_NAMES = {"월": 0, "화": 1, "수": 2, "목": 3, "금": 4, "토": 5, "일": 6}


def _clock(value: str, field: str) -> time:
    try:
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ValueError(f"handoff.{field}: expected HH:MM, got {value!r}") from exc


@dataclass(frozen=True)
class OfficeHours:
    timezone: ZoneInfo
    days: frozenset[int]
    open: time
    close: time
    lunch: tuple[time, time] | None = None
    # Operators can force the desk open or shut (an emergency closure, a drill).
    override: str = ""  # "", "open" or "closed"

    @classmethod
    def from_config(cls, config: dict[str, Any], override: str = "") -> OfficeHours:
        days = str(config.get("days", "월 화 수 목 금")).split()
        unknown = [d for d in days if d not in DAY_NAMES]
        if unknown:
            raise ValueError(f"handoff.days: unknown day names {unknown}; use 월 화 수 목 금 토 일")
        lunch_raw = str(config.get("lunch_break") or "").strip()
        lunch = None
        if lunch_raw:
            start, _, end = lunch_raw.partition("-")
            lunch = (_clock(start, "lunch_break"), _clock(end, "lunch_break"))
        if override not in ("", "open", "closed"):
            raise ValueError(f"office hours override must be 'open' or 'closed', got {override!r}")
        return cls(
            timezone=ZoneInfo(str(config.get("timezone", "Asia/Seoul"))),
            days=frozenset(DAY_NAMES[d] for d in days),
            open=_clock(str(config.get("open", "09:00")), "open"),
            close=_clock(str(config.get("close", "18:00")), "close"),
            lunch=lunch,
            override=override,
        )

    def is_holiday(self, day: date) -> bool:
        # The holidays package follows the official calendar, substitute holidays included.
        return day in holidays.country_holidays("KR", years=day.year)

    def is_open(self, now: datetime | None = None) -> bool:
        if self.override:
            return self.override == "open"
        local = (now or datetime.now(UTC)).astimezone(self.timezone)
        if local.weekday() not in self.days or self.is_holiday(local.date()):
            return False
        clock = local.time()
        if not (self.open <= clock < self.close):
            return False
        return not (self.lunch and self.lunch[0] <= clock < self.lunch[1])

    def describe(self) -> str:
        names = "·".join(k for k, v in sorted(DAY_NAMES.items(), key=lambda kv: kv[1]) if v in self.days)
        text = f"{names}요일 {self.open:%H:%M}~{self.close:%H:%M}"
        if self.lunch:
            text += f" (점심시간 {self.lunch[0]:%H:%M}~{self.lunch[1]:%H:%M} 제외)"
        return text + ", 공휴일 제외"
