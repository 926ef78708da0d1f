"""One lock for every writer (alpha_migrate/write_lock.py, macros/locks/write_lock.sql): while one holds
it, every other writer waits a bounded time, then stops with one line naming the holder, and the target
is unchanged; two writers started together both finish, one after the other."""

import datetime as dt
import subprocess
import time

import pytest

from alpha_migrate import target_db
from alpha_migrate.write_lock import holder, write_lock
from tests.conftest import (
    INVOKE,
    analyst_dbt_test,
    copy_with_a_changed_day,
    digests,
    execute,
    invoke,
    migrate_ok,
    query,
)

NO_WAIT = {"ALPHA_LOCK_WAIT_SECONDS": "2"}
HOLDER = "alpha invoke migrate (user "


def other_writers(target, source):
    return {
        "invoke migrate": lambda: invoke("migrate", "--sqlite", str(source), "--dsn", target.uri(), env=NO_WAIT),
        "invoke partitions": lambda: invoke("partitions", "--dsn", target.uri(), "--ahead", "3", env=NO_WAIT),
        "invoke roles": lambda: invoke("roles", "--dsn", target.uri(), env=NO_WAIT),
    }


@pytest.mark.parametrize("writer", ["invoke migrate", "invoke partitions", "invoke roles"])
def test_a_second_command_waits_then_names_the_holder(writer, migrated_db, demo_sqlite, tmp_path):
    source = copy_with_a_changed_day(demo_sqlite, tmp_path / "changed.db")
    before = digests(migrated_db)
    with write_lock(migrated_db, "invoke migrate"):
        started = time.monotonic()
        result = other_writers(migrated_db, source)[writer]()
        waited = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: another writer holds the write lock"), result.stderr
    assert HOLDER in lines[0] and "waited 2 s" in lines[0]
    assert waited >= 2
    assert digests(migrated_db) == before


def test_an_analysts_dbt_build_on_production_waits_then_names_the_holder(migrated_db, tmp_path, monkeypatch):
    before = digests(migrated_db)
    monkeypatch.setenv("ALPHA_LOCK_WAIT_SECONDS", "2")
    with write_lock(migrated_db, "invoke migrate"):
        result = analyst_dbt_test(migrated_db, tmp_path, "build")
    assert result.returncode != 0
    assert "another writer holds the write lock of" in result.stdout and HOLDER in result.stdout, result.stdout
    assert digests(migrated_db) == before


def test_dbt_commands_that_do_not_write_take_no_lock(migrated_db, tmp_path, monkeypatch):
    monkeypatch.setenv("ALPHA_LOCK_WAIT_SECONDS", "2")
    with write_lock(migrated_db, "invoke migrate"):
        result = analyst_dbt_test(migrated_db, tmp_path, "test")
    assert result.returncode == 0, result.stdout


def test_two_writers_started_together_both_finish_one_after_the_other(migrated_db, demo_sqlite, tmp_path):
    source = copy_with_a_changed_day(demo_sqlite, tmp_path / "changed.db")
    commands = [
        [INVOKE, "migrate", "--sqlite", str(source), "--dsn", migrated_db.uri(), "--report", str(tmp_path / "r.json")],
        [INVOKE, "partitions", "--dsn", migrated_db.uri(), "--ahead", "3"],
    ]
    processes = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for c in commands]
    # Whichever is second sees the first holding the lock, and waits for it.
    seen_waiting = False
    while any(p.poll() is None for p in processes):
        waiting = query(
            migrated_db,
            "select count(*) from pg_locks where locktype = 'advisory' and not granted"
            " and (classid::bigint << 32 | objid::bigint) = x'414C504841'::bigint",
        )[0][0]
        seen_waiting = seen_waiting or waiting > 0
        time.sleep(0.05)
    outputs = [p.communicate()[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert seen_waiting, "neither writer ever waited for the other"
    # Both did their work: the migration published the changed day, the partitions reach 3 years ahead.
    synced = query(migrated_db, "select updated from staging.sync_runs where table_name = 'daily_prices'")
    assert sorted(synced) == [(0,), (0,), (12,)] or (12,) in synced, synced
    assert "daily_prices_" + str(dt.date.today().year + 3) in outputs[1], outputs[1]


def test_the_lock_and_the_run_outlast_a_servers_idle_session_timeout(fresh_db, demo_sqlite, tmp_path):
    """The run's sessions wait, idle, while dbt works: a database's idle_session_timeout of one second ended
    them mid-run, the write lock's with them, until the run turned it off for its own sessions."""
    execute(fresh_db, f"alter database \"{fresh_db.params['dbname']}\" set idle_session_timeout = '1s'")
    _, summary = migrate_ok(demo_sqlite, fresh_db, tmp_path / "report.json")
    assert summary["status"] == "ok" and summary["loaded"] == summary["source"]
    assert summary["phases"]["transform"] > 1  # the lock's session idled longer than the timeout
    with write_lock(fresh_db, "invoke migrate"):
        time.sleep(1.5)
        with target_db.connect(fresh_db) as con:
            assert holder(con).startswith(HOLDER)  # still held after a second and a half of idling
