"""The Rasa shortcuts (bot/components/rasa_speedups.py) change nothing Rasa decides (Rasa env)."""

from __future__ import annotations

import jsonschema
import pytest
from components import rasa_speedups
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

pytestmark = pytest.mark.rasa_env

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "topic", "value": "passport"}], "responses": [{"text": "안내"}]},
    {"responses": [{"text": "버튼", "buttons": [{"title": "예", "payload": "/affirm"}]}]},
]
INVALID = [
    {"events": "slot", "responses": []},
    {"events": [{"event": "slot"}], "responses": []},
    {"events": [{"event": "no_such_event"}]},
    {"responses": ["plain text, not an object"]},
    [],
]


def remote() -> RemoteAction:
    return RemoteAction("action_answer_faq", None)


def test_the_shortcuts_are_installed_in_the_rasa_process() -> None:
    assert rasa_speedups.apply() is True
    assert RemoteAction._validate_action_result.__module__ == rasa_speedups.__name__


@pytest.mark.parametrize("response", VALID)
def test_a_valid_action_response_is_accepted_as_before(response: dict) -> None:
    jsonschema.validate(response, RemoteAction.action_response_format_spec())  # what stock Rasa runs
    assert remote()._validate_action_result(response) is True


@pytest.mark.parametrize("response", INVALID)
def test_an_invalid_action_response_is_refused_with_the_same_error(response: object) -> None:
    with pytest.raises(jsonschema.ValidationError) as stock:
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as ours:
        remote()._validate_action_result(response)  # type: ignore[arg-type]
    assert ours.value.message.startswith(stock.value.message)
    assert "Failed to validate Action server response" in ours.value.message
    assert list(ours.value.path) == list(stock.value.path)


def test_events_deserialise_to_the_same_classes() -> None:
    for _ in range(2):  # the second round is answered from what the first remembered
        assert Event.resolve_by_type("user") is UserUttered
        assert Event.resolve_by_type("slot") is SlotSet
        assert Event.resolve_by_type("action") is ActionExecuted
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")


def test_the_tracker_schema_is_looked_up_until_found_then_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    """On the real PostgreSQL: a missing schema still fails every time; a found one is not asked again."""
    import sqlalchemy as sa
    from rasa.core import tracker_store
    from sqlalchemy.orm import sessionmaker

    assert rasa_speedups.apply() is True
    engine = sa.create_engine("postgresql://postgres@127.0.0.1:5432/postgres")
    lookups: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: lookups.append(a[2]) if "schemata" in a[2] else None)
    session = sessionmaker(engine)()
    try:
        monkeypatch.setenv(tracker_store.POSTGRESQL_SCHEMA, "minwon_no_such_schema")
        for _ in range(2):
            with pytest.raises(ValueError, match="minwon_no_such_schema"):
                tracker_store.ensure_schema_exists(session)
        assert len(lookups) == 2
        monkeypatch.setenv(tracker_store.POSTGRESQL_SCHEMA, "public")
        for _ in range(3):
            tracker_store.ensure_schema_exists(session)
        assert len(lookups) == 3  # asked once, then remembered
    finally:
        session.close()
        engine.dispose()
