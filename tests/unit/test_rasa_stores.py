"""What Rasa replicas are started with on a PostgreSQL + Redis install: Rasa's own config reader sees the
tracker store in our database (its own schema) and a Redis lock store with this install's prefix, the
passwords reach it without being written down, and an install without them is left as it was."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from api.db import Database
from api.rasa_stores import RASA_SCHEMA, StoreConfigError, lock_store, prepare
from api.runner import BOT_DIR, rasa_env
from api.settings import Settings, install_key
from tests.databases import throwaway_postgres

RASA_PYTHON = Path(__file__).resolve().parents[2] / ".venv-rasa" / "bin" / "python"
# Rasa builds both stores from the file the way `rasa run` does (the tracker store connects and makes its
# table), and says where they point.
READ = """
import json, sys
from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import TrackerStore
from rasa.utils.endpoints import read_endpoint_config
tracker = TrackerStore.create(read_endpoint_config(sys.argv[1], "tracker_store"))
locks = LockStore.create(read_endpoint_config(sys.argv[1], "lock_store"))
action = read_endpoint_config(sys.argv[1], "action_endpoint")
redis = locks.red.connection_pool.connection_kwargs
url = tracker.engine.url
print(json.dumps({
    "tracker": [type(tracker).__name__, url.get_backend_name(), url.host, url.port, url.database, url.username,
                url.password],
    "locks": [type(locks).__name__, redis["host"], redis["port"], redis["db"], redis["password"], locks.key_prefix],
    "action": action.url,
}))
"""
WHERES = ("rasa.events", "public.events")


def read_as_rasa(path: Path, env: dict[str, str]) -> dict[str, Any]:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa env (.venv-rasa) is not built")
    extra = {"ACTION_ENDPOINT_URL": "http://127.0.0.1:1/internal/actions/webhook", "ACTION_TOKEN": "t", **env}
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", READ, str(path)], env=rasa_env(extra), capture_output=True, text=True, check=True
    )
    loaded: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_a_postgresql_and_redis_install_gives_rasa_shared_stores(own_var_dir: Path) -> None:
    with throwaway_postgres() as url:
        # A password with characters YAML and URLs care about: it must arrive unchanged, and not in the file.
        database_url = url.replace("postgres@", "postgres:p%40ss%3A%24w0rd@")
        settings = Settings(
            var_dir=own_var_dir, database_url=database_url, redis_url="redis://:s%23cret@127.0.0.1:6379/3"
        )
        stores = prepare(settings, BOT_DIR / "endpoints.yml")
        assert stores.shared_trackers and stores.endpoints.is_relative_to(own_var_dir)
        written = stores.endpoints.read_text(encoding="utf-8")
        assert "p@ss:$w0rd" not in written and "s#cret" not in written
        built = read_as_rasa(stores.endpoints, stores.env)
        name = url.rsplit("/", 1)[1]
        assert built["tracker"] == ["SQLTrackerStore", "postgresql", "127.0.0.1", 5432, name, "postgres", "p@ss:$w0rd"]
        assert stores.env["POSTGRESQL_SCHEMA"] == RASA_SCHEMA
        kind, host, port, redis_db, password, prefix = built["locks"]
        assert (kind, host, port, redis_db, password) == ("RedisLockStore", "127.0.0.1", 6379, 3, "s#cret")
        assert prefix.startswith("minwon" + install_key(settings.database_url))  # Rasa accepted it as given
        assert built["action"].endswith("/internal/actions/webhook")  # the action server is still there
        # Rasa made its table in the schema the runner made for it, not among ours (trust auth: any password).
        db = Database(settings.database_url)
        try:
            with db.engine.connect() as connection:
                where = [connection.scalar(text("SELECT to_regclass(:t)::text"), {"t": t}) for t in WHERES]
                assert where == ["rasa.events", None]
        finally:
            db.dispose()
        prepare(settings, BOT_DIR / "endpoints.yml")  # at the next start the schema is there already


def test_two_installs_on_one_redis_lock_under_different_prefixes() -> None:
    one, _ = lock_store("redis://127.0.0.1:6379/0", install_key("postgresql+psycopg://minwon@db/county_a"))
    two, _ = lock_store("redis://127.0.0.1:6379/0", install_key("postgresql+psycopg://minwon@db/county_b"))
    assert [line for line in one if "key_prefix" in line] != [line for line in two if "key_prefix" in line]


def test_an_install_without_postgresql_or_redis_runs_rasa_as_before(own_var_dir: Path) -> None:
    stores = prepare(Settings(var_dir=own_var_dir), BOT_DIR / "endpoints.yml")
    assert stores.endpoints == BOT_DIR / "endpoints.yml" and stores.env == {} and not stores.shared_trackers
    assert not (own_var_dir / "rasa").exists()


def test_a_redis_url_rasa_cannot_use_is_refused_by_name() -> None:
    with pytest.raises(StoreConfigError, match="REDIS_URL"):
        lock_store("unix:///run/redis.sock", "abc")
