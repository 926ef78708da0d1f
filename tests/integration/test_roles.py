"""Least-privilege client roles, proven with real connections: the reader cannot write, the Bot cannot drop."""

import json
import time

import psycopg2
import pytest

from alpha_migrate.dsn import Target
from alpha_migrate.paths import PROJECT_DIR
from tests.conftest import copy_with_a_new_day, invoke, password_required, query, statements_logged

BOT_PASSWORD = "bot-secret-7f3a"
MIGRATOR_PASSWORD = "migrator-secret-51c9"


@pytest.fixture(scope="module")
def with_roles(migrated_module_db):
    module_db = migrated_module_db
    passwords = {"ALPHA_BOT_PASSWORD": BOT_PASSWORD, "ALPHA_MIGRATOR_PASSWORD": MIGRATOR_PASSWORD}
    with statements_logged(module_db) as server_log:
        logged_before = server_log.stat().st_size
        result = invoke("roles", "--dsn", module_db.uri(), env=passwords)
    assert result.returncode == 0, result.stdout + result.stderr
    # The server logged the ALTER ROLE statements, with the SCRAM hash in place of each password.
    with server_log.open(errors="replace") as handle:
        handle.seek(logged_before)
        logged = handle.read()
    assert 'alter role "alpha_bot" password \'SCRAM-SHA-256$' in logged
    assert BOT_PASSWORD not in logged and MIGRATOR_PASSWORD not in logged
    assert result.stdout.splitlines() == [
        "alpha_reader: no password set",
        "alpha_bot: password from ALPHA_BOT_PASSWORD",
        "alpha_migrator: password from ALPHA_MIGRATOR_PASSWORD",
    ]
    assert BOT_PASSWORD not in result.stdout + result.stderr
    return module_db


def as_role(target: Target, role: str):
    con = psycopg2.connect(Target({**target.params, "user": role}).libpq())
    con.autocommit = True
    return con


def denied(con, statement: str) -> bool:
    with con.cursor() as cur:
        try:
            cur.execute(statement)
        except psycopg2.errors.InsufficientPrivilege:
            return True
    return False


def test_the_bot_password_is_set_from_the_environment(with_roles):
    assert query(with_roles, "select rolpassword is not null from pg_authid where rolname = 'alpha_bot'") == [(True,)]


def test_the_reader_reads_and_cannot_write(with_roles):
    con = as_role(with_roles, "alpha_reader")
    with con.cursor() as cur:
        cur.execute("select count(*) from daily_prices")
        assert cur.fetchone()[0] == 36135
        cur.execute("select count(*) from portfolio_v1_performance")
        assert cur.fetchone()[0] == 3103
    assert denied(con, "insert into daily_prices values ('XLK', current_date, 1, 1, 1)")
    assert denied(con, "update portfolio_v1_performance set cumulative_alpha = 0")
    assert denied(con, "delete from daily_prices")
    con.close()


def test_the_bot_writes_prices_and_cannot_delete_truncate_or_drop(with_roles):
    con = as_role(with_roles, "alpha_bot")
    with con.cursor() as cur:
        cur.execute(
            """insert into daily_prices values ('XLK', current_date, 200.1234, 199.5, 1000)
               on conflict (ticker, date) do update set raw_close = excluded.raw_close"""
        )
        cur.execute("update daily_prices set volume = 1001 where ticker = 'XLK' and date = current_date")
        assert cur.rowcount == 1
    assert denied(con, "delete from daily_prices where ticker = 'XLK' and date = current_date")
    assert denied(con, "truncate daily_prices")
    with con.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("drop table daily_prices")
    con.close()
    owner = psycopg2.connect(with_roles.libpq())
    with owner, owner.cursor() as cur:
        cur.execute("delete from daily_prices where ticker = 'XLK' and date = current_date")
    owner.close()


@pytest.fixture
def migrator_needs_its_password(with_roles):
    """On a server that otherwise trusts local sockets, alpha_migrator must give its password."""
    with password_required(with_roles, "alpha_migrator") as pgdata:
        yield Target({**with_roles.params, "user": "alpha_migrator", "password": MIGRATOR_PASSWORD}), pgdata


def test_the_migration_owner_syncs_and_no_output_log_or_report_holds_a_password(
    with_roles, migrator_needs_its_password, demo_sqlite, tmp_path
):
    """Every command, with passwords set, on a server logging every statement: no password in the
    server's log, any output, report, run log, dbt artefact or exported file."""
    migrator, pgdata = migrator_needs_its_password
    started = time.time()
    assert query(migrator, "select rolsuper, rolcreaterole from pg_roles where rolname = current_user") == [
        (False, False)
    ]
    source = copy_with_a_new_day(demo_sqlite, tmp_path / "next-day.db", "2026-11-25")
    # The password never on a command line: dbt's variable for some commands, libpq's for the others.
    dsn = Target({k: v for k, v in migrator.params.items() if k != "password"}).uri()
    dbt_password, libpq_password = {"ALPHA_PG_PASSWORD": MIGRATOR_PASSWORD}, {"PGPASSWORD": MIGRATOR_PASSWORD}
    report = tmp_path / "sync.json"
    with statements_logged(with_roles):
        outputs = [
            invoke("migrate", "--sqlite", str(source), "--dsn", dsn, "--report", str(report), env=dbt_password),
            invoke(
                "verify",
                "--sqlite",
                str(source),
                "--dsn",
                dsn,
                "--reports-dir",
                str(tmp_path / "verify"),
                env=libpq_password,
            ),
            invoke("partitions", "--dsn", dsn, env=dbt_password),
            invoke("rejects", "--dsn", dsn, env=libpq_password),
            invoke("rejects", "--prune", "--dsn", dsn, env=dbt_password),
            invoke("export", "--dsn", dsn, "--sqlite", str(tmp_path / "back.db"), env=libpq_password),
            invoke("docs", "--dsn", dsn, env=dbt_password),
        ]
    for result in outputs:
        assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(report.read_text())["sync"]["daily_prices"]["inserted"] == 12

    written = [report, *(tmp_path / "verify").iterdir(), tmp_path / "back.db", pgdata / "log"]
    for folder in ("reports", "logs", "target", ".alpha/dbt"):
        written += [p for p in (PROJECT_DIR / folder).rglob("*") if p.is_file() and p.stat().st_mtime >= started]
    texts = [r.stdout + r.stderr for r in outputs] + [p.read_text(errors="replace") for p in written]
    assert len(written) > 10
    for secret in (MIGRATOR_PASSWORD, BOT_PASSWORD):
        assert not [p for p, text in zip(["output"] * len(outputs) + written, texts, strict=False) if secret in text]
