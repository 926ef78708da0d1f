"""Runs killed mid-publish: SIGKILL of the client (invoke and its dbt), and SIGKILL of the PostgreSQL
server itself. Either way the target stays as it was, and the next run completes with the checksums of
an uninterrupted one.

To kill at a known point, the test holds a lock on one row the sync must rewrite: the publishing
transaction stops there, visibly waiting, and is killed in that state.
"""

import contextlib
import datetime as dt
import os
import signal
import subprocess
import time
from pathlib import Path

import psycopg2

from alpha_migrate import embedded
from scripts.demo_db import write_demo_database
from tests.conftest import DEMO_END, INVOKE, create_database, digests, invoke, migrate_ok, query

PUBLISH_WAITING = """
    select count(*) from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock' and query ilike '%%insert into%%daily_prices%%'"""


def changed_source(folder: Path) -> Path:
    path = folder / "changed.db"  # another seed: every price differs, so the publish rewrites every row
    write_demo_database(path, end=dt.date.fromisoformat(DEMO_END), seed=7)
    return path


@contextlib.contextmanager
def row_held(target):
    """Hold XLK's first 2026 price row locked until the block ends."""
    con = psycopg2.connect(target.libpq())
    with con.cursor() as cur:
        cur.execute("select 1 from daily_prices where ticker = 'XLK' and date = '2026-01-02' for update")
    try:
        yield
    finally:
        try:
            con.rollback()
        except psycopg2.OperationalError:
            pass  # the server was killed under it
        con.close()


def start_sync(source: Path, target) -> subprocess.Popen:
    return subprocess.Popen(
        [INVOKE, "migrate", "--sqlite", str(source), "--dsn", target.uri()],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_sigkill_of_the_client_mid_publish_leaves_the_target_unchanged(migrated_db, demo_sqlite, tmp_path):
    fresh_db = migrated_db
    before = digests(fresh_db)
    changed = changed_source(tmp_path)

    with row_held(fresh_db):
        process = start_sync(changed, fresh_db)
        wait_for(lambda: query(fresh_db, PUBLISH_WAITING)[0][0] == 1, "the publish to wait on the held row")
        os.killpg(process.pid, signal.SIGKILL)  # invoke and the dbt it runs, at once
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL

    # Released, the orphaned backend finishes its statement, finds its client gone and rolls back.
    others = "select count(*) from pg_stat_activity where datname = current_database() and pid != pg_backend_pid()"
    wait_for(lambda: query(fresh_db, others)[0][0] == 0, "the orphaned transaction to end")
    assert digests(fresh_db) == before

    _, summary = migrate_ok(changed, fresh_db, tmp_path / "again.json")
    assert summary["sync"]["daily_prices"]["updated"] > 30000
    assert digests(fresh_db) != before


def server_processes(pgdata: Path) -> list[int]:
    """The postmaster and its children."""
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    children.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return [postmaster, *children]


def test_sigkill_of_the_server_mid_sync_then_the_next_run_matches_an_uninterrupted_one(
    migrated_db, demo_sqlite, tmp_path
):
    changed = changed_source(tmp_path)
    _, reference = migrate_ok(changed, migrated_db, tmp_path / "reference-sync.json")

    pgdata = tmp_path / "own-server" / "pgdata"
    server = embedded.start(pgdata, database="postgres")
    try:
        target = create_database(server)
        migrate_ok(demo_sqlite, target, tmp_path / "first.json")
        before = digests(target)
        with row_held(target):
            process = start_sync(changed, target)
            wait_for(lambda: query(target, PUBLISH_WAITING)[0][0] == 1, "the publish to wait on the held row")
            for pid in server_processes(pgdata):
                with contextlib.suppress(ProcessLookupError):  # a child may exit on its postmaster's death first
                    os.kill(pid, signal.SIGKILL)
            output = process.communicate(timeout=120)[0]
        assert process.returncode == 1, output
        assert output.strip().splitlines()[-1].startswith("error: "), output

        # The operator restarts it; crash recovery replays the WAL.
        restarted = invoke("db.start", env={"ALPHA_PGDATA": str(pgdata)})
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert digests(target) == before
        _, summary = migrate_ok(changed, target, tmp_path / "after-crash.json")
        assert summary["checksums"] == reference["checksums"]
        assert summary["target_rows"] == reference["target_rows"]
    finally:
        embedded.stop(pgdata)
