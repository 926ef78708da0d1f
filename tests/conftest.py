"""Shared fixtures: a real PostgreSQL 16, real SQLite sources, and `invoke` run as a user runs it.

The server is the embedded PostgreSQL 16 in a scratch folder, or the one named by ALPHA_TEST_ADMIN_DSN
(a role that may create databases). Every test module works in a database of its own; a test that needs
the demo already migrated gets a copy of one migrated once per session (CREATE DATABASE ... TEMPLATE).
Under pytest-xdist each worker has its own servers and template.
"""

import datetime as dt
import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path

import psycopg2
import pytest

from alpha_migrate import embedded
from alpha_migrate.dbt_worker import KEEP_VARIABLE
from alpha_migrate.dsn import Target
from alpha_migrate.paths import PROJECT_DIR
from alpha_migrate.rounding import within_rounding
from scripts.csv_db import write_csv_database
from scripts.demo_db import write_demo_database

# daily_prices' columns and types, as the report's checksums hash them (alpha_migrate/target_db.py).
PRICE_COLUMNS = [
    ("ticker", "character varying"),
    ("date", "date"),
    ("raw_close", "numeric"),
    ("adj_close", "numeric"),
    ("volume", "bigint"),
]

INVOKE = str(Path(sys.executable).with_name("invoke"))
# The runs of a module in this process share one dbt process, its import and parse (3 s a run).
os.environ[KEEP_VARIABLE] = "1"
REAL_CSV_DIR = PROJECT_DIR / "tests" / "data" / "etf_prices"
DEMO_END = "2026-11-24"


@pytest.fixture(scope="session")
def admin_target(tmp_path_factory) -> Target:
    dsn = os.environ.get("ALPHA_TEST_ADMIN_DSN")
    if dsn:
        yield Target.parse(dsn)
        return
    pgdata = tmp_path_factory.mktemp("pg") / "pgdata"
    with one_worker_at_a_time():
        target = embedded.start(pgdata, database="postgres")
    yield target
    embedded.stop(pgdata)


@pytest.fixture(scope="session")
def admin_target_18(tmp_path_factory) -> Target:
    """The embedded package's PostgreSQL 18, which the real team later ran (ALPHA_TEST_ADMIN_DSN_18 for
    another)."""
    dsn = os.environ.get("ALPHA_TEST_ADMIN_DSN_18")
    if dsn:
        yield Target.parse(dsn)
        return
    pgdata = tmp_path_factory.mktemp("pg18") / "pgdata"
    with one_worker_at_a_time():
        target = embedded.start(pgdata, database="postgres", version=18)
    yield target
    embedded.stop(pgdata)


@contextmanager
def one_worker_at_a_time() -> Iterator[None]:
    """The first start on a fresh machine creates the embedded server's system user: two xdist workers
    doing it at once would collide."""
    with open(Path(tempfile.gettempdir()) / "alpha-tests-embedded.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def create_database(
    admin: Target, template: Target | None = None, name: str | None = None, options: str = ""
) -> Target:
    """A new database, empty or holding what `template` holds (a file copy, far quicker than migrating
    again), with CREATE DATABASE's further `options`. A `name` is dropped first if it exists."""
    name = name or f"alpha_test_{uuid.uuid4().hex[:10]}"
    clauses = f' template "{template.params["dbname"]}"' if template else ""
    clauses += f" {options}" if options else ""
    con = psycopg2.connect(admin.libpq())
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"{clauses}')
    con.close()
    return Target({**admin.params, "dbname": name})


def drop_database(admin: Target, target: Target) -> None:
    con = psycopg2.connect(admin.libpq())
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'drop database if exists "{target.params["dbname"]}" with (force)')
    con.close()


def reused_name(fixture: str) -> str:
    """One name per fixture and worker, for a database created new for each test: dbt's parse of the
    project depends on the database's name, so an in-process run reuses one parse for every test."""
    return f"alpha_{fixture}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


@pytest.fixture(scope="module")
def module_db(admin_target):
    target = create_database(admin_target, name=reused_name("module"))
    yield target
    drop_database(admin_target, target)


@pytest.fixture
def fresh_db(admin_target):
    target = create_database(admin_target, name=reused_name("fresh"))
    yield target
    drop_database(admin_target, target)


@pytest.fixture(scope="session")
def demo_template(admin_target, demo_sqlite, tmp_path_factory) -> Iterator[tuple[Target, tuple]]:
    """The demo migrated once per session, and that run's output and summary. Nobody writes to it:
    tests take copies (`migrated_db`, `migrated_module_db`)."""
    target = create_database(admin_target)
    run = migrate_ok(demo_sqlite, target, tmp_path_factory.mktemp("template") / "report.json")
    yield target, run
    drop_database(admin_target, target)


@pytest.fixture
def migrated_db(admin_target, demo_template) -> Iterator[Target]:
    """A database holding the migrated demo, this test's own."""
    target = create_database(admin_target, template=demo_template[0], name=reused_name("migrated"))
    yield target
    drop_database(admin_target, target)


@pytest.fixture(scope="module")
def migrated_module_db(admin_target, demo_template) -> Iterator[Target]:
    """A database holding the migrated demo, shared by one module's tests."""
    target = create_database(admin_target, template=demo_template[0], name=reused_name("migrated_module"))
    yield target
    drop_database(admin_target, target)


@pytest.fixture(scope="session")
def demo_sqlite(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "sector_etfs.db"
    write_demo_database(path, end=dt.date.fromisoformat(DEMO_END))
    return path


@pytest.fixture(scope="session")
def real_sqlite(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("real") / "sector_etfs.db"
    write_csv_database(REAL_CSV_DIR, path)
    return path


def invoke(*args: str, env: dict | None = None, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess:
    """Run `invoke ARGS` the way an operator does; output captured as text.

    In this process, through invoke's own parser and the project's tasks, so a module's runs share dbt's
    import (3 s a command); in a process of its own when run with another environment or folder. Tests
    that kill, interrupt or time a command, or run two at once, start it with subprocess themselves."""
    if env or cwd != PROJECT_DIR:
        return subprocess.run(
            [INVOKE, *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=900,
        )
    return _invoke_here(list(args))


def _invoke_here(args: list[str]) -> subprocess.CompletedProcess:
    import traceback

    from invoke import Program

    from tasks import namespace

    out, err, code = StringIO(), StringIO(), 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            Program(namespace=namespace, binary="invoke").run(["invoke", *args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:  # noqa: BLE001 - shown as a command line shows it: a traceback, which tests look for
            traceback.print_exc()
            code = 1
    return subprocess.CompletedProcess([INVOKE, *args], code, out.getvalue(), err.getvalue())


def migrate_ok(source: Path, target: Target, report: Path, *options: str) -> tuple[subprocess.CompletedProcess, dict]:
    """`invoke migrate` that must succeed; returns its output and its JSON summary."""
    result = invoke("migrate", "--sqlite", str(source), "--dsn", target.uri(), "--report", str(report), *options)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, json.loads(report.read_text())


def query(target: Target, sql: str, params=None) -> list[tuple]:
    con = psycopg2.connect(target.libpq())
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


def copy_with_a_changed_day(source: Path, copy: Path) -> Path:
    """A copy of a source whose last day's volumes are one higher: a sync of it has rows to publish."""
    shutil.copyfile(source, copy)
    con = sqlite3.connect(copy)
    with con:
        con.execute("update daily_prices set volume = volume + 1 where date = (select max(date) from daily_prices)")
    con.close()
    return copy


def copy_with_a_new_day(source: Path, copy: Path, day: str) -> Path:
    """A copy of a source with every ticker's last price again on `day`: rows appended at the end, so a
    sync of the copy reclassifies only the last block of rowids."""
    shutil.copyfile(source, copy)
    con = sqlite3.connect(copy)
    with con:
        con.execute(
            """insert into daily_prices select ticker, ?, raw_close, adj_close, volume from daily_prices
               where date = (select max(date) from daily_prices)""",
            (day,),
        )
    con.close()
    return copy


def analyst_dbt_test(target, profiles_dir, command: str = "test", *options: str, run_id: str | None = None):
    """The analyst path of docs/analyst.md: profiles.example.yml as profiles.yml, connection from ALPHA_PG_*;
    with `run_id`, in that run (ALPHA_RUN_ID), as `invoke migrate`'s own steps are."""
    shutil.copyfile(PROJECT_DIR / "profiles.example.yml", profiles_dir / "profiles.yml")
    run = {} if run_id is None else {"ALPHA_RUN_ID": run_id}
    dbt = str(Path(sys.executable).with_name("dbt"))
    return subprocess.run(
        [dbt, "--no-use-colors", command, *options, "--profiles-dir", str(profiles_dir)],
        cwd=PROJECT_DIR,
        env={**os.environ, **target.dbt_env(), **run},
        capture_output=True,
        text=True,
        timeout=600,
    )


def dbt_test_after_the_sync(
    target, profiles_dir: Path, run_id: str, *tests: str, dbt_vars: str = "{}"
) -> subprocess.CompletedProcess:
    """`dbt test` of `tests` as an analyst runs it, in the sync's run."""
    return analyst_dbt_test(target, profiles_dir, "test", "--vars", dbt_vars, "--select", *tests, run_id=run_id)


def execute(target: Target, sql: str, params=None) -> None:
    """A statement committed at once, as another client of the database would."""
    con = psycopg2.connect(target.libpq())
    try:
        with con, con.cursor() as cur:
            cur.execute(sql, params)
    finally:
        con.close()


def assert_prices_match_the_file(source: Path, target: Target) -> None:
    """Every target price row is a row of the SQLite file (keys as stored), within four-decimal rounding; its
    values as SQLite itself reads them as numbers (a number stored as text, in a column of no numeric type)."""
    read = "select ticker, date, cast(raw_close as real), cast(adj_close as real), cast(volume as integer)"
    stored = {
        (t, d): (raw, adj, volume)
        for t, d, raw, adj, volume in sqlite3.connect(source).execute(f"{read} from daily_prices")
    }
    loaded = query(target, "select ticker, date::text, raw_close, adj_close, volume from daily_prices")
    assert len(loaded) == len(stored)
    for ticker, date, raw, adj, volume in loaded:
        source_raw, source_adj, source_volume = stored[(ticker, date)]
        assert within_rounding(raw, source_raw, 4) and within_rounding(adj, source_adj, 4), (ticker, date)
        assert volume == source_volume
        assert raw.as_tuple().exponent == -4


def digests(target: Target, tables=("daily_prices", "portfolio_v1_performance")) -> list[list[tuple]]:
    """Per table, its row count and an order-independent sum of its rows' hashes."""
    return [query(target, f"select count(*), sum(hashtextextended(t::text, 0)) from {table} t") for table in tables]


@contextmanager
def statements_logged(admin: Target) -> Iterator[Path]:
    """While open, the server logs every statement (log_statement = all, as production servers log DDL);
    yields its log file."""
    con = psycopg2.connect(admin.libpq())
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("show data_directory")
        log = Path(cur.fetchone()[0]) / "log"
        cur.execute("alter system set log_statement = 'all'")
        cur.execute("select pg_reload_conf()")
    try:
        yield log
    finally:
        with con.cursor() as cur:
            cur.execute("alter system reset log_statement")
            cur.execute("select pg_reload_conf()")
        con.close()


@contextmanager
def password_required(admin: Target, role: str) -> Iterator[Path]:
    """While open, `role` must give its password on a server that otherwise trusts local sockets;
    yields the server's data folder (where its log is)."""
    con = psycopg2.connect(admin.libpq())
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("show hba_file")
        hba = Path(cur.fetchone()[0])
        original = hba.read_text()
        hba.write_text(f"local all {role} scram-sha-256\n" + original)
        cur.execute("select pg_reload_conf()")
    try:
        yield hba.parent
    finally:
        hba.write_text(original)
        with con.cursor() as cur:
            cur.execute("select pg_reload_conf()")
        con.close()
