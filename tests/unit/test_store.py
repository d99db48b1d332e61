"""The store: migrations, named SQL, transactions and the single-writer lock."""

import multiprocessing
import time

import duckdb
import pytest

from pipeline.errors import LockBusy, StoreError
from pipeline.settings import load_settings
from pipeline.store import open_store
from pipeline.store.db import memory_store
from pipeline.store.migrate import migrate, migrations


def settings_in(tmp_path, wait=0.2):
    return load_settings(environ={"MARQUEE_DATA_DIR": str(tmp_path),
                                  "MARQUEE__DATA__LOCK_WAIT_SECONDS": str(wait)}, dotenv_path=None)


def test_migrations_are_numbered_and_all_applied(tmp_path):
    names = [name for _, name, _ in migrations()]
    assert names == sorted(names) and names[0].startswith("001_")
    with open_store(settings_in(tmp_path)) as store:
        versions = [v for (v,) in store.con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()]
    assert versions == list(range(1, len(names) + 1))


def test_reopening_applies_nothing_twice(tmp_path):
    s = settings_in(tmp_path)
    with open_store(s):
        pass
    with open_store(s) as store:
        assert store.con.execute("SELECT count(*) FROM schema_version").fetchall()[0][0] == len(migrations())


def test_a_store_newer_than_the_code_is_refused():
    con = duckdb.connect()
    migrate(con)
    con.execute("INSERT INTO schema_version VALUES (999, '999_future.sql', now())")
    with pytest.raises(StoreError, match="newer than this Marquee"):
        migrate(con)


def test_public_views_exist_and_hide_no_ip():
    store = memory_store()
    for view in ("plays", "users", "media"):
        cols = [r[0] for r in store.con.execute(f"DESCRIBE {view}").fetchall()]
        assert cols and not any("ip" == c or "ip_address" in c for c in cols)
    all_cols = store.con.execute("SELECT column_name FROM duckdb_columns()").fetchall()
    assert not [c for (c,) in all_cols if "ip_address" in c]


def test_transaction_rolls_back_on_error():
    store = memory_store()
    with pytest.raises(RuntimeError):
        with store.transaction() as con:
            con.execute("INSERT INTO ingest_state VALUES ('k', 'v', now())")
            raise RuntimeError("die halfway")
    assert store.con.execute("SELECT count(*) FROM ingest_state").fetchall() == [(0,)]


def test_unknown_sql_name_is_a_clear_error():
    with pytest.raises(StoreError, match="no SQL file pipeline/sql/nope/missing.sql"):
        memory_store().execute("nope/missing")


def _hold(path: str, ready, release) -> None:
    s = load_settings(environ={"MARQUEE_DATA_DIR": path}, dotenv_path=None)
    with open_store(s):
        ready.set()
        release.wait(20)


def test_an_overlapping_run_waits_then_gives_up_cleanly(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(tmp_path), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        started = time.monotonic()
        with pytest.raises(LockBusy, match=r"another Marquee run holds .*marquee.lock \(pid \d+\)"):
            open_store(settings_in(tmp_path, wait=0.5))
        assert time.monotonic() - started >= 0.5  # it waited the bounded time first
    finally:
        release.set()
        holder.join(20)
    with open_store(settings_in(tmp_path)) as store:  # free again once the holder ends
        assert store.con.execute("SELECT 1").fetchall() == [(1,)]


def test_lock_is_freed_when_the_holder_is_killed(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(tmp_path), ready, release))
    holder.start()
    assert ready.wait(30)
    holder.kill()
    holder.join(20)
    with open_store(settings_in(tmp_path, wait=5)) as store:
        assert store.con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0] >= 2
