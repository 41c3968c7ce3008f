"""A resident asks through the real widget and stack; the numbers reach the dashboard, whose charts
render in Chromium with table alternatives and no serious axe findings (the console's CSP on); a
number drills down to the masked conversation; the curator finds the unanswered question in the inbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from api.runner import Stack
from tests.e2e.conftest import CURATORS, OFFICER, SCREENSHOTS
from tests.e2e.test_curator_browser import curator_login, serious_violations
from tests.e2e.test_widget_browser import ask, open_widget

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PHONE = "010-3456-7890"
UNANSWERED = "우리 동네 드론 비행 금지구역 지도는 어디서 봐요"


@pytest.fixture
def contexts(browser: Browser) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    resident = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ko-KR")
    staff = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    yield resident, staff
    resident.close()
    staff.close()


def test_dashboard_charts_drill_down_and_inbox(contexts: tuple[BrowserContext, BrowserContext], stack: Stack) -> None:
    resident_ctx, staff_ctx = contexts
    resident = resident_ctx.new_page()
    open_widget(resident, f"{stack.api_url}/demo/")
    log = resident.get_by_role("log")
    ask(resident, f"여권 재발급 수수료 얼마예요? 제 번호는 {PHONE}")
    expect(log).to_contain_text("원", timeout=30_000)
    replies = log.locator(".msg.bot")
    before = replies.count()
    ask(resident, UNANSWERED)
    expect(replies.nth(before)).to_be_visible(timeout=30_000)

    staff = staff_ctx.new_page()
    username, _, password = OFFICER
    staff.goto(f"{stack.api_url}/console/login")
    staff.get_by_label("아이디").fill(username)
    staff.get_by_label("비밀번호").fill(password)
    staff.get_by_role("button", name="로그인").click()
    staff.get_by_role("link", name="통계").click()
    expect(staff.get_by_role("heading", name="챗봇 이용 통계")).to_be_visible()
    for name in ("발화 결과별 건수", "주제별 질문 수", "요일·시간대별 주민 발화 수"):
        expect(staff.get_by_role("img", name=name).first).to_be_visible()  # the SVG chart, by its title
        expect(staff.locator("caption", has_text=name).first).to_be_attached()  # and its table
    expect(staff.get_by_text("엄격 해결률의 정의")).to_be_visible()
    assert staff.locator("svg.chart rect").count() > 10  # bars and heat cells were drawn
    assert not serious_violations(staff, stack)
    assert PHONE not in staff.content()
    staff.screenshot(path=str(SCREENSHOTS / "analytics-dashboard.png"), full_page=True)

    staff.get_by_role("row", name="대화").first.get_by_role("link").click()
    expect(staff.get_by_role("heading", name="모든 대화")).to_be_visible()
    staff.get_by_role("row").filter(has_text="여권 재발급 수수료").get_by_role("link").first.click()
    expect(staff.get_by_role("heading", name="대화 기록")).to_be_visible()
    expect(staff.get_by_text("[전화번호]").first).to_be_visible()
    assert PHONE not in staff.content()
    assert not serious_violations(staff, stack)

    staff_ctx.clear_cookies()  # the same browser, now the curator
    page = staff_ctx.new_page()
    curator_login(page, stack, CURATORS[0])
    page.get_by_role("link", name="미해결 질문").click()
    expect(page.get_by_role("heading", name="미해결 질문함")).to_be_visible()
    expect(page.get_by_role("heading", name=UNANSWERED[:10]).first).to_be_visible()
    assert not serious_violations(page, stack)
    page.screenshot(path=str(SCREENSHOTS / "analytics-inbox.png"), full_page=True)
