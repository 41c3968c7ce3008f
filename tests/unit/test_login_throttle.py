"""No stranger can lock an officer out: failures slow down the address (and, from unknown addresses, the
account) that makes them, with growing delays; every attempt is in the audit log with its client address."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.client_address import client_address, parse_networks
from api.console.auth import AuthError, LoginThrottled, StaffAuth
from api.console.throttle import FREE_PER_ACCOUNT, FREE_PER_ADDRESS, delay
from api.db import Database
from api.db.models import AuditEntry
from api.settings import Settings, SettingsError

PASSWORD = "correct horse battery"


@pytest.fixture
def auth(db: Database) -> StaffAuth:
    staff = StaffAuth(db)
    staff.add_user("kim", PASSWORD, "officer", "김주무관")
    return staff


def fail(auth: StaffAuth, client: str, username: str = "kim") -> AuthError:
    with pytest.raises(AuthError) as raised:
        auth.login(username, "guess-guess-guess", client)
    return raised.value


def backdate(db: Database, seconds: float) -> None:
    """As if every recorded attempt happened ``seconds`` earlier."""
    with db.session() as session:
        for entry in session.scalars(select(AuditEntry)):
            entry.at = entry.at - timedelta(seconds=seconds)


def test_twelve_failures_from_one_address_do_not_stop_the_right_password_from_another(auth: StaffAuth) -> None:
    refusals = [fail(auth, "127.0.0.2") for _ in range(12)]
    assert [type(r) for r in refusals[:FREE_PER_ADDRESS]] == [AuthError] * FREE_PER_ADDRESS
    assert all(isinstance(r, LoginThrottled) for r in refusals[FREE_PER_ADDRESS:])
    assert "뒤에 다시 시도해 주세요" in str(refusals[-1])
    with pytest.raises(LoginThrottled):  # the guessing address waits even with the right password
        auth.login("kim", PASSWORD, "127.0.0.2")
    assert auth.login("kim", PASSWORD, "127.0.0.1").user.username == "kim"


def test_delays_grow_with_every_failure_and_are_capped() -> None:
    assert [delay(n, 5, timedelta(minutes=15)).total_seconds() for n in range(4, 10)] == [0, 2, 4, 8, 16, 32]
    assert delay(60, 5, timedelta(minutes=15)) == timedelta(minutes=15)


def test_an_address_that_waits_out_its_delay_may_try_again_and_then_waits_longer(db: Database, auth: StaffAuth) -> None:
    for _ in range(FREE_PER_ADDRESS):
        fail(auth, "192.0.2.10")
    assert isinstance(fail(auth, "192.0.2.10"), LoginThrottled)
    backdate(db, 2.5)  # the first delay is 2 s
    assert type(fail(auth, "192.0.2.10")) is AuthError
    throttled = fail(auth, "192.0.2.10")
    assert isinstance(throttled, LoginThrottled) and throttled.retry_after == 4
    backdate(db, 4.5)
    assert auth.login("kim", PASSWORD, "192.0.2.10").user.username == "kim"
    assert type(fail(auth, "192.0.2.10")) is AuthError  # a success starts the count again


def test_an_account_guessed_at_from_many_addresses_waits_only_for_unknown_addresses(auth: StaffAuth) -> None:
    auth.login("kim", PASSWORD, "10.1.2.3")  # kim's own PC
    for n in range(FREE_PER_ACCOUNT):
        assert type(fail(auth, f"198.51.100.{n + 1}")) is AuthError  # one try each: no address is slowed
    with pytest.raises(LoginThrottled, match="평소 쓰시는 컴퓨터"):
        auth.login("kim", PASSWORD, "203.0.113.50")
    assert auth.login("kim", PASSWORD, "10.1.2.3").user.username == "kim"  # the known PC gets in


def test_a_console_network_address_is_never_slowed_by_a_strangers_failures(auth: StaffAuth) -> None:
    for n in range(FREE_PER_ACCOUNT + 2):
        fail(auth, f"198.51.100.{n + 1}")
    with pytest.raises(LoginThrottled):
        auth.login("kim", PASSWORD, "10.9.9.9")
    assert auth.login("kim", PASSWORD, "10.9.9.9", trusted=True).user.username == "kim"


def test_unknown_accounts_are_throttled_like_real_ones(auth: StaffAuth) -> None:
    """Otherwise the throttle itself would tell a stranger which account names exist."""
    refusals = [type(fail(auth, "192.0.2.77", "nobody")) for _ in range(FREE_PER_ADDRESS + 1)]
    assert refusals[-1] is LoginThrottled


def test_every_attempt_is_audited_with_the_client_address(db: Database, auth: StaffAuth) -> None:
    fail(auth, "127.0.0.2")
    auth.login("kim", PASSWORD, "127.0.0.1")
    with db.session() as session:
        rows = [(e.actor, e.action, e.target) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert ("kim", "login.fail", "client:127.0.0.2") in rows
    assert ("kim", "login", "client:127.0.0.1") in rows


# ---- the client address ----
PROXIES = parse_networks(["10.0.0.1", "172.16.0.0/12"], "MINWON_TRUSTED_PROXIES")


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", None, "203.0.113.9"),
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # not a proxy: its header is not believed
        ("10.0.0.1", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.1", "1.2.3.4, 198.51.100.7", "198.51.100.7"),  # the left-most hop is the client's to forge
        ("10.0.0.1", "198.51.100.7, 172.16.5.5", "198.51.100.7"),  # a chain of trusted proxies
        ("10.0.0.1", "not-an-address", "10.0.0.1"),
        ("::ffff:203.0.113.9", None, "::ffff:cb00:7109"),
        (None, None, "unknown"),
    ],
)
def test_x_forwarded_for_is_believed_only_from_configured_proxies(
    peer: str | None, forwarded: str | None, expected: str
) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected


def test_a_bad_proxy_setting_is_refused_with_its_name() -> None:
    with pytest.raises(SettingsError, match="MINWON_TRUSTED_PROXIES"):
        Settings(trusted_proxies=["10.0.0.300"], load_retriever=False)
    env = {"MINWON_TRUSTED_PROXIES": "10.0.0.1, 172.16.0.0/12", "MINWON_CONSOLE_NETWORKS": "10.20.0.0/16"}
    settings = Settings.from_env(env, with_secret=False)
    assert settings.trusted_proxies == ["10.0.0.1", "172.16.0.0/12"] and settings.console_networks == ["10.20.0.0/16"]


@pytest.mark.parametrize(("proxies", "recorded"), [([], "client:10.0.0.1"), (["10.0.0.1"], "client:198.51.100.7")])
def test_the_login_form_records_the_address_the_proxy_setting_allows(
    db: Database, settings: Settings, auth: StaffAuth, proxies: list[str], recorded: str
) -> None:
    configured = dataclasses.replace(settings, database_url=db.url, trusted_proxies=proxies)
    with TestClient(create_app(configured), client=("10.0.0.1", 50000)) as client:
        page = client.get("/console/login")
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        response = client.post(
            "/console/login",
            data={"username": "kim", "password": "wrong-wrong-wrong", "csrf": token},
            headers={"X-Forwarded-For": "198.51.100.7"},
        )
    assert response.status_code == 401
    with db.session() as session:
        assert session.scalar(select(AuditEntry.target).where(AuditEntry.action == "login.fail")) == recorded


def test_a_throttled_login_page_says_when_to_retry(db: Database, settings: Settings, auth: StaffAuth) -> None:
    configured = dataclasses.replace(settings, database_url=db.url)
    with TestClient(create_app(configured), client=("192.0.2.1", 50000)) as client:
        page = client.get("/console/login")
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        form = {"username": "kim", "password": "wrong-wrong-wrong", "csrf": token}
        statuses = [client.post("/console/login", data=form).status_code for _ in range(FREE_PER_ADDRESS + 1)]
        throttled = client.post("/console/login", data=form)
    assert statuses == [401] * FREE_PER_ADDRESS + [429]
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
    assert "뒤에 다시 시도해 주세요" in throttled.text
