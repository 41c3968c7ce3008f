"""The widget in headless Debian Chromium: what a resident (and a screen-reader or keyboard user) experiences."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, Route, expect

from api.handoff import texts
from api.runner import Stack
from faq.store import FaqStore
from tests.checks import in_ci
from tests.e2e.axe_audit import serious_violations
from tests.e2e.conftest import CHROMIUM, SCREENSHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TITLE = "예시군 민원 안내"  # the demo page's data-title
CONTENT = FaqStore.load()
FACTS = CONTENT.facts.facts
RESET_CONFIRM = "지금까지의 대화를 지우고 처음부터 다시 시작할까요?"

if not Path(CHROMIUM).exists():
    if in_ci():
        raise RuntimeError("Debian chromium is not installed, and the browser tests must run in CI")
    pytest.skip("Debian chromium is not installed", allow_module_level=True)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ko-KR")
    tab = context.new_page()
    yield tab
    context.close()


def open_widget(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name=TITLE).click()
    expect(page.get_by_role("log")).to_contain_text("민원 안내 챗봇입니다", timeout=30_000)


def ask(page: Page, text: str) -> None:
    box = page.get_by_label("질문 입력")
    box.fill(text)
    box.press("Enter")


def test_ask_quick_reply_and_feedback_on_a_hostile_page(page: Page, stack: Stack) -> None:
    open_widget(page, f"{stack.api_url}/demo/hostile.html")
    log = page.get_by_role("log")
    ask(page, "이사 왔는데 주소 옮기는 건 어디서 하죠?")
    expect(log).to_contain_text(FACTS["move_in.deadline"].value, timeout=30_000)
    # The hostile page sets every font to 31px magenta; the widget keeps its own look.
    color = page.get_by_label("질문 입력").evaluate("e => getComputedStyle(e).color")
    assert color != "rgb(255, 0, 170)"
    link = log.get_by_role("link").first
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_contain_text("새 창")
    page.screenshot(path=str(SCREENSHOTS / "widget-hostile-desktop.png"))

    page.get_by_role("button", name="민원실 운영시간").click()
    expect(log).to_contain_text(CONTENT.profile.flat["hours.weekday"], timeout=30_000)
    with page.expect_response("**/api/v1/feedback") as response:
        page.get_by_role("button", name="도움이 되었어요").last.click()
    assert response.value.status == 204
    expect(log).to_contain_text("의견 감사합니다")


def test_conversation_survives_reload_and_reset_asks_first(page: Page, stack: Stack) -> None:
    open_widget(page, f"{stack.api_url}/demo/")
    ask(page, "여권 잃어버렸어요")
    log = page.get_by_role("log")
    expect(log).to_contain_text("분실", timeout=30_000)
    page.reload()
    expect(page.get_by_role("log")).to_contain_text("여권 잃어버렸어요")  # panel reopens with the history
    asked: list[str] = []

    def answer(accept: bool) -> Callable[[Dialog], None]:
        def handle(dialog: Dialog) -> None:
            asked.append(dialog.message)
            if accept:
                dialog.accept()
            else:
                dialog.dismiss()

        return handle

    page.once("dialog", answer(False))
    page.get_by_role("button", name="대화 초기화").click()
    assert asked == [RESET_CONFIRM]  # it asked first, and "no" keeps the conversation
    expect(log).to_contain_text("여권 잃어버렸어요")
    page.once("dialog", answer(True))
    page.get_by_role("button", name="대화 초기화").click()
    assert asked == [RESET_CONFIRM, RESET_CONFIRM]
    expect(log).not_to_contain_text("여권 잃어버렸어요")
    expect(log).to_contain_text("민원 안내 챗봇입니다", timeout=30_000)


def test_a_waiting_resident_can_cancel_from_the_status_bar(page: Page, stack: Stack) -> None:
    open_widget(page, f"{stack.api_url}/demo/")
    ask(page, "상담원 연결해 주세요")
    status_bar = page.locator("div.status")
    expect(status_bar).to_contain_text("대기 순서", timeout=30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    with page.expect_response("**/api/v1/handoff/cancel") as cancelled:
        status_bar.get_by_role("button", name="연결 요청 취소").click()
    assert cancelled.value.status == 200 and errors == []
    expect(page.get_by_role("log")).to_contain_text(texts.CANCELLED)
    expect(status_bar).to_be_hidden()


def test_keyboard_only_use(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.api_url}/demo/")
    launcher = page.get_by_role("button", name=TITLE)
    launcher.focus()
    page.keyboard.press("Enter")
    box = page.get_by_label("질문 입력")
    expect(box).to_be_focused()
    page.keyboard.type("강아지 등록 어디서 해요")
    page.keyboard.press("Enter")
    expect(page.get_by_role("log")).to_contain_text("동물등록", timeout=30_000)
    page.keyboard.press("Shift+Tab")  # focus leaves the input backwards, into the panel
    page.keyboard.press("Escape")
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_enter_during_hangul_composition_does_not_send(page: Page, stack: Stack) -> None:
    open_widget(page, f"{stack.api_url}/demo/")
    box = page.get_by_label("질문 입력")
    box.fill("여권 수수료 얼마예")
    sent = box.evaluate(
        """el => {
            el.dispatchEvent(new CompositionEvent('compositionstart', {data: '요'}));
            const e = new KeyboardEvent('keydown', {key: 'Enter', isComposing: true, bubbles: true, cancelable: true});
            el.dispatchEvent(e);
            return !e.defaultPrevented;
        }"""
    )
    assert sent  # the widget left the composing Enter to the IME
    expect(box).to_have_value("여권 수수료 얼마예")
    box.evaluate(
        "el => { el.value = '여권 수수료 얼마예요'; el.dispatchEvent(new CompositionEvent('compositionend')); }"
    )
    box.press("Enter")
    log = page.get_by_role("log")
    expect(log).to_contain_text(FACTS["passport.fee_10y_58"].value, timeout=30_000)
    assert log.get_by_text("여권 수수료 얼마예요", exact=True).count() == 1
    assert log.get_by_text("여권 수수료 얼마예", exact=True).count() == 0


def test_offline_message_is_queued_and_sent_once_on_reconnect(page: Page, stack: Stack) -> None:
    open_widget(page, f"{stack.api_url}/demo/")
    page.context.set_offline(True)
    ask(page, "냉장고 버리려면 어떻게 해요")
    expect(page.get_by_role("status")).to_contain_text("인터넷 연결", timeout=15_000)
    page.context.set_offline(False)
    log = page.get_by_role("log")
    hotline = FACTS["appliance.hotline"].value
    expect(log).to_contain_text(hotline, timeout=45_000)
    expect(page.get_by_role("status")).to_be_hidden()
    assert log.get_by_text("냉장고 버리려면 어떻게 해요", exact=True).count() == 1
    assert log.get_by_text(hotline, exact=False).count() == 1


BUSY_BODY = {"busy": True, "retry_after": 2}
LIMITED_BODY = {"detail": "메시지를 너무 빠르게 보내고 계십니다.", "retry_after": 2}


@pytest.mark.parametrize(
    ("status", "body", "notice"),
    [(503, BUSY_BODY, "문의가 많아"), (429, LIMITED_BODY, "너무 빠르게")],
    ids=["busy", "rate-limited"],
)
def test_a_refused_message_is_kept_and_sent_again(
    page: Page, stack: Stack, status: int, body: dict[str, object], notice: str
) -> None:
    """The server's "busy" (503) and "too fast" (429) answers, both with Retry-After and nothing stored
    (unit-tested for real in test_overload.py and test_rate_limits.py), are played here once: the resident
    reads the notice, then the answer, and the message appears once."""
    from api.degraded import BUSY

    refusals_left = [1]
    sent_ids: list[str] = []

    def refuse_once(route: Route) -> None:
        sent_ids.append(json.loads(route.request.post_data or "{}").get("client_id", ""))
        if refusals_left[0]:
            refusals_left[0] -= 1
            content = {"detail": BUSY, **body}
            route.fulfill(status=status, headers={"Retry-After": "2"}, content_type="application/json", json=content)
        else:
            route.continue_()

    open_widget(page, f"{stack.api_url}/demo/")
    page.route("**/api/v1/chat", refuse_once)
    ask(page, "냉장고 버리려면 어떻게 해요")
    expect(page.get_by_role("status")).to_contain_text(notice, timeout=15_000)
    if status == 503:
        expect(page.locator(".typing")).to_be_visible()  # the waiting dots stay while it waits
    log = page.get_by_role("log")
    hotline = FACTS["appliance.hotline"].value
    expect(log).to_contain_text(hotline, timeout=45_000)
    expect(page.get_by_role("status")).to_be_hidden()
    assert log.get_by_text("냉장고 버리려면 어떻게 해요", exact=True).count() == 1
    assert len(sent_ids) == 2 and sent_ids[0] == sent_ids[1]  # sent again as the same message


def test_mobile_panel_is_full_screen(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        open_widget(page, f"{stack.api_url}/demo/")
        box = page.get_by_role("dialog").bounding_box()
        assert box is not None and box["width"] >= 389 and box["height"] >= 800
        page.screenshot(path=str(SCREENSHOTS / "widget-mobile.png"))
    finally:
        context.close()


def test_zoom_and_font_size_control_keep_the_input_usable(browser: Browser, stack: Stack) -> None:
    # 200% zoom on a 1280px screen is a 640px-wide CSS viewport.
    context = browser.new_context(viewport={"width": 640, "height": 400}, device_scale_factor=2)
    page = context.new_page()
    try:
        open_widget(page, f"{stack.api_url}/demo/")
        page.get_by_role("button", name="글자 크게").click()
        page.get_by_role("button", name="글자 크게").click()
        box = page.get_by_label("질문 입력")
        expect(box).to_be_in_viewport()
        size = box.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 20
    finally:
        context.close()


def test_axe_finds_no_serious_or_critical_violations(page: Page, stack: Stack) -> None:
    open_widget(page, f"{stack.api_url}/demo/")
    ask(page, "보건증 어디서 받아요")
    expect(page.get_by_role("log")).to_contain_text("보건소", timeout=30_000)
    assert not serious_violations(page)
    page.screenshot(path=str(SCREENSHOTS / "widget-answer-desktop.png"))
