"""Handoff settings from the county profile (faq/county.yaml, section ``handoff``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from api.handoff.office_hours import OfficeHours
from faq.store import COUNTY_FILE, CountyProfile


@dataclass(frozen=True)
class HandoffConfig:
    hours: OfficeHours
    wait_timeout: timedelta
    minutes_per_resident: int
    ticket_retention_days: int
    conversation_retention_days: int
    epeople_url: str
    civil_office: str
    civil_phone: str

    @classmethod
    def load(cls, county_file: Path = COUNTY_FILE, office_override: str = "") -> HandoffConfig:
        profile = CountyProfile.load(county_file)
        section = profile.values.get("handoff") or {}
        if not isinstance(section, dict):
            raise ValueError(f"{county_file}: 'handoff' must be a mapping")
        try:
            civil = profile.department("civil")
        except KeyError:
            civil = {"name": str(profile.values.get("county", {}).get("civil_office", "민원실")), "phone": ""}

        def positive(key: str, default: int) -> int:
            value = int(section.get(key, default))
            if value <= 0:
                raise ValueError(f"{county_file}: handoff.{key} must be a positive number, got {value}")
            return value

        return cls(
            hours=OfficeHours.from_config(section, office_override),
            wait_timeout=timedelta(minutes=float(section.get("wait_timeout_minutes", 5))),
            minutes_per_resident=positive("minutes_per_resident", 5),
            ticket_retention_days=positive("ticket_retention_days", 90),
            conversation_retention_days=positive("conversation_retention_days", 180),
            epeople_url=str(section.get("epeople_url", "https://www.epeople.go.kr")),
            civil_office=civil.get("name", "민원실"),
            civil_phone=civil.get("phone", ""),
        )
