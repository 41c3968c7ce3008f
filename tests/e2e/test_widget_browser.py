"""The demo county homepage in headless Debian Chromium: one script tag gives a working chat."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from api.runner import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("MINWON_SCREENSHOT_DIR", tempfile.gettempdir())) / "minwon-screenshots"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")
def test_resident_asks_in_the_widget_and_reads_the_answer(stack: Stack) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="ko-KR")
            page.goto(f"{stack.api_url}/demo/")
            launcher = page.get_by_role("button", name="예시군 민원 안내")
            launcher.click()
            log = page.get_by_role("log")
            expect(log).to_contain_text("민원 안내 챗봇입니다", timeout=30_000)
            box = page.get_by_label("질문 입력")
            box.fill("이사 왔는데 주소 옮기는 건 어디서 하죠?")
            box.press("Enter")
            expect(log).to_contain_text("14일 안에", timeout=30_000)
            expect(log).to_contain_text("정부24")
            page.screenshot(path=str(SCREENSHOTS / "widget-desktop.png"))
            # A quick-reply button sends its question.
            page.get_by_role("button", name="민원실 운영시간").click()
            expect(log).to_contain_text("09:00~18:00", timeout=30_000)
            # Escape closes the panel and focus returns to the launcher.
            box.press("Escape")
            expect(launcher).to_be_focused()
        finally:
            browser.close()
