"""Handoff storage on SQLite and on a real PostgreSQL: queue, ownership, race, restart, tickets, purge."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import inspect, update

from api.console.auth import StaffAuth
from api.db import Database
from api.db.models import Conversation, Ticket, utcnow
from api.handoff.store import HandoffError, HandoffStore
from api.kinds import HandoffReason, Sender, TicketStatus


@pytest.fixture
def store(db: Database) -> HandoffStore:
    return HandoffStore(db)


@pytest.fixture
def officers(db: Database):
    auth = StaffAuth(db)
    return [auth.add_user(f"officer{i}", "correct horse battery", "officer", f"김주무관{i}") for i in range(2)]


def test_migrations_create_every_table_and_can_run_twice(db: Database) -> None:
    db.upgrade()
    tables = set(inspect(db.engine).get_table_names())
    assert {"conversations", "messages", "handoffs", "tickets", "users", "audit_log", "staff_sessions"} <= tables


def test_queue_positions_follow_request_order_and_cancel_moves_people_up(store: HandoffStore) -> None:
    first, _ = store.request("conv-a", "resident")
    second, _ = store.request("conv-b", "resident")
    again, created = store.request("conv-b", "resident")
    assert (first.state, first.position, second.position) == ("waiting", 1, 2)
    assert not created and again.position == 2  # asking twice does not queue twice
    assert store.cancel("conv-a") is not None
    assert store.status("conv-b").position == 1
    assert store.status("conv-a").state == "bot"


def test_two_officers_accepting_at_once_cannot_both_own_it(store: HandoffStore, officers) -> None:
    for round_ in range(5):
        status, _ = store.request(f"race-{round_}", "resident")
        barrier = threading.Barrier(8)
        wins: list[str] = []
        losses: list[str] = []
        errors: list[BaseException] = []

        def grab(officer, status=status, barrier=barrier, wins=wins, losses=losses, errors=errors) -> None:
            try:
                barrier.wait()
                (wins if store.accept(status.handoff_id, officer) else losses).append(officer.username)
            except BaseException as exc:  # noqa: BLE001 - a crashing loser must fail the test, not warn
                errors.append(exc)

        threads = [threading.Thread(target=grab, args=(officers[i % 2],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        assert len(wins) == 1 and len(losses) == 7
        owner = store.status(f"race-{round_}")
        winner = next(o for o in officers if o.username == wins[0])
        assert owner.state == "active" and owner.officer == winner.display_name


def test_only_the_owner_can_reply_and_ending_returns_the_conversation_to_the_bot(store: HandoffStore, officers) -> None:
    mine, other = officers
    status, _ = store.request("conv", "resident")
    assert store.accept(status.handoff_id, mine)
    with pytest.raises(HandoffError):
        store.officer_message(status.handoff_id, other, "제가 답할게요")
    _, message = store.officer_message(status.handoff_id, mine, "안녕하세요, 민원팀입니다.")
    assert message.author == mine.display_name
    store.finish(status.handoff_id, mine, "상담을 마쳤습니다.", "ended")
    assert store.status("conv").state == "bot"
    with pytest.raises(HandoffError):
        store.officer_message(status.handoff_id, mine, "늦은 답변")
    senders = [m.sender for m in store.messages("conv")]
    assert senders == ["officer", "system"]


def test_nobody_accepting_in_time_times_the_request_out(store: HandoffStore) -> None:
    store.request("slow", "resident")
    assert store.expire_waiting(timedelta(minutes=5)) == []
    assert store.expire_waiting(timedelta(0)) == ["slow"]
    assert store.status("slow").state == "bot"


def test_queue_ownership_and_tickets_survive_a_restart(db: Database, officers) -> None:
    store = HandoffStore(db)
    store.request("waiting", "resident")
    owned, _ = store.request("owned", "resident")
    store.accept(owned.handoff_id, officers[0])
    ticket = store.create_ticket("owned", "홍길동", "010-1234-5678", "오후", "전입신고 문의", "2026-11")
    db.dispose()  # the api process goes away

    reopened = HandoffStore(Database(db.url))
    assert reopened.status("waiting").position == 1
    assert reopened.status("owned").officer == officers[0].display_name
    assert [t.id for t in reopened.tickets()] == [ticket]
    assert [i.state for i in reopened.queue()] == ["waiting", "active"]


def test_ticket_updates_record_who_handled_them_in_the_audit_log(store: HandoffStore, officers) -> None:
    ticket_id = store.create_ticket(None, "홍길동", "010-1234-5678", "오전", "여권 문의", "2026-11")
    updated = store.update_ticket(ticket_id, officers[1], TicketStatus.IN_PROGRESS, "오전 10시 통화 예정")
    assert (updated.status, updated.handler.username) == ("in_progress", "officer1")
    with pytest.raises(HandoffError):
        store.update_ticket(ticket_id + 100, officers[1], TicketStatus.DONE, "")
    actions = [(e.actor, e.action) for e in store.audit_log()]
    assert ("officer1", "ticket.update") in actions and ("resident", "ticket.create") in actions


def test_purge_deletes_only_what_is_past_retention(db: Database, store: HandoffStore) -> None:
    """Tickets and conversations have different periods; ages sit between them, so swapping them fails."""
    past_ticket_period = store.create_ticket(None, "오래된", "010-1111-2222", "-", "옛 문의", "2026-11")
    new = store.create_ticket(None, "새", "010-3333-4444", "-", "새 문의", "2026-11")
    store.add_message("old-conv", Sender.RESIDENT, "여권")
    store.add_message("idle-but-kept", Sender.RESIDENT, "등본")
    store.add_message("new-conv", Sender.RESIDENT, "전입")
    store.add_message("old-but-waiting", Sender.RESIDENT, "상담원")
    store.request("old-but-waiting", HandoffReason.RESIDENT)
    with db.session() as session:
        # 100 days: past the ticket period (90), inside the conversation period (180).
        session.execute(
            update(Ticket).where(Ticket.id == past_ticket_period).values(created_at=utcnow() - timedelta(days=100))
        )
        session.execute(
            update(Conversation)
            .where(Conversation.id == "idle-but-kept")
            .values(updated_at=utcnow() - timedelta(days=100))
        )
        session.execute(
            update(Conversation)
            .where(Conversation.id.in_(["old-conv", "old-but-waiting"]))
            .values(updated_at=utcnow() - timedelta(days=200))
        )
    assert store.purge(90, 180, dry_run=True) == {"tickets": 1, "conversations": 1}
    assert store.purge(90, 180) == {"tickets": 1, "conversations": 1}
    assert [t.id for t in store.tickets()] == [new]
    assert store.messages("old-conv") == []
    assert len(store.messages("idle-but-kept")) == 1 and len(store.messages("new-conv")) == 1
    assert store.status("old-but-waiting").state == "waiting"  # an open handoff is never purged


def test_api_processes_starting_at_once_on_a_fresh_postgres_all_come_up(tmp_path) -> None:
    """MINWON_API_REPLICAS=N starts N processes together; each brings the schema up to date at start."""
    from tests.databases import throwaway_postgres

    with throwaway_postgres() as url:
        databases = [Database(url) for _ in range(4)]
        start = threading.Barrier(len(databases))
        failures: list[Exception] = []

        def come_up(database: Database) -> None:
            start.wait()
            try:
                database.upgrade()
            except Exception as exc:  # noqa: BLE001 (whatever a replica's start-up would die of)
                failures.append(exc)

        threads = [threading.Thread(target=come_up, args=(d,)) for d in databases]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        try:
            assert failures == []
            assert {"conversations", "messages", "alembic_version"} <= set(
                inspect(databases[0].engine).get_table_names()
            )
        finally:
            for database in databases:
                database.dispose()
