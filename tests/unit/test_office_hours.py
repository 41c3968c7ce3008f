"""Office hours: weekdays 09:00-18:00 KST, optional lunch break, Korean holidays incl. substitute ones."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api.handoff.config import HandoffConfig
from api.handoff.office_hours import OfficeHours
from api.settings import Settings, SettingsError

KST = ZoneInfo("Asia/Seoul")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=KST)


@pytest.fixture
def hours() -> OfficeHours:
    return OfficeHours.from_config({"days": "월 화 수 목 금", "open": "09:00", "close": "18:00"})


def test_a_weekday_is_open_from_nine_to_six_korean_time(hours: OfficeHours) -> None:
    assert hours.is_open(at("2026-11-20T09:00"))  # Friday
    assert hours.is_open(at("2026-11-20T17:59"))
    assert not hours.is_open(at("2026-11-20T08:59"))
    assert not hours.is_open(at("2026-11-20T18:00"))
    # 01:30 UTC is 10:30 in Seoul.
    assert hours.is_open(datetime.fromisoformat("2026-11-20T01:30+00:00"))


def test_weekends_public_and_substitute_holidays_are_closed(hours: OfficeHours) -> None:
    assert not hours.is_open(at("2026-11-21T10:00"))  # Saturday
    assert not hours.is_open(at("2025-10-06T10:00"))  # 추석
    assert not hours.is_open(at("2025-10-08T10:00"))  # 추석 대체공휴일 (Wednesday)
    assert not hours.is_open(at("2026-03-02T10:00"))  # 삼일절 대체공휴일 (Monday)
    assert hours.is_open(at("2026-03-03T10:00"))


def test_a_configured_lunch_break_closes_the_desk() -> None:
    hours = OfficeHours.from_config({"lunch_break": "12:00-13:00"})
    assert not hours.is_open(at("2026-11-20T12:30"))
    assert hours.is_open(at("2026-11-20T13:00"))
    assert "점심시간 12:00~13:00 제외" in hours.describe()


def test_operators_can_force_the_desk_open_or_closed() -> None:
    assert not OfficeHours.from_config({}, "closed").is_open(at("2026-11-20T10:00"))
    assert OfficeHours.from_config({}, "open").is_open(at("2026-11-21T23:00"))
    with pytest.raises(ValueError, match="override"):
        OfficeHours.from_config({}, "maybe")
    with pytest.raises(SettingsError, match="MINWON_OFFICE_OVERRIDE"):
        Settings.from_env({"MINWON_OFFICE_OVERRIDE": "maybe"}, with_secret=False)


def test_bad_configuration_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"handoff\.open"):
        OfficeHours.from_config({"open": "nine"})
    with pytest.raises(ValueError, match=r"handoff\.days"):
        OfficeHours.from_config({"days": "mon tue"})


def test_the_shipped_county_profile_loads() -> None:
    config = HandoffConfig.load()
    assert config.civil_phone and config.ticket_retention_days > 0
    assert config.hours.describe().startswith("월·화·수·목·금요일 09:00~18:00")
