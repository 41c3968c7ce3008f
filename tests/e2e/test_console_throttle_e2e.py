"""A stranger on another address cannot keep an officer out: two real loopback addresses, no proxy headers."""

from __future__ import annotations

import httpx
import pytest

from api.runner import Stack
from tests.e2e.conftest import OFFICER

pytestmark = pytest.mark.e2e


def login_from(stack: Stack, local_address: str, password: str) -> httpx.Response:
    """The login form posted over a socket bound to ``local_address``."""
    transport = httpx.HTTPTransport(local_address=local_address)
    with httpx.Client(base_url=stack.api_url, transport=transport, timeout=30) as client:
        page = client.get("/console/login")
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        return client.post("/console/login", data={"username": OFFICER[0], "password": password, "csrf": token})


def test_twelve_failures_from_127_0_0_2_do_not_stop_the_right_password_from_127_0_0_1(stack: Stack) -> None:
    statuses = [login_from(stack, "127.0.0.2", "not-the-password").status_code for _ in range(12)]
    assert set(statuses) <= {401, 429} and statuses[-1] == 429  # the guessing address is slowed down
    response = login_from(stack, "127.0.0.1", OFFICER[2])
    assert response.status_code == 303 and response.headers["location"] == "/console"
    assert "minwon_console=" in response.headers["set-cookie"]
