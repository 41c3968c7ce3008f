"""Per-turn costs of Rasa 3.6 that do not depend on the bot, removed without changing behaviour.

Profiled under load (py-spy on the Rasa process, 22 turns/s, evaluation/bench_capacity.py):

- 39 % of Rasa's CPU went to ``RemoteAction._validate_action_result``: ``jsonschema.validate`` checks
  Rasa's own constant response schema against the JSON-Schema meta-schema on every action call
  before it checks the response. The schema is checked once here and its validator kept; responses
  are validated exactly as before (the same best-match error, the same message).
- 8 % went to ``Event.resolve_by_type``, which walks every ``Event`` subclass for each event it
  deserialises (the in-memory tracker store deserialises the whole conversation every turn). Found
  classes are remembered by type name; an unknown name still takes the original path.
- With the trackers in PostgreSQL (the replicated stack), ``ensure_schema_exists`` asked
  information_schema whether the tracker schema exists at every tracker-store session, several per
  turn: 3.8 of Rasa's 44 ms of samples per turn at 15 turns/s. A schema once found is remembered per
  engine URL and schema name; one not found is asked again each time and fails as before.

Applied when the ``components`` package is imported, which Rasa does while loading the model (the
tokenizer lives there), in training and in ``rasa run`` alike. ``MINWON_RASA_STOCK=1`` leaves Rasa as
shipped, so the capacity bench can measure both in one run.
"""

from __future__ import annotations

import os
from typing import Any

APPLIED = False


def apply() -> bool:
    """Install both shortcuts once; False when disabled or when this is not the Rasa env."""
    global APPLIED
    if APPLIED:
        return True
    if os.environ.get("MINWON_RASA_STOCK") == "1":
        return False
    try:
        from jsonschema import ValidationError
        from jsonschema.exceptions import best_match
        from jsonschema.validators import validator_for
        from rasa.core import tracker_store
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.constants import DOCS_BASE_URL
        from rasa.shared.core.events import Event
    except ImportError:  # the main env imports bot/ too, without Rasa
        return False

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    original_resolve = Event.resolve_by_type
    found: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        cls = found.get(type_name)
        if cls is None:
            cls = original_resolve(type_name, default)
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    original_ensure = tracker_store.ensure_schema_exists
    schemas_found: set[tuple[str, str]] = set()

    def ensure_schema_exists(session: Any) -> None:
        schema = os.environ.get(tracker_store.POSTGRESQL_SCHEMA)
        if not schema:
            return
        key = (str(session.get_bind().url), schema)
        if key in schemas_found:
            return
        original_ensure(session)  # raises ValueError when the schema is not there
        schemas_found.add(key)

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    tracker_store.ensure_schema_exists = ensure_schema_exists
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
    APPLIED = True
    return True
