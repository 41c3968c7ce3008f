"""The day-one FAQ a county ships: coverage and editorial rules."""

from collections import Counter

from faq.store import FaqStore

TOPICS = {f"T{n:02d}" for n in range(1, 35)}


def test_two_hundred_entries_cover_all_34_topics_with_several_each() -> None:
    store = FaqStore.load()
    per_topic = Counter(e.topic for e in store.entries)
    assert len(store.entries) >= 200
    assert set(per_topic) == TOPICS
    assert min(per_topic.values()) >= 3, per_topic.most_common()[-3:]


def test_every_entry_is_complete_and_renders_without_placeholders() -> None:
    store = FaqStore.load()
    for entry in store.entries:
        assert len(entry.alternatives) >= 4, entry.id
        assert entry.source.startswith(("http://", "https://")), entry.id
        text = store.render_answer(entry)
        assert "{" not in text and "}" not in text, entry.id
        assert "■ 문의:" in text, entry.id


def test_phrasings_are_unique_within_an_entry() -> None:
    for entry in FaqStore.load().entries:
        assert len(set(entry.phrasings)) == len(entry.phrasings), entry.id
