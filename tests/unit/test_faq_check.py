"""`minwon faq check`: each editorial rule catches what it is for, with a message naming the entry or fact."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from faq.check import check_store
from faq.facts import FACTS_FILE
from faq.store import COUNTY_FILE, DATA_DIR, FaqLoadError, FaqStore

MINWON = [sys.executable, "-m", "api.cli"]


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """A copy of the shipped content pack to break."""
    shutil.copytree(DATA_DIR, tmp_path / "data")
    shutil.copy(COUNTY_FILE, tmp_path / "county.yaml")
    shutil.copy(FACTS_FILE, tmp_path / "facts.yaml")
    return tmp_path


def load(pack: Path) -> FaqStore:
    return FaqStore.load(pack / "data", pack / "county.yaml", pack / "facts.yaml")


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_county_name_written_literally_is_an_error(pack: Path) -> None:
    name = yaml.safe_load((pack / "county.yaml").read_text(encoding="utf-8"))["county"]["name"]
    replace_in(pack / "data" / "T10_civil_office.yaml", "{county.civil_office}", f"{name}청 종합민원실")
    errors = check_store(load(pack)).errors
    assert any(f"names the county literally ('{name}'" in e and "T10-001" in e for e in errors), errors


def test_a_real_county_renaming_itself_catches_leftover_sample_names(pack: Path) -> None:
    """A county that edits only county.yaml gets told where the answers still carry a literal name."""
    replace_in(pack / "data" / "T10_civil_office.yaml", "{county.civil_office}", "가나군청 민원실")
    replace_in(pack / "county.yaml", "name: 예시군", "name: 가나군")
    assert any("'가나군'" in e for e in check_store(load(pack)).errors)


EXTRA_TOPIC = """topic: T99
title: 시험
department: civil
entries:
  - id: T99-001
    question: 시험용 질문입니다
    alternatives: [하나, 둘, 셋, 넷]
    answer:
      summary: 시험용 답변입니다.
      bring: [{bring}]
    source: https://www.gov.kr
    verified: 2026-12-01
"""


def test_a_list_item_split_at_a_comma_inside_parentheses_is_an_error(pack: Path) -> None:
    # The classic mistake: an unquoted flow-list item with a comma inside its parentheses.
    (pack / "data" / "T99_test.yaml").write_text(
        EXTRA_TOPIC.format(bring="신분증, 사진 1매(최근 6개월 이내, 3.5cm×4.5cm)"), encoding="utf-8"
    )
    errors = check_store(load(pack)).errors
    assert any("unbalanced brackets" in e and "사진 1매(최근 6개월 이내" in e for e in errors), errors
    quoted = EXTRA_TOPIC.format(bring='신분증, "사진 1매(최근 6개월 이내, 3.5cm×4.5cm)"')
    (pack / "data" / "T99_test.yaml").write_text(quoted, encoding="utf-8")
    assert check_store(load(pack)).errors == []


def test_facts_and_entries_past_the_age_limit_are_listed_as_stale(pack: Path) -> None:
    store = load(pack)
    later = max(e.verified for e in store.entries) + dt.timedelta(days=400)
    report = check_store(store, max_age_days=365, today=later)
    assert report.ok  # stale is reported, not an error
    assert any(s.startswith("fact passport.fee_10y_58:") for s in report.stale)
    assert any(s.startswith("entry T01-002") for s in report.stale)
    assert check_store(store, max_age_days=365, today=max(e.verified for e in store.entries)).stale == []


def test_missing_source_or_verified_date_is_refused_with_file_and_line(pack: Path) -> None:
    path = pack / "data" / "T01_passport.yaml"
    text = path.read_text(encoding="utf-8")
    first_verified = next(line for line in text.splitlines() if line.strip().startswith("verified:"))
    path.write_text(text.replace(first_verified + "\n", "", 1), encoding="utf-8")
    with pytest.raises(FaqLoadError, match=r"T01_passport.yaml:\d+: entries\.0\.verified: Field required"):
        load(pack)
    shutil.copy(DATA_DIR / "T01_passport.yaml", path)
    first_source = next(line for line in text.splitlines() if line.strip().startswith("source:"))
    indent = first_source[: len(first_source) - len(first_source.lstrip())]
    path.write_text(text.replace(first_source, f"{indent}source: 외교부 누리집", 1), encoding="utf-8")
    with pytest.raises(FaqLoadError, match=r"entries\.0\.source: String should match pattern"):
        load(pack)


def test_unknown_fact_and_county_keys_are_refused(pack: Path) -> None:
    replace_in(pack / "data" / "T01_passport.yaml", "{fact.passport.fee_10y_58}", "{fact.passport.fee_20y}")
    with pytest.raises(FaqLoadError, match=r"unknown placeholder \{fact.passport.fee_20y\} \(see facts.yaml\)"):
        load(pack)


def test_a_fact_without_a_source_is_refused(pack: Path) -> None:
    facts = pack / "facts.yaml"
    text = facts.read_text(encoding="utf-8")
    start = text.index("  fee_10y_58:")
    source_line = text.index("    source:", start)
    end = text.index("\n", source_line)
    facts.write_text(text[:source_line] + text[end + 1 :], encoding="utf-8")
    with pytest.raises(FaqLoadError, match=r"passport.fee_10y_58.source: Field required"):
        load(pack)


def test_the_cli_exits_non_zero_on_errors_and_lists_stale_items(pack: Path) -> None:
    args = [*MINWON, "faq", "check", "--data", str(pack / "data"), "--county", str(pack / "county.yaml")]
    args += ["--facts", str(pack / "facts.yaml")]
    ok = subprocess.run(args, capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and ok.stdout.startswith("OK:"), ok.stderr
    stale = subprocess.run([*args, "--max-age-days", "0", "--fail-stale"], capture_output=True, text=True)
    # Verified today counts as fresh; nothing here is older than 0 days unless it was checked before today.
    assert stale.returncode in (0, 1)
    replace_in(pack / "data" / "T10_civil_office.yaml", "{county.civil_office}", "예시군청 민원실")
    broken = subprocess.run(args, capture_output=True, text=True, check=False)
    assert broken.returncode == 1 and "names the county literally" in broken.stderr
