"""What residents read during a handoff, and the consent notice for callback requests."""

from __future__ import annotations

CONSENT_VERSION = "2026-11"

QUEUED = "상담원 연결을 요청했습니다. 현재 대기 순서는 {position}번째이며, 예상 대기 시간은 약 {minutes}분입니다. 기다리시는 동안 남기신 메시지는 상담원에게 그대로 전달됩니다."  # noqa: E501
ALREADY_WAITING = "이미 상담원 연결을 기다리고 계십니다. 현재 대기 순서는 {position}번째입니다."
ALREADY_ACTIVE = "지금 {officer} 님과 상담 중입니다."
OFFICER_JOINED = "{officer} 님이 상담을 시작했습니다. 궁금하신 점을 말씀해 주세요."
OFFICER_ENDED = "상담원과의 상담이 종료되었습니다. 이후 질문은 챗봇이 다시 안내해 드립니다. 이용해 주셔서 감사합니다."
OFFICER_RETURNED = "상담원이 대화를 챗봇에게 넘겼습니다. 이어서 챗봇이 안내해 드립니다."
CANCELLED = "상담원 연결 요청을 취소했습니다. 궁금하신 점은 챗봇에게 계속 물어봐 주세요."
CLOSED = (
    "지금은 상담원 채팅 운영 시간({hours})이 아닙니다. "
    "전화 상담을 요청해 주시면 담당 공무원이 운영 시간에 연락드리겠습니다."
)
TIMED_OUT = (
    "죄송합니다. 지금 상담원들이 모두 다른 민원인과 상담 중이라 연결하지 못했습니다. "
    "전화 상담을 요청해 주시면 담당 공무원이 순서대로 연락드리겠습니다."
)
RASA_DOWN = (
    "죄송합니다. 지금 챗봇 시스템에 일시적인 문제가 있어 답변을 드리지 못했습니다. "
    "입력하신 내용은 저장되어 있으니 잠시 후 다시 질문해 주시거나, 아래에서 상담원 연결 또는 전화 상담을 요청해 주세요."
)
TICKET_SAVED = (
    "전화 상담 요청이 접수되었습니다(접수번호 {ticket}). "
    "담당 공무원이 희망하신 시간에 맞춰 연락드리겠습니다. 감사합니다."
)
NO_CONSENT = (
    "개인정보 수집·이용에 동의하지 않으셔서 전화 상담 요청은 접수하지 않았습니다. "
    "{civil_office}({phone}, {hours})로 직접 전화하시거나, 국민신문고({epeople})에서 민원을 신청하실 수 있습니다."
)

BUTTON_HANDOFF = {"title": "상담원 연결", "payload": "", "action": "handoff"}
BUTTON_CALLBACK = {"title": "전화 상담 요청", "payload": "", "action": "callback"}
BUTTON_CANCEL = {"title": "연결 요청 취소", "payload": "", "action": "cancel_handoff"}


def consent_notice(retention_days: int) -> dict[str, str]:
    """개인정보 보호법 제15조 notice: items, purpose, retention, the right to refuse."""
    return {
        "title": "개인정보 수집·이용 동의",
        "items": "성명, 연락처(전화번호), 통화 희망 시간, 문의 내용",
        "purpose": "전화 상담 요청에 대한 회신 및 민원 상담",
        "retention": f"요청일로부터 {retention_days}일 동안 보관한 뒤 파기합니다",
        "refusal": (
            "동의를 거부하실 수 있습니다. 거부하시면 전화 상담 요청은 접수되지 않으며, "
            "민원실 전화나 국민신문고를 이용하실 수 있습니다."
        ),
        "version": CONSENT_VERSION,
    }
