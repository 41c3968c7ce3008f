"""A curator edits an answer, previews it, submits it; a second curator checks and approves; the widget
on the demo page answers with the new text — no restart, no retraining. The console's CSP stays on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from api.runner import Stack
from tests.e2e.axe_audit import serious_violations
from tests.e2e.conftest import CURATORS, SCREENSHOTS
from tests.e2e.test_widget_browser import ask, open_widget

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
NEW_NOTE = "여권 창구는 목요일 저녁에도 운영하니 퇴근 후에 오셔도 됩니다."


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made = [browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR") for _ in range(3)]
    yield made
    for context in made:
        context.close()


def curator_login(page: Page, stack: Stack, account: tuple[str, str, str]) -> None:
    username, _, password = account
    page.goto(f"{stack.api_url}/console/login")
    page.get_by_label("아이디").fill(username)
    page.get_by_label("비밀번호").fill(password)
    page.get_by_role("button", name="로그인").click()
    expect(page.get_by_role("heading", name="지식 베이스", exact=True)).to_be_visible()


def test_edit_preview_review_publish_and_the_widget_answers_with_it(
    contexts: list[BrowserContext], stack: Stack
) -> None:
    editor_ctx, reviewer_ctx, resident_ctx = contexts
    editor = editor_ctx.new_page()
    curator_login(editor, stack, CURATORS[0])
    assert not serious_violations(editor, stack.api_url)
    editor.get_by_label("찾을 말").fill("여권 발급 수수료")
    editor.get_by_role("button", name="찾기").click()
    editor.get_by_role("link", name="T01-002").click()
    expect(editor.get_by_role("heading", name="T01-002")).to_be_visible()
    editor.get_by_label("참고", exact=True).fill(NEW_NOTE)
    editor.get_by_label("변경 사유").fill("목요일 야간 운영 안내 추가")
    editor.get_by_role("button", name="초안 저장").click()
    expect(editor.get_by_role("status")).to_contain_text("저장했습니다")
    assert not serious_violations(editor, stack.api_url)

    editor.get_by_role("link", name="미리보기").click()
    preview = editor.locator("minwon-chat-widget .msg.bot")
    expect(preview).to_contain_text(NEW_NOTE)  # the widget's own rendering, nothing sent
    editor.screenshot(path=str(SCREENSHOTS / "curator-preview.png"))
    editor.go_back()
    editor.get_by_role("button", name="검토 요청").first.click()
    expect(editor.get_by_role("status")).to_contain_text("검토를 요청했습니다")

    reviewer = reviewer_ctx.new_page()
    curator_login(reviewer, stack, CURATORS[1])
    reviewer.get_by_role("link", name="검토 대기").click()
    card = reviewer.locator("section.card", has_text="T01-002")
    errors: list[str] = []
    reviewer.on("pageerror", lambda error: errors.append(str(error)))
    card.get_by_role("button", name="답변 변화 확인").click(no_wait_after=True)
    expect(card.get_by_role("status")).to_contain_text("확인", timeout=10_000)  # progress while it runs
    expect(card).to_contain_text("답이 바뀌는 질문", timeout=180_000)
    assert errors == []
    assert not serious_violations(reviewer, stack.api_url)
    card = reviewer.locator("section.card", has_text="T01-002")
    card.get_by_role("button", name="승인").click()
    expect(reviewer.get_by_text("검토를 기다리는 버전이 없습니다.")).to_be_visible(timeout=60_000)

    widget = resident_ctx.new_page()
    open_widget(widget, f"{stack.api_url}/demo/")
    ask(widget, "여권 발급 수수료가 얼마인가요?")
    expect(widget.get_by_role("log")).to_contain_text(NEW_NOTE, timeout=30_000)
