from api.chat import shape_replies


def test_an_answer_split_by_rasa_at_blank_lines_is_one_message_again() -> None:
    raw = [{"text": "요약입니다."}, {"text": "■ 준비물: 신분증\n■ 수수료: 무료"}]
    shaped = shape_replies(raw)
    messages, wants_human = shaped.messages, shaped.wants_human
    assert not wants_human
    assert len(messages) == 1
    assert messages[0].text == "요약입니다.\n\n■ 준비물: 신분증\n■ 수수료: 무료"


def test_messages_with_buttons_stay_separate_and_keep_their_buttons() -> None:
    raw = [
        {"text": "정확한 답을 찾지 못했습니다.", "buttons": [{"title": "여권", "payload": "여권 발급"}]},
        {"text": "다른 안내"},
        {"text": ""},
    ]
    shaped = shape_replies(raw)
    messages, wants_human = shaped.messages, shaped.wants_human
    assert not wants_human
    assert [m.text for m in messages] == ["정확한 답을 찾지 못했습니다.", "다른 안내"]
    assert messages[0].buttons[0].payload == "여권 발급"


def test_the_bots_handoff_request_is_recognised_and_not_shown() -> None:
    shaped = shape_replies([{"recipient_id": "x", "custom": {"handoff": "request"}}])
    assert shaped.wants_human and shaped.messages == []


def test_what_the_bot_tried_and_typed_feedback_go_to_the_api_not_the_resident() -> None:
    context = {"question": "여권", "confident": True, "candidates": []}
    shaped = shape_replies(
        [
            {"recipient_id": "x", "custom": {"context": context}},
            {"recipient_id": "x", "text": "여권 안내입니다."},
            {"recipient_id": "x", "custom": {"feedback": {"helpful": False, "answer": "여권 안내입니다."}}},
        ]
    )
    assert [m.text for m in shaped.messages] == ["여권 안내입니다."]
    assert shaped.context == context and shaped.feedback == {"helpful": False, "answer": "여권 안내입니다."}
