import shutil
from pathlib import Path

import pytest

from faq.store import COUNTY_FILE, DATA_DIR, FaqLoadError, FaqStore


def test_seed_faq_loads_with_enough_real_entries() -> None:
    store = FaqStore.load()
    assert len(store.entries) >= 30
    assert all(len(e.alternatives) >= 4 for e in store.entries)
    assert all(e.source.startswith("http") for e in store.entries)


def test_answers_are_rendered_from_the_county_profile() -> None:
    store = FaqStore.load()
    text = store.render_answer(store.by_id["T10-001"])
    assert "{" not in text
    assert store.profile.flat["hours.weekday"] in text
    civil = store.profile.department("civil")
    assert f"■ 담당부서: {civil['name']} ({civil['phone']})" in text


def _copy_seed(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    return data


def test_errors_name_the_file_and_line(tmp_path: Path) -> None:
    data = _copy_seed(tmp_path)
    path = data / "T01_passport.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if "question: 여권 발급 수수료는" in line)
    del lines[index]
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(FaqLoadError) as info:
        FaqStore.load(data, COUNTY_FILE)
    message = str(info.value)
    assert "T01_passport.yaml:" in message and "question" in message
    line_no = int(message.split("T01_passport.yaml:")[1].split(":")[0])
    assert abs(line_no - (index + 1)) <= 2


def test_broken_yaml_and_unknown_placeholders_are_reported(tmp_path: Path) -> None:
    data = _copy_seed(tmp_path)
    (data / "T99_broken.yaml").write_text("topic: T99\nentries: [\n  - oops", encoding="utf-8")
    with pytest.raises(FaqLoadError, match=r"T99_broken.yaml:\d+: invalid YAML"):
        FaqStore.load(data, COUNTY_FILE)
    (data / "T99_broken.yaml").unlink()
    path = data / "T10_civil_office.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{hours.night}", "{hours.midnight}"), encoding="utf-8")
    with pytest.raises(FaqLoadError, match=r"unknown placeholder \{hours.midnight\}"):
        FaqStore.load(data, COUNTY_FILE)


def test_binary_file_gives_a_clear_error(tmp_path: Path) -> None:
    data = _copy_seed(tmp_path)
    (data / "T98_binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FaqLoadError, match="not UTF-8"):
        FaqStore.load(data, COUNTY_FILE)


def test_the_bots_own_responses_name_the_county_only_through_profile_markers() -> None:
    """domain.yml is trained into the Rasa model; county names there come from county.yaml at answer time."""
    import yaml

    from faq.store import BOT_MARKER, CountyProfile

    domain = (Path(__file__).resolve().parents[2] / "bot" / "domain.yml").read_text(encoding="utf-8")
    profile = CountyProfile.load()
    texts = [r["text"] for rs in yaml.safe_load(domain)["responses"].values() for r in rs if "text" in r]
    markers = [m for t in texts for m in BOT_MARKER.findall(t)]
    assert markers and all(m in profile.flat for m in markers)
    for text in texts:
        filled = profile.fill_markers(text)
        assert "[[" not in filled
        for name in profile.literal_names():
            assert name not in text
    assert profile.flat["county.name"] in profile.fill_markers(texts[0])
