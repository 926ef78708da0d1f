"""The Bot writing the very rows a sync republishes, while the sync publishes them.

The publish upserts the rows it changes in key order, (ticker, date), one row after another
(macros/publish/publish_table.sql). A Bot that writes the same keys in the same order waits for it, or it
for the Bot, and never deadlocks with it. A Bot that writes them in another order can: PostgreSQL then
aborts whichever of the two has waited deadlock_timeout for the other when the cycle closes. In a trial
on the demo, a Bot writing in reverse key order in a loop through 9 syncs deadlocked with 6 of them, and
each time the publish was the one aborted (the sync fails with `deadlock detected`, the target as it
was), never the Bot; the second test forces both outcomes in turn.

Each Bot transaction updates each key in its own statement, so that its order is the order it locks in,
and writes the value already there, so the values the sync's own tests compare stay the file's.
"""

import datetime as dt
import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

from alpha_migrate.paths import PROJECT_DIR
from tests.conftest import DEMO_END, INVOKE, copy_with_a_changed_day, digests, execute, query

# The publish's key order is the database's collation; for these upper-case ASCII names it is Python's.
TICKERS = sorted(["SPY", "XLB", "XLC", "XLE", "XLF", "XLI", "XLK", "XLP", "XLRE", "XLU", "XLV", "XLY"])
BOT_PAUSE_SECONDS = 0.005  # between a Bot's statements and transactions: it holds some of the keys most of the time
TOUCH = "update daily_prices set volume = volume where ticker = %s and date = %s"


@dataclass
class Bot:
    name: str
    tickers: list[str]
    # Per committed transaction, by the server's clock: when it began, when it ended, and whether the
    # sync's publish had committed before it began.
    transactions: list[tuple[dt.datetime, dt.datetime, bool]] = field(default_factory=list)
    deadlocks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def write_in_a_loop(bot: Bot, target, stop: threading.Event, runs_before: list[str]) -> None:
    """Transactions one after another until `stop`; a failed one is rolled back and not retried."""
    con = psycopg2.connect(target.libpq(), application_name=bot.name)
    while not stop.is_set():
        try:
            with con.cursor() as cur:
                cur.execute(
                    "select clock_timestamp(), exists (select from staging.sync_runs where run_id <> all(%s))",
                    (runs_before,),
                )
                began, after_publish = cur.fetchone()
                for ticker in bot.tickers:
                    cur.execute(TOUCH, (ticker, DEMO_END))
                    time.sleep(BOT_PAUSE_SECONDS)
                cur.execute("select clock_timestamp()")
                ended = cur.fetchone()[0]
            con.commit()
            bot.transactions.append((began, ended, after_publish))
        except psycopg2.errors.DeadlockDetected as exc:
            con.rollback()
            bot.deadlocks.append(f"{exc.pgerror} {exc.diag.message_detail}")
        except Exception as exc:  # noqa: BLE001 -- every failure is recorded, and the test asserts there is none
            bot.errors.append(repr(exc))
            con.rollback()
        time.sleep(BOT_PAUSE_SECONDS)
    con.close()


def start_sync(source: Path, target, report: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [INVOKE, "migrate", "--sqlite", str(source), "--dsn", target.uri(), "--report", str(report)],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition, what: str, seconds: float = 180):
    deadline = time.monotonic() + seconds
    while (result := condition()) is None or result is False:
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return result


def test_a_bot_writing_the_published_keys_in_key_order_never_deadlocks_with_the_sync(
    migrated_db, demo_sqlite, tmp_path
):
    source = copy_with_a_changed_day(demo_sqlite, tmp_path / "changed.db")  # the sync rewrites DEMO_END's 12 rows
    runs_before = [run for (run,) in query(migrated_db, "select distinct run_id from staging.sync_runs")]
    # Two connections of the Bot, both in key order: they also wait for each other, never in a cycle.
    bots = [Bot("bot-1", TICKERS), Bot("bot-2", TICKERS)]
    stop = threading.Event()
    threads = [threading.Thread(target=write_in_a_loop, args=(bot, migrated_db, stop, runs_before)) for bot in bots]
    for thread in threads:
        thread.start()
    process = None
    try:
        wait_for(lambda: all(bot.transactions for bot in bots), "the Bots to commit")
        process = start_sync(source, migrated_db, tmp_path / "sync.json")
        output = process.communicate(timeout=300)[0]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        if process and process.poll() is None:
            process.kill()
            process.wait()

    published_at = query(
        migrated_db, "select min(published_at) from staging.sync_runs where run_id <> all(%s)", (runs_before,)
    )[0][0]
    # Began before the publish committed and ended after it began: both transactions were open at once.
    overlapping = [t for bot in bots for t in bot.transactions if published_at and not t[2] and t[1] > published_at]
    longest = max((ended - began).total_seconds() for bot in bots for began, ended, _ in bot.transactions)
    print(
        f"Bot transactions: {sum(len(b.transactions) for b in bots)}, {len(overlapping)} overlapping the publish, "
        f"longest {longest * 1000:.0f} ms"
    )
    assert [bot.deadlocks for bot in bots] == [[], []]
    assert [bot.errors for bot in bots] == [[], []]
    assert process.returncode == 0, output
    assert "deadlock" not in output.lower()
    assert json.loads((tmp_path / "sync.json").read_text())["sync"]["daily_prices"]["updated"] == len(TICKERS)
    assert len(overlapping) > 0


def deadlock_timeout_seconds(target) -> float:
    return query(target, "select setting::float8 / 1000 from pg_settings where name = 'deadlock_timeout'")[0][0]


def publish_waiting_for(target, bot_pid: int) -> float | None:
    """Seconds the publish has been waiting for a lock the Bot holds; None while it is not."""
    rows = query(
        target,
        """select extract(epoch from clock_timestamp() - l.waitstart)::float8
           from pg_locks as l inner join pg_stat_activity as a on a.pid = l.pid
           where not l.granted and a.datname = current_database()
             and a.query ilike '%%insert into%%daily_prices%%' and pg_blocking_pids(a.pid) = array[%s]""",
        (bot_pid,),
    )
    return rows[0][0] if rows else None


def test_a_bot_writing_in_reverse_key_order_deadlocks_with_the_sync_and_the_first_waiter_loses(
    migrated_db, demo_sqlite, tmp_path
):
    """The Bot takes the last key first; the publish, in key order, takes the eleven others and waits for
    it; the Bot then asks for the one before: a cycle. The backend whose deadlock_timeout ends first while
    the cycle exists is aborted."""
    source = copy_with_a_changed_day(demo_sqlite, tmp_path / "changed.db")
    before = digests(migrated_db)
    # 4 s instead of 1: room to close the first cycle on a machine busy with other tests (new sessions).
    execute(migrated_db, f"alter database \"{migrated_db.params['dbname']}\" set deadlock_timeout = '4s'")
    limit = deadlock_timeout_seconds(migrated_db)
    last, before_last = TICKERS[-1], TICKERS[-2]
    bot = psycopg2.connect(migrated_db.libpq(), application_name="bot-reverse")
    bot_pid = bot.get_backend_pid()
    syncs: list[subprocess.Popen] = []
    try:
        # 1. The cycle closes at once: the publish has waited longest, and it is the one aborted.
        with bot.cursor() as cur:
            cur.execute(TOUCH, (last, DEMO_END))
            syncs.append(start_sync(source, migrated_db, tmp_path / "first.json"))
            waited = wait_for(lambda: publish_waiting_for(migrated_db, bot_pid), "the publish to wait for the Bot")
            assert waited < limit / 2, f"too slow to close the cycle within deadlock_timeout: {waited:.2f} s"
            cur.execute(TOUCH, (before_last, DEMO_END))  # returns once the publish is aborted
        bot.commit()
        output = syncs[0].communicate(timeout=300)[0]
        assert syncs[0].returncode == 1, output
        assert "deadlock detected" in output, output
        assert digests(migrated_db) == before

        # 2. The cycle closes after the publish's one deadlock check found none: the Bot is aborted, and the
        # sync, run again, publishes what the failed one had classified.
        with bot.cursor() as cur:
            cur.execute(TOUCH, (last, DEMO_END))
            syncs.append(start_sync(source, migrated_db, tmp_path / "second.json"))
            wait_for(lambda: (publish_waiting_for(migrated_db, bot_pid) or 0) > limit + 0.5, "the publish's check")
            started = time.monotonic()
            with pytest.raises(psycopg2.errors.DeadlockDetected):
                cur.execute(TOUCH, (before_last, DEMO_END))
            bot_waited = time.monotonic() - started
        bot.rollback()
        output = syncs[1].communicate(timeout=300)[0]
        assert syncs[1].returncode == 0, output
        assert json.loads((tmp_path / "second.json").read_text())["sync"]["daily_prices"]["updated"] == len(TICKERS)
        print(
            f"deadlock_timeout {limit} s; the publish had waited {waited * 1000:.0f} ms when the first cycle "
            f"closed; in the second, the Bot was aborted after waiting {bot_waited:.2f} s"
        )
    finally:
        for sync in syncs:
            if sync.poll() is None:
                sync.kill()
                sync.wait()
        bot.close()
