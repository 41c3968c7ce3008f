"""Accessibility and Korean line breaking on desktop and phone, for residents (widget) and staff (console).

axe-core runs the WCAG 2.x A/AA rules plus 2.5.3 Label in Name (``tests/e2e/axe_audit.py``); a
speech-input user who says "가 플러스" must hit the button labelled "가+". Korean text must wrap
between words (eojeol), never inside one ("같은 자 / 리에서"), while a long URL still wraps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from api.runner import Stack
from tests.e2e.axe_audit import serious_violations
from tests.e2e.conftest import CURATORS, SCREENSHOTS
from tests.e2e.test_curator_browser import curator_login
from tests.e2e.test_handoff_browser import officer_login
from tests.e2e.test_widget_browser import ask, open_widget

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "mobile": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
LONG_URL = "https://www.example.go.kr/minwon/guide/detail/passport-reissue-application-form-download-page.do?menu=1234"

# Runs of Hangul whose characters sit on more than one line: a break inside a word.
SPLIT_WORDS = """root => {
  const split = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.textContent.matchAll(/[가-힣]{2,}/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (lines.size > 1) split.push(m[0]);
    }
  }
  return split;
}"""
OVERFLOWING = "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.slice(0, 60))"


@pytest.fixture(params=list(VIEWPORTS))
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="ko-KR", **VIEWPORTS[request.param])
    tab = context.new_page()
    yield tab
    context.close()


def split_words(area: Locator) -> list[str]:
    found: list[str] = area.evaluate(SPLIT_WORDS)
    return found


def test_widget_header_and_feedback_names_contain_their_visible_text(page: Page, stack: Stack) -> None:
    open_widget(page, f"{stack.api_url}/demo/")
    ask(page, "보건증은 어디서 받아야 하나요")
    expect(page.get_by_role("log")).to_contain_text("보건소", timeout=30_000)
    assert not serious_violations(page)
    # What a speech-input user says is what they see; the accessible name starts with it.
    expect(page.get_by_role("button", name="가+")).to_have_accessible_name("가+ 글자 크게")
    expect(page.get_by_role("button", name="가-")).to_have_accessible_name("가- 글자 작게")
    expect(page.get_by_role("button", name="아니요").last).to_have_accessible_name("아니요, 도움이 되지 않았어요")


def test_console_pages_pass_axe_with_label_in_name(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.api_url}/console/login")
    assert not serious_violations(page, stack.api_url)
    officer_login(page, stack)
    assert not serious_violations(page, stack.api_url)
    page.context.clear_cookies()
    curator_login(page, stack, CURATORS[0])
    assert not serious_violations(page, stack.api_url)
    page.get_by_role("link", name="T01-002").click()
    assert not serious_violations(page, stack.api_url)


def test_widget_breaks_korean_between_words_and_wraps_long_urls(page: Page, stack: Stack) -> None:
    open_widget(page, f"{stack.api_url}/demo/")
    ask(page, "이사 왔는데 주소 옮기는 건 어디서 하죠?")
    log = page.locator("minwon-chat-widget .log")
    expect(page.get_by_role("log")).to_contain_text("전입", timeout=30_000)
    ask(page, f"이 주소에서 받으면 되나요? {LONG_URL}")
    expect(page.get_by_role("log")).to_contain_text("minwon/guide", timeout=30_000)
    expect(page.locator("minwon-chat-widget .msg.bot")).to_have_count(3, timeout=30_000)
    page.screenshot(path=str(SCREENSHOTS / f"widget-line-breaks-{page.viewport_size['width']}.png"))
    assert split_words(log) == []
    assert page.locator("minwon-chat-widget .msg").evaluate_all(OVERFLOWING) == []


def test_console_breaks_korean_between_words(page: Page, stack: Stack) -> None:
    curator_login(page, stack, CURATORS[0])
    page.get_by_label("찾을 말").fill("여권")
    page.get_by_role("button", name="찾기").click()
    main = page.locator("main")
    expect(main).to_contain_text("T01-002")
    assert split_words(main) == []
