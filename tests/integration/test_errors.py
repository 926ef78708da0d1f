"""File-level problems end in one line on stderr, a non-zero exit, no traceback, and an untouched target."""

import json
import sqlite3

import pytest

from tests.conftest import invoke, query


def target_state(target):
    return query(
        target,
        "select schemaname, tablename from pg_tables where schemaname in ('public', 'staging') order by 1, 2",
    )


def assert_one_line_error(result, *fragments):
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_source_says_how_to_create_the_demo(fresh_db, tmp_path):
    before = target_state(fresh_db)
    result = invoke("migrate", "--sqlite", str(tmp_path / "nowhere.db"), "--dsn", fresh_db.uri())
    assert_one_line_error(result, "nowhere.db not found", "invoke demo-db")
    assert target_state(fresh_db) == before == []


def test_a_file_that_is_not_sqlite(fresh_db, tmp_path):
    bogus = tmp_path / "sector_etfs.db"
    bogus.write_text("Date,Close\n2024-01-02,1\n" * 100)
    result = invoke("migrate", "--sqlite", str(bogus), "--dsn", fresh_db.uri())
    assert_one_line_error(result, "is not a readable SQLite database")
    assert target_state(fresh_db) == []


def test_a_database_without_the_portfolio_table(fresh_db, tmp_path):
    path = tmp_path / "prices_only.db"
    con = sqlite3.connect(path)
    con.execute("create table daily_prices (ticker text, date text, raw_close real, adj_close real, volume integer)")
    con.commit()
    con.close()
    result = invoke("migrate", "--sqlite", str(path), "--dsn", fresh_db.uri())
    assert_one_line_error(result, "has no table portfolio_v1_performance")
    assert target_state(fresh_db) == []


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


def test_dsn_from_the_environment(fresh_db, demo_sqlite, tmp_path):
    report = tmp_path / "env.json"
    result = invoke(
        "migrate", "--sqlite", str(demo_sqlite), "--report", str(report), env={"ALPHA_PG_DSN": fresh_db.uri()}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(report.read_text())
    assert summary["target"] == fresh_db.masked and summary["embedded"] is False
    assert query(fresh_db, "select count(*) from daily_prices") == [(summary["source"]["daily_prices"],)]


@pytest.mark.parametrize("dsn_form", ["uri", "key_value"])
def test_both_connection_string_forms(fresh_db, demo_sqlite, dsn_form):
    dsn = fresh_db.uri() if dsn_form == "uri" else fresh_db.libpq()
    result = invoke("migrate", "--sqlite", str(demo_sqlite), "--dsn", dsn)
    assert result.returncode == 0, result.stdout + result.stderr
