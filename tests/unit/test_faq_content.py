"""The content pack a county ships: coverage, sources, and the editorial rules `minwon faq check` enforces."""

from collections import Counter

from faq.check import check_store
from faq.store import PLACEHOLDER, FaqStore

TOPICS = {f"T{n:02d}" for n in range(1, 38)}


def test_at_least_450_entries_cover_every_topic_with_several_each() -> None:
    store = FaqStore.load()
    per_topic = Counter(e.topic for e in store.entries)
    assert len(store.entries) >= 450
    assert set(per_topic) == TOPICS
    assert min(per_topic.values()) >= 7, per_topic.most_common()[-3:]


def test_the_shipped_pack_passes_every_check() -> None:
    report = check_store(FaqStore.load())
    assert report.errors == []
    assert report.unused_facts == []


def test_every_entry_renders_with_department_basis_and_check_date() -> None:
    store = FaqStore.load()
    for entry in store.entries:
        assert len(entry.alternatives) >= 6, entry.id
        text = store.render_answer(entry)
        assert not PLACEHOLDER.search(text), entry.id
        dept = store.profile.department(entry.department)
        assert f"■ 담당부서: {dept['name']} ({dept['phone']})" in text, entry.id
        assert "■ 최종 확인일: " in text, entry.id
        if entry.basis:
            assert f"■ 근거: {entry.basis}" in text


def test_phrasings_are_unique_within_an_entry() -> None:
    for entry in FaqStore.load().entries:
        assert len(set(entry.phrasings)) == len(entry.phrasings), entry.id


def test_recurring_national_values_are_facts_quoted_from_one_place() -> None:
    store = FaqStore.load()
    quoted = Counter(key for entry in store.entries for key in store.facts_used(entry))
    # The passport fee is quoted by several answers, and all of them render the facts table's value.
    assert quoted["passport.fee_10y_58"] >= 3
    fee = store.facts.facts["passport.fee_10y_58"].value
    for entry in store.entries:
        if "passport.fee_10y_58" in store.facts_used(entry):
            assert fee in store.render_answer(entry), entry.id
