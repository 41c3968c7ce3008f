"""KiwiTokenizer inside Rasa (runs in the Rasa env: `make test` does this)."""

from __future__ import annotations

# Only collected in the Rasa env (`make test` runs tests/bot there); an import failure is a real failure.
import components.kiwi_tokenizer as rasa_tokenizer
import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

pytestmark = pytest.mark.rasa_env


@pytest.fixture(scope="module")
def tokenizer():
    return rasa_tokenizer.KiwiTokenizer(rasa_tokenizer.KiwiTokenizer.get_default_config())


def spans(tokenizer, text: str) -> list[tuple[str, int, int]]:
    return [(t.text, t.start, t.end) for t in tokenizer.tokenize(Message(data={TEXT: text}), TEXT)]


def test_contracted_syllable_is_one_token_with_both_morphemes(tokenizer) -> None:
    tokens = tokenizer.tokenize(Message(data={TEXT: "했어요"}), TEXT)
    assert [(t.text, t.start, t.end) for t in tokens] == [("했", 0, 1), ("어요", 1, 3)]
    assert tokens[0].lemma == "하+었"
    assert tokens[0].get("pos") == "VV+EP"


def test_zero_length_copula_does_not_create_an_empty_token(tokenizer) -> None:
    assert spans(tokenizer, "얼마예요") == [("얼마", 0, 2), ("예요", 2, 4)]


def test_offsets_point_into_the_original_text(tokenizer) -> None:
    text = "주민등록등본떼려면  뭐 필요해요?"
    for token_text, start, end in spans(tokenizer, text):
        assert text[start:end] == token_text
    assert spans(tokenizer, text)[0] == ("주민등록등본", 0, 6), "user word list keeps compounds whole"


def test_hangul_is_not_dropped(tokenizer) -> None:
    assert len(spans(tokenizer, "여권 재발급 수수료")) >= 3
    assert spans(tokenizer, "") == []


def test_process_sets_tokens_for_training_data(tokenizer) -> None:
    from rasa.nlu.constants import TOKENS_NAMES
    from rasa.shared.nlu.training_data.training_data import TrainingData

    message = Message(data={TEXT: "전입신고 했어요", "intent": "ask_faq"})
    tokenizer.process_training_data(TrainingData([message]))
    assert [t.text for t in message.get(TOKENS_NAMES[TEXT])] == ["전입신고", "했", "어요"]


def test_without_user_words_compounds_split(tokenizer) -> None:
    config = {**rasa_tokenizer.KiwiTokenizer.get_default_config(), "user_words": False}
    plain = rasa_tokenizer.KiwiTokenizer(config)
    tokens = [t.text for t in plain.tokenize(Message(data={TEXT: "주민등록등본떼려면"}), TEXT)]
    assert "주민등록등본" not in tokens and "등본" in tokens


def test_drop_particles_keeps_content_and_offsets() -> None:
    config = {**rasa_tokenizer.KiwiTokenizer.get_default_config(), "drop_particles": True}
    dropping = rasa_tokenizer.KiwiTokenizer(config)
    text = "여권을 잃어버렸어요"
    tokens = dropping.tokenize(Message(data={TEXT: text}), TEXT)
    assert tokens[0].text == "여권"
    assert "을" not in [t.text for t in tokens] and "어요" not in [t.text for t in tokens]
    assert all(text[t.start : t.end] == t.text for t in tokens)


def test_eojeol_baseline_keeps_hangul_with_offsets() -> None:
    from components.eojeol_tokenizer import EojeolTokenizer

    baseline = EojeolTokenizer(EojeolTokenizer.get_default_config())
    text = "여권 재발급, 수수료는?"
    tokens = baseline.tokenize(Message(data={TEXT: text}), TEXT)
    assert [t.text for t in tokens] == ["여권", "재발급", ",", "수수료는", "?"]
    assert all(text[t.start : t.end] == t.text for t in tokens)
