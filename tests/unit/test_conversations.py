"""The Botium convo suite: the format as Botium reads it, the shipped files, and the Botium configuration."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from api.routes.chat import ChatRequest, ChatResponse
from api.turn_result import BotMessage as ApiBotMessage
from api.turn_result import Button
from evaluation.convo import BotMessage, ConvoError, failed_expectations, load_dir, matches, parse
from evaluation.convo_checks import joined_negations, reused_turns, unsupported_expectations
from faq.paths import REPO_ROOT
from faq.store import FaqStore

SUITE = REPO_ROOT / "evaluation" / "conversations"
BOTIUM = REPO_ROOT / "evaluation" / "botium.json"
FLOWS = {"faq", "followup", "clarify", "out_of_scope", "smalltalk", "handoff", "feedback"}


@pytest.fixture(scope="module")
def store() -> FaqStore:
    return FaqStore.load()


def convo(text: str) -> list[str]:
    """Failures of a one-turn convo against one reply (empty: passes)."""
    parsed = parse(text, Path("t.convo.txt"))
    step = next(s for s in parsed.steps if s.sender == "bot")
    reply = BotMessage("여권 발급 수수료는 52,000원입니다.\n■ 담당부서: 여권팀", ("다른 질문", "상담원 연결"))
    return [e.describe() for e in failed_expectations(step, reply)]


def test_text_lines_match_like_botium_wildcard_ignore_case() -> None:
    assert matches("여권 수수료는\n52,000원 입니다", "수수료는 52,000원")  # line breaks count as a space
    assert matches("Passport FEE 52,000원", "passport fee*원")
    assert not matches("여권 수수료", "인감")


def test_bot_block_checks_text_negation_and_asserters() -> None:
    assert convo("t\n#me\n여권\n#bot\n52,000원\nBUTTONS 상담원 연결") == []
    assert convo("t\n#me\n여권\n#bot\n!53,000원") == []
    assert convo("t\n#me\n여권\n#bot\n!52,000원") == ["!52,000원"]
    assert convo("t\n#me\n여권\n#bot\nTEXT_CONTAINS_ALL 52,000원|인감") == ["TEXT_CONTAINS_ALL 52,000원|인감"]
    assert convo("t\n#me\n여권\n#bot\nTEXT_CONTAINS_ANY 600원|52,000원") == []
    assert convo("t\n#me\n여권\n#bot\n!TEXT_CONTAINS_ANY ■ 담당부서") == ["!TEXT_CONTAINS_ANY ■ 담당부서"]
    assert convo("t\n#me\n여권\n#bot\n!BUTTONS 상담원 연결") == ["!BUTTONS 상담원 연결"]


def test_a_later_bang_line_is_joined_into_the_text_as_botium_does() -> None:
    parsed = parse("t\n#me\n여권\n#bot\n52,000원\n!53,000원", Path("t.convo.txt"))
    assert parsed.steps[1].expectations[0].args == ("52,000원 !53,000원",)
    assert joined_negations([parsed])  # the suite check points the writer at !TEXT_CONTAINS_ANY


def test_button_press_sends_the_payload() -> None:
    parsed = parse("t\n#me\nBUTTON 다른 질문을 할게요|다른 질문\n#bot\n네", Path("t.convo.txt"))
    assert parsed.steps[0].text == "다른 질문을 할게요" and parsed.steps[0].pressed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("#me\n안녕", "t.convo.txt:1: the first line must be the conversation's title"),
        ("제목\n#user\n안녕", "t.convo.txt:2: unknown section #user"),
        ("제목\n#me\n안녕\n#bot\n", "t.convo.txt:4: #bot block without anything to check"),
        ("제목\n#bot\n안녕", "no #me block"),
        ("제목\n#me\n안녕\n#bot\nBUTTONS", "t.convo.txt:5: BUTTONS needs at least one argument"),
    ],
)
def test_broken_files_are_named_with_file_and_line(text: str, message: str) -> None:
    with pytest.raises(ConvoError, match=re.escape(message)):
        parse(text, Path("t.convo.txt"))


def test_the_suite_has_at_least_60_conversations_covering_every_flow() -> None:
    convos = load_dir(SUITE)
    assert len(convos) >= 60
    flows = {c.path.parent.name for c in convos}
    assert flows == FLOWS
    assert len({c.name for c in convos}) == len(convos), "titles name conversations in reports: keep them unique"


def test_resident_turns_are_not_copies_of_training_or_faq_phrasings(store: FaqStore) -> None:
    assert [str(f) for f in reused_turns(load_dir(SUITE), store)] == []


def test_expected_facts_are_what_the_knowledge_base_says(store: FaqStore) -> None:
    assert [str(f) for f in unsupported_expectations(load_dir(SUITE), store)] == []
    assert [str(f) for f in joined_negations(load_dir(SUITE))] == []


def test_the_fact_check_catches_an_invented_fee(store: FaqStore) -> None:
    invented = parse("t\n#me\n여권 수수료\n#bot\n53,500원", Path("t.convo.txt"))
    assert len(unsupported_expectations([invented], store)) == 1


def test_the_reuse_check_catches_a_training_example(store: FaqStore) -> None:
    copied = parse(f"t\n#me\n{store.entries[0].alternatives[0]}!\n#bot\n여권", Path("t.convo.txt"))
    assert len(reused_turns([copied], store)) == 1


def test_botium_configuration_drives_the_chat_endpoint_as_it_is() -> None:
    caps = json.loads(BOTIUM.read_text(encoding="utf-8"))["botium"]["Capabilities"]
    assert caps["CONTAINERMODE"] == "simplerest" and caps["SIMPLEREST_URL"].endswith("/api/v1/chat")
    # Botium renders the body with Mustache: an unknown session is "" on the first turn, then the token.
    for session in ("", "token-from-the-last-reply"):
        body = json.dumps(caps["SIMPLEREST_BODY_TEMPLATE"], ensure_ascii=False)
        body = body.replace("{{context.session}}", session).replace("{{msg.messageText}}", "여권 수수료")
        ChatRequest.model_validate(json.loads(body.replace("{{botium.stepId}}", "step-1")))
    assert caps["SIMPLEREST_BODY_JSONPATH"] == "$.messages[*]" and "messages" in ChatResponse.model_fields
    assert caps["SIMPLEREST_RESPONSE_JSONPATH"] == "$.text" and "text" in ApiBotMessage.model_fields
    assert caps["SIMPLEREST_BUTTONS_JSONPATH"] == "$.buttons[*].title" and "title" in Button.model_fields
    assert caps["SIMPLEREST_STOP_URL"].endswith("/api/v1/handoff/cancel")


def test_own_stack_index_copy_takes_the_embedding_cache_so_the_release_is_not_re_embedded(tmp_path: Path) -> None:
    from evaluation.convo_run import copy_built_index

    root = tmp_path / "index"
    (root / "abc-v1").mkdir(parents=True)
    (root / "abc-v1" / "dense.faiss").write_bytes(b"index")
    (root / "current").symlink_to("abc-v1")
    (root / "old-v0").mkdir()  # an earlier release: not needed by the run
    (root / "embeddings").mkdir()
    (root / "embeddings" / "68adfe617e4c.npz").write_bytes(b"vectors")
    copy = copy_built_index(root, tmp_path / "run" / "index")
    assert (copy / "current" / "dense.faiss").read_bytes() == b"index"
    assert (copy / "embeddings" / "68adfe617e4c.npz").read_bytes() == b"vectors"
    assert not (copy / "old-v0").exists()


def test_own_stack_refuses_a_var_without_a_built_index(tmp_path: Path) -> None:
    from evaluation.convo_run import copy_built_index

    with pytest.raises(RuntimeError, match="minwon index build"):
        copy_built_index(tmp_path / "empty", tmp_path / "run")
