"""Human handoff in two Chromium contexts: a resident in the widget, an officer logged into the console."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from api.runner import Stack
from tests.e2e.axe_audit import serious_violations
from tests.e2e.conftest import OFFICER, SCREENSHOTS
from tests.e2e.test_widget_browser import ask, open_widget

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
USERNAME, OFFICER_NAME, PASSWORD = OFFICER


@pytest.fixture
def contexts(browser: Browser) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    resident = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ko-KR")
    officer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    yield resident, officer
    resident.close()
    officer.close()


def officer_login(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.api_url}/console")
    expect(page.get_by_role("heading", name="로그인")).to_be_visible()  # redirected: the console needs a login
    page.get_by_label("아이디").fill(USERNAME)
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    expect(page.get_by_role("heading", name="상담 대기열")).to_be_visible()


def restart_api(stack: Stack, **env: str) -> None:
    stack.stop_api()
    stack.extra_env.update(env)
    stack.start_api()
    stack.wait_ready(timeout=180, say=lambda line: print(line, flush=True))


def test_resident_and_officer_chat_live_through_a_restart(
    contexts: tuple[BrowserContext, BrowserContext], stack: Stack
) -> None:
    resident_ctx, officer_ctx = contexts
    console = officer_ctx.new_page()
    officer_login(console, stack)

    widget = resident_ctx.new_page()
    open_widget(widget, f"{stack.api_url}/demo/")
    log = widget.get_by_role("log")
    bots = widget.locator("minwon-chat-widget .msg.bot")
    expect(bots).to_have_count(1, timeout=30_000)  # the greeting
    ask(widget, "여권 재발급 하려면 뭐가 필요해요?")
    expect(bots).to_have_count(2, timeout=30_000)
    bot_answers = 2
    ask(widget, "상담원 연결해 주세요")
    status = widget.locator("minwon-chat-widget .status")
    expect(status).to_contain_text("대기 순서 1번째", timeout=30_000)

    # The queue updates live, without a reload; the bot's context is shown.
    row = console.locator("#queue-rows tr[data-handoff]").first
    expect(row).to_contain_text("대기 중", timeout=30_000)
    expect(row).to_contain_text("여권")
    ask(widget, "사진은 몇 장 필요한가요?")  # held for the officer while waiting
    row.get_by_role("link").click()
    expect(console.locator("#transcript")).to_contain_text("사진은 몇 장 필요한가요?")
    console.get_by_role("button", name="이 상담 맡기").click()

    expect(log).to_contain_text(f"{OFFICER_NAME} 님이 상담을 시작했습니다", timeout=15_000)
    expect(status).to_contain_text(f"{OFFICER_NAME} 님과 상담 중")
    console.get_by_label("답변 입력").fill("안녕하세요. 여권 사진은 1장 필요합니다.")
    console.get_by_role("button", name="보내기").click()
    expect(log).to_contain_text("여권 사진은 1장 필요합니다", timeout=15_000)
    expect(widget.locator("minwon-chat-widget .msg.officer .author").last).to_have_text(OFFICER_NAME)

    ask(widget, "수수료는 얼마인가요?")
    expect(console.locator("#transcript")).to_contain_text("수수료는 얼마인가요?", timeout=15_000)
    widget.wait_for_timeout(1500)
    assert bots.count() == bot_answers  # the bot stayed silent

    # The api restarts mid-conversation: ownership survives and both pages reconnect on their own.
    restart_api(stack)
    console.reload()
    console.get_by_label("답변 입력").fill("재시작 뒤에도 이어서 안내드립니다. 수수료는 5만 원입니다.")
    console.get_by_role("button", name="보내기").click()
    expect(log).to_contain_text("수수료는 5만 원입니다", timeout=45_000)
    widget.screenshot(path=str(SCREENSHOTS / "handoff-resident.png"))
    assert not serious_violations(widget)  # officer messages and the status bar
    assert not serious_violations(console, stack.api_url)  # axe from the console's origin: CSP stays on
    console.screenshot(path=str(SCREENSHOTS / "handoff-console.png"), full_page=True)

    console.get_by_role("button", name="상담 종료").click()
    expect(console.get_by_role("heading", name="상담 대기열")).to_be_visible()
    expect(log).to_contain_text("챗봇이 다시 안내해 드립니다", timeout=15_000)
    expect(status).to_be_hidden()
    ask(widget, "여권 발급 수수료 알려주세요")
    expect(bots).to_have_count(bot_answers + 1, timeout=30_000)


def test_out_of_hours_callback_request_with_and_without_consent(
    contexts: tuple[BrowserContext, BrowserContext], stack: Stack
) -> None:
    restart_api(stack, MINWON_OFFICE_OVERRIDE="closed")
    try:
        resident_ctx, officer_ctx = contexts
        widget = resident_ctx.new_page()
        open_widget(widget, f"{stack.api_url}/demo/")
        log = widget.get_by_role("log")
        ask(widget, "대형폐기물 버리려면 어떻게 해요?")
        expect(log).to_contain_text("대형", timeout=30_000)
        ask(widget, "상담원 연결해 주세요")
        expect(log).to_contain_text("운영 시간", timeout=30_000)

        widget.get_by_role("button", name="전화 상담 요청").last.click()
        form = widget.locator("minwon-chat-widget .callback")
        expect(form.get_by_label("문의 내용")).to_have_value("대형폐기물 버리려면 어떻게 해요?")
        expect(form.get_by_label("성함")).to_be_focused()
        form.get_by_label("성함").fill("홍길동")
        form.get_by_label("연락받으실 전화번호").fill("010-1234-5678")
        form.get_by_label("동의하지 않습니다").check()
        form.get_by_role("button", name="요청하기").click()
        expect(log).to_contain_text("국민신문고", timeout=15_000)
        expect(form).to_be_hidden()

        widget.get_by_role("button", name="전화 상담 요청").last.click()
        expect(form.get_by_text("보유 기간")).to_be_visible()
        form.get_by_label("성함").fill("홍길동")
        form.get_by_label("연락받으실 전화번호").fill("010-1234-5678")
        form.get_by_label("통화 희망 시간").fill("평일 오후 2시 이후")
        form.get_by_label("동의합니다", exact=True).check()
        widget.screenshot(path=str(SCREENSHOTS / "callback-form.png"))
        assert not serious_violations(widget)  # the consent form, as a screen reader meets it
        form.get_by_role("button", name="요청하기").click()
        expect(log).to_contain_text("접수번호", timeout=15_000)

        console = officer_ctx.new_page()
        officer_login(console, stack)
        console.get_by_role("link", name="전화 상담 요청", exact=True).click()
        ticket = console.locator("article.ticket").first
        expect(ticket).to_contain_text("010-1234-5678")
        expect(ticket).to_contain_text("대형폐기물")
        ticket.get_by_label("상태").select_option("in_progress")
        ticket.get_by_label("처리 메모").fill("오후 2시 통화 예정")
        ticket.get_by_role("button", name="저장").click()
        expect(console.locator("article.ticket").first).to_contain_text(OFFICER_NAME)
        expect(console.locator("article.ticket").first).to_contain_text("처리 중")
    finally:
        restart_api(stack, MINWON_OFFICE_OVERRIDE="open")
