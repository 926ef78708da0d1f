"""Least-privilege client roles, proven with real connections: the reader cannot write, the Bot cannot drop."""

import psycopg2
import pytest

from alpha_migrate.dsn import Target
from tests.conftest import invoke, migrate_ok, query

BOT_PASSWORD = "bot-secret-7f3a"


@pytest.fixture(scope="module")
def with_roles(module_db, demo_sqlite, tmp_path_factory):
    migrate_ok(demo_sqlite, module_db, tmp_path_factory.mktemp("reports") / "migrate.json")
    result = invoke("roles", "--dsn", module_db.uri(), env={"ALPHA_BOT_PASSWORD": BOT_PASSWORD})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "alpha_reader: no password set",
        "alpha_bot: password from ALPHA_BOT_PASSWORD",
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
