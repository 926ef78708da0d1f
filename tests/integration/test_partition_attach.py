"""Creating yearly partitions on the live table, as `invoke partitions` does, while readers read it.

macros/partitions/ensure_yearly_partitions.sql creates each partition as a table of its own and then
attaches it: ATTACH PARTITION takes SHARE UPDATE EXCLUSIVE on daily_prices, which the ACCESS SHARE of a
reader does not conflict with. So the attach does not wait for a reader's open transaction, and even an
attach that waits (for another SHARE UPDATE EXCLUSIVE holder: VACUUM, ANALYZE, CREATE INDEX CONCURRENTLY)
queues no reader behind it. The last test is the control: `CREATE TABLE ... PARTITION OF` takes ACCESS
EXCLUSIVE, waits for the open reader, and the next reader queues behind it, as this probe then sees.
"""

import subprocess
import threading
import time

import psycopg2
import psycopg2.errors

from alpha_migrate.paths import PROJECT_DIR
from tests.conftest import INVOKE, query

READER_SECONDS = 1.0  # the most a reader's query may take while a partition is created
RECENT = "select count(*) from daily_prices where date between '2026-10-01' and '2026-11-24'"


def partition_names(target) -> set[str]:
    return {
        name
        for (name,) in query(
            target,
            """select child.relname from pg_inherits inner join pg_class as child on child.oid = pg_inherits.inhrelid
               where pg_inherits.inhparent = 'public.daily_prices'::regclass""",
        )
    }


def lock_waits(target) -> list[tuple]:
    """Every lock some session of the database waits for: (pid, mode, relation, application, query)."""
    return query(
        target,
        """select l.pid, l.mode, l.relation::regclass::text, a.application_name, a.query
           from pg_locks as l inner join pg_stat_activity as a on a.pid = l.pid
           where not l.granted and a.datname = current_database()""",
    )


def timed_query(target, sql: str) -> float:
    """Seconds a new session's query takes."""
    con = psycopg2.connect(target.libpq(), application_name="reader-2")
    try:
        with con.cursor() as cur:
            started = time.monotonic()
            cur.execute(sql)
            cur.fetchall()
            return time.monotonic() - started
    finally:
        con.close()


def open_reader(target):
    """A reader in the middle of a REPEATABLE READ transaction that has read every partition: it holds
    ACCESS SHARE on daily_prices and on each of them until it ends."""
    reader = psycopg2.connect(target.libpq(), application_name="reader-1")
    reader.set_session(isolation_level="REPEATABLE READ")
    with reader.cursor() as cur:
        cur.execute("select count(*) from daily_prices")
        return reader, cur.fetchone()[0]


def start_partitions(target, ahead: int) -> subprocess.Popen:
    return subprocess.Popen(
        [INVOKE, "partitions", "--dsn", target.uri(), "--ahead", str(ahead)],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_partitions_are_created_while_a_reader_holds_its_transaction_open(migrated_db):
    this_year_and_next = partition_names(migrated_db)
    reader, rows = open_reader(migrated_db)
    try:
        started = time.monotonic()
        process = start_partitions(migrated_db, ahead=3)
        waits = set()
        # Sampled throughout: an attach waiting for the reader would show here (and never finish).
        while process.poll() is None and time.monotonic() - started < 60:
            waits |= set(lock_waits(migrated_db))
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        if process.poll() is None:
            process.kill()
        output = process.communicate()[0]
        assert waits == set(), waits
        assert process.returncode == 0, output
        created = partition_names(migrated_db) - this_year_and_next
        assert len(created) == 2, created  # two more years ahead
        # The reader's transaction is still the one it opened, and still reads its snapshot.
        with reader.cursor() as cur:
            cur.execute("select count(*) from daily_prices")
            assert cur.fetchone()[0] == rows
        print(f"invoke partitions --ahead 3 with a reader's transaction open: {elapsed:.1f} s, no lock wait")
    finally:
        reader.rollback()
        reader.close()


def test_an_attach_that_waits_queues_no_reader_and_no_writer(migrated_db):
    reader, rows = open_reader(migrated_db)
    # Another holder of SHARE UPDATE EXCLUSIVE (as a manual VACUUM or ANALYZE of the table would be): the
    # attach must wait for it, which shows what it asks for, and meanwhile what it lets by.
    holder = psycopg2.connect(migrated_db.libpq(), application_name="holder")
    process = None
    try:
        with holder.cursor() as cur:
            cur.execute("lock table daily_prices in share update exclusive mode")
        process = start_partitions(migrated_db, ahead=5)
        deadline = time.monotonic() + 120
        while not (waits := lock_waits(migrated_db)):
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the attach never waited"
            time.sleep(0.02)
        assert [(mode, relation) for _, mode, relation, _, sql in waits] == [
            ("ShareUpdateExclusiveLock", "daily_prices")
        ], waits
        assert "attach partition" in waits[0][4]

        second_reader = timed_query(migrated_db, RECENT)
        with reader.cursor() as cur:
            started = time.monotonic()
            cur.execute(RECENT)
            first_reader = time.monotonic() - started
        # The Bot's writes take ROW EXCLUSIVE, which SHARE UPDATE EXCLUSIVE lets by too.
        bot = psycopg2.connect(migrated_db.libpq(), application_name="bot")
        with bot, bot.cursor() as cur:
            started = time.monotonic()
            cur.execute("update daily_prices set volume = volume where ticker = 'XLK' and date = '2026-11-24'")
            writer = time.monotonic() - started
        bot.close()
        assert lock_waits(migrated_db) != [], "the attach stopped waiting before the readers were measured"

        holder.rollback()
        output = process.communicate(timeout=120)[0]
        assert process.returncode == 0, output
        assert {f"daily_prices_{year}" for year in (2030, 2031)} <= partition_names(migrated_db)
        with reader.cursor() as cur:
            cur.execute("select count(*) from daily_prices")
            assert cur.fetchone()[0] == rows
        print(
            f"while the attach waited: a new reader {second_reader * 1000:.0f} ms, the open reader "
            f"{first_reader * 1000:.0f} ms, a Bot's update {writer * 1000:.0f} ms"
        )
        assert max(second_reader, first_reader, writer) < READER_SECONDS
    finally:
        holder.rollback()
        holder.close()
        reader.rollback()
        reader.close()
        if process and process.poll() is None:
            process.kill()
            process.wait()


def test_control_create_table_partition_of_waits_for_the_reader_and_queues_the_next(migrated_db):
    """What the probes above would see if the macro created partitions with PARTITION OF."""
    reader, _ = open_reader(migrated_db)
    ddl = psycopg2.connect(migrated_db.libpq(), application_name="partition-of")
    outcome = []

    def create() -> None:
        try:
            with ddl, ddl.cursor() as cur:
                cur.execute("set local lock_timeout = '3s'")
                cur.execute(
                    "create table daily_prices_2040 partition of daily_prices "
                    "for values from ('2040-01-01') to ('2041-01-01')"
                )
            outcome.append("created")
        except psycopg2.errors.LockNotAvailable:
            outcome.append("lock timeout")

    thread = threading.Thread(target=create)
    try:
        thread.start()
        deadline = time.monotonic() + 10
        while not (waits := lock_waits(migrated_db)):
            assert time.monotonic() < deadline, "PARTITION OF never waited"
            time.sleep(0.02)
        assert [(mode, relation) for _, mode, relation, _, _ in waits] == [("AccessExclusiveLock", "daily_prices")]
        second_reader = timed_query(migrated_db, RECENT)
        thread.join(timeout=30)
        print(f"behind a waiting PARTITION OF, a new reader took {second_reader:.1f} s")
        assert outcome == ["lock timeout"]
        assert second_reader >= READER_SECONDS
    finally:
        reader.rollback()
        reader.close()
        thread.join(timeout=30)
        ddl.close()
