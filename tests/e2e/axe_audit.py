"""axe-core as the project runs it: WCAG 2.0/2.1 A and AA, plus 2.5.3 Label in Name.

``label-content-name-mismatch`` is tagged experimental in axe, so a run by tags skips it;
it is switched on by name, and every audit checks that it really ran.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
LABEL_IN_NAME = "label-content-name-mismatch"
OPTIONS: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "rules": {LABEL_IN_NAME: {"enabled": True}},
}
# Served from the page's own origin, so a page whose CSP says script-src 'self' keeps it on.
SAME_ORIGIN_PATH = "/console/static/axe-audit.js"


def inject(page: Page, origin: str | None = None) -> None:
    """Load axe-core into the page once: inline, or (``origin`` given) as a same-origin script."""
    if page.evaluate("() => typeof axe !== 'undefined'"):
        return
    if origin is None:
        page.add_script_tag(path=str(AXE))
        return
    url = origin.rstrip("/") + SAME_ORIGIN_PATH
    page.route(url, lambda route: route.fulfill(path=str(AXE), content_type="application/javascript"))
    page.add_script_tag(url=url)


def audit(page: Page, origin: str | None = None) -> dict[str, Any]:
    inject(page, origin)
    results: dict[str, Any] = page.evaluate(f"() => axe.run(document, {json.dumps(OPTIONS)})")
    ran = {r["id"] for key in ("passes", "violations", "incomplete", "inapplicable") for r in results[key]}
    if LABEL_IN_NAME not in ran:
        raise AssertionError(f"axe did not run {LABEL_IN_NAME}; the 2.5.3 check would pass unseen")
    return results


def serious_violations(page: Page, origin: str | None = None) -> list[str]:
    """Serious and critical violations on the page as it is now, one readable line each."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
        for v in audit(page, origin)["violations"]
        if v["impact"] in ("serious", "critical")
    ]
