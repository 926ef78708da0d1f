"""File-level problems: one line on stderr naming the problem and what to do, a non-zero exit, no traceback,
and the target exactly as it was (catalog, row counts, contents)."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import pytest

from alpha_migrate.dsn import Target
from alpha_migrate.paths import PROJECT_DIR
from tests.conftest import (
    INVOKE,
    copy_with_a_changed_day,
    create_database,
    digests,
    drop_database,
    execute,
    invoke,
    password_required,
    query,
)
from tests.strange_sources import WRITERS_COLLATION, write_writers_own_collation

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/none"


def target_state(target):
    """Every relation in the target's schemas, and the row count and digest of each table."""
    relations = query(
        target,
        """select n.nspname, c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname in ('public', 'staging', 'reference') order by 1, 2""",
    )
    contents = [
        query(target, f'select count(*), sum(hashtextextended(t::text, 0)) from "{schema}"."{name}" t')
        for schema, name, kind in relations
        if kind in ("r", "p")
    ]
    return relations, contents


@pytest.fixture(scope="module")
def migrated(migrated_module_db):
    return migrated_module_db


def assert_one_line_error(result, *fragments):
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def migrate_fails(target, source, *fragments, dsn=None):
    before = target_state(target)
    result = invoke("migrate", "--sqlite", str(source), "--dsn", dsn or target.uri())
    assert_one_line_error(result, *fragments)
    assert target_state(target) == before
    return result


def test_missing_source_says_how_to_create_the_demo(migrated, tmp_path):
    migrate_fails(migrated, tmp_path / "nowhere.db", "nowhere.db not found", "invoke demo-db")


def test_debug_shows_the_traceback(migrated, tmp_path):
    result = invoke("migrate", "--sqlite", str(tmp_path / "nowhere.db"), "--dsn", migrated.uri(), "--debug")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "MigrationError" in result.stderr


def test_a_file_that_is_not_sqlite(migrated, tmp_path):
    bogus = tmp_path / "sector_etfs.db"
    bogus.write_text("Date,Close\n2024-01-02,1\n" * 100)
    migrate_fails(migrated, bogus, "is not a readable SQLite database")


def test_a_truncated_sqlite_file(migrated, demo_sqlite, tmp_path):
    truncated = tmp_path / "truncated.db"
    data = demo_sqlite.read_bytes()
    truncated.write_bytes(data[: len(data) * 6 // 10])
    migrate_fails(migrated, truncated, "is not a readable SQLite database", "malformed")


def test_a_sqlite_file_with_a_corrupt_header(migrated, demo_sqlite, tmp_path):
    corrupt = tmp_path / "corrupt.db"
    data = bytearray(demo_sqlite.read_bytes())
    data[:16] = b"not sqlite at all"[:16]
    corrupt.write_bytes(bytes(data))
    migrate_fails(migrated, corrupt, "is not a readable SQLite database")


def test_views_over_indexes_in_the_writers_own_collation_say_what_to_drop(migrated, tmp_path):
    """Counting a view's rows goes through its tables' indexes, which need the writing application's own
    collation: the run cannot read them, and says which collation and what a copy must drop."""
    source = tmp_path / "sector_etfs.db"
    write_writers_own_collation(source, under_views=True)
    migrate_fails(
        migrated,
        source,
        f"needs the collation {WRITERS_COLLATION}",
        f"a copy in which the views and indexes that use {WRITERS_COLLATION} are dropped",
    )


def test_a_database_without_the_portfolio_table(migrated, tmp_path):
    path = tmp_path / "prices_only.db"
    con = sqlite3.connect(path)
    con.execute("create table daily_prices (ticker text, date text, raw_close real, adj_close real, volume integer)")
    con.commit()
    con.close()
    migrate_fails(migrated, path, "has no table portfolio_v1_performance")


def test_a_table_missing_a_required_column(migrated, tmp_path):
    path = tmp_path / "no_volume.db"
    con = sqlite3.connect(path)
    con.executescript(
        """create table daily_prices (ticker text, date text, raw_close real, adj_close real);
           create table portfolio_v1_performance (date text, total_portfolio_value real,
                                                  daily_return_vs_spy real, cumulative_alpha real);"""
    )
    con.close()
    migrate_fails(migrated, path, "table daily_prices lacks column(s) volume")


def test_a_target_table_not_partitioned_as_the_plan_says_is_named_and_kept(fresh_db, demo_sqlite):
    """A daily_prices made by hand, unpartitioned: the one line says which model failed and PostgreSQL's
    reason, not only "see its output above", and the table keeps its rows."""
    execute(
        fresh_db,
        """create table daily_prices (ticker varchar(10) not null, date date not null, raw_close numeric(10, 4),
               adj_close numeric(10, 4), volume bigint, primary key (ticker, date));
           insert into daily_prices values ('XLK', '2020-01-02', 1, 1, 1)""",
    )
    result = invoke("migrate", "--sqlite", str(demo_sqlite), "--dsn", fresh_db.uri())
    assert_one_line_error(
        result, "dbt build failed: Database Error in model daily_prices", 'table "daily_prices" is not partitioned'
    )
    assert query(fresh_db, "select ticker, date::text, volume from daily_prices") == [("XLK", "2020-01-02", 1)]


def test_a_target_database_not_in_utf8_is_refused_before_any_write(admin_target, demo_sqlite):
    """In a LATIN1 database the file's UTF-8 text was stored as mojibake, which the reconciliation, reading
    the same bytes back, could not see."""
    target = create_database(admin_target, options="encoding 'LATIN1' locale 'C' template template0")
    try:
        migrate_fails(target, demo_sqlite, "the target database's encoding is LATIN1, not UTF8", "ENCODING 'UTF8'")
        assert query(target, "select count(*) from pg_namespace where nspname in ('staging', 'reference')") == [(0,)]
    finally:
        drop_database(admin_target, target)


def test_unreachable_server_never_shows_the_password(demo_sqlite, tmp_path):
    report = tmp_path / "report.json"
    result = invoke(
        "migrate",
        "--sqlite",
        str(demo_sqlite),
        "--dsn",
        "postgresql://alpha:hunter2-secret@127.0.0.1:9/prices?connect_timeout=3",
        "--report",
        str(report),
    )
    assert_one_line_error(result, "cannot connect to PostgreSQL at postgresql://alpha:***@127.0.0.1:9/prices")
    assert "hunter2" not in result.stdout + result.stderr + report.read_text()
    assert json.loads(report.read_text())["status"] == "failed"


@pytest.fixture(scope="module")
def password_role(migrated):
    """A role that must give its password, on a server that otherwise trusts local connections."""
    con = psycopg2.connect(migrated.libpq())
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("create role alpha_pw login password 'right-password'")
    with password_required(migrated, "alpha_pw"):
        yield Target({**migrated.params, "user": "alpha_pw"})
    with con.cursor() as cur:
        cur.execute("drop role alpha_pw")
    con.close()


def test_wrong_password(migrated, password_role, demo_sqlite):
    wrong = Target({**password_role.params, "password": "wrong-password"})
    result = migrate_fails(migrated, demo_sqlite, "password authentication failed", dsn=wrong.uri(show_password=True))
    assert "wrong-password" not in result.stdout + result.stderr


@pytest.fixture(scope="module")
def postgres15():
    """Debian's PostgreSQL 15, which this machine image carries, on a socket in a scratch folder."""
    if not (PG15_BIN / "pg_ctl").exists():
        pytest.skip("PostgreSQL 15 binaries are not installed (Debian package postgresql-15)")
    folder = Path(tempfile.mkdtemp(prefix="alpha-pg15-"))
    shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"

    def as_postgres(*command):
        # No pipes: the server started by pg_ctl would hold them open, and we would wait forever.
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    as_postgres(str(PG15_BIN / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres")
    options = f"-k {folder} -h '' -p 5415"
    as_postgres(str(PG15_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
    yield Target({"host": str(folder), "port": "5415", "user": "postgres", "dbname": "postgres"})
    as_postgres(str(PG15_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
    shutil.rmtree(folder, ignore_errors=True)


def test_a_postgresql_older_than_16(postgres15, demo_sqlite):
    assert query(postgres15, "show server_version")[0][0].startswith("15.")
    migrate_fails(postgres15, demo_sqlite, "PostgreSQL 15", "is too old", "PostgreSQL 16 or newer")


def test_a_source_being_written_migrates_from_a_consistent_snapshot(fresh_db, demo_sqlite, tmp_path):
    live = tmp_path / "live.db"
    shutil.copyfile(demo_sqlite, live)
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("pragma journal_mode=wal")
    writer.execute("create table trades (id integer)")
    writer.execute("alter table daily_prices add column source text")
    committed = writer.execute("select count(*) from daily_prices").fetchone()[0]
    writer.execute("begin immediate")
    writer.execute("insert into daily_prices values ('XLK', '2030-01-02', 1, 1, 1, 'bot')")
    try:
        report = tmp_path / "report.json"
        result = invoke("migrate", "--sqlite", str(live), "--dsn", fresh_db.uri(), "--report", str(report))
    finally:
        writer.execute("rollback")
        writer.close()
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(report.read_text())
    assert summary["source"]["daily_prices"] == committed == summary["loaded"]["daily_prices"]
    assert sorted(summary["warnings"]) == [
        "ignored extra column(s) in daily_prices: source",
        "ignored extra table(s): trades",
    ]
    assert "warning: ignored extra table(s): trades" in result.stdout


def test_dsn_from_the_environment(fresh_db, demo_sqlite, tmp_path):
    report = tmp_path / "env.json"
    env = {"ALPHA_PG_DSN": fresh_db.uri()}
    result = invoke("migrate", "--sqlite", str(demo_sqlite), "--report", str(report), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(report.read_text())
    assert summary["target"] == fresh_db.masked and summary["embedded"] is False
    assert query(fresh_db, "select count(*) from daily_prices") == [(summary["source"]["daily_prices"],)]


@pytest.mark.parametrize("dsn_form", ["uri", "key_value"])
def test_both_connection_string_forms(fresh_db, demo_sqlite, dsn_form):
    dsn = fresh_db.uri() if dsn_form == "uri" else fresh_db.libpq()
    result = invoke("migrate", "--sqlite", str(demo_sqlite), "--dsn", dsn)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("command", "line"),
    [
        (["migrate", "--max-rejects", "many"], "error: --max-rejects takes a whole number of at least 0, not 'many'"),
        (["migrate", "--max-rejects", "-1"], "error: --max-rejects takes a whole number of at least 0, not '-1'"),
        (["partitions", "--ahead", "2.5"], "error: --ahead takes a whole number of at least 0, not '2.5'"),
        (["rejects", "--limit", "0"], "error: --limit takes a whole number of at least 1, not '0'"),
        (["bench", "--sizes", "1000,lots"], "error: --sizes takes a whole number of at least 1, not 'lots'"),
        (["bench", "--repeats", "0"], "error: --repeats takes a whole number of at least 1, not '0'"),
        (["demo-db", "--end", "2024-13-01"], "error: --end takes a date as YYYY-MM-DD, not '2024-13-01'"),
    ],
    ids=["max_rejects_word", "max_rejects_negative", "ahead", "limit", "sizes", "repeats", "end"],
)
def test_a_bad_option_value_is_one_line_before_any_work(command, line, tmp_path):
    """Refused before any work: nothing connects (the --dsn is unreachable), nothing is written."""
    where = ["--out", str(tmp_path / "demo.db")] if command[0] == "demo-db" else ["--dsn", UNREACHABLE]
    result = invoke(*command, *where)
    assert (result.returncode, result.stderr.strip()) == (1, line), result.stdout + result.stderr
    assert not list(tmp_path.iterdir())


def interrupt_when(target: Target, source: Path, report: Path, line_starts: str) -> tuple[int, str]:
    """Run `invoke migrate` and press Ctrl-C (SIGINT) once it prints a line starting with `line_starts`."""
    process = subprocess.Popen(
        [INVOKE, "migrate", "--sqlite", str(source), "--dsn", target.uri(), "--report", str(report)],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for output in process.stdout:
        if output.startswith(line_starts):
            process.send_signal(signal.SIGINT)
            break
    _, stderr = process.communicate(timeout=300)
    return process.returncode, stderr.strip().splitlines()[-1]


def test_ctrl_c_says_whether_the_run_had_published(migrated_db, demo_sqlite, tmp_path):
    source = copy_with_a_changed_day(demo_sqlite, tmp_path / "next-day.db")
    before = digests(migrated_db)
    assert interrupt_when(migrated_db, source, tmp_path / "a.json", "[4/8]") == (
        130,
        "error: interrupted before the publish: the target tables are unchanged",
    )
    assert digests(migrated_db) == before
    assert json.loads((tmp_path / "a.json").read_text())["status"] == "failed"
    assert interrupt_when(migrated_db, source, tmp_path / "b.json", "[8/8]") == (
        130,
        "error: interrupted after the publish: the target tables hold this run's rows; its checks did not finish",
    )
    assert digests(migrated_db)[0] != before[0] and digests(migrated_db)[1] == before[1]


def test_ctrl_c_a_library_turns_into_its_own_error_is_still_an_interruption(fresh_db, demo_sqlite, monkeypatch):
    """DuckDB, loading an extension when Ctrl-C comes, raises `RuntimeError: Query interrupted` instead of
    KeyboardInterrupt: the run still says it was interrupted, and whether it had published."""

    def parity_pressed(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            raise RuntimeError("Query interrupted") from None

    monkeypatch.setattr("alpha_migrate.migrate.verify", parity_pressed)
    result = invoke("migrate", "--sqlite", str(demo_sqlite), "--dsn", fresh_db.uri())
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: interrupted after the publish: the target tables hold this run's rows; its checks did not finish"
    ]
