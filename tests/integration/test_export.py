"""`invoke export`: the way back from PostgreSQL to a SQLite file of the plan's section 2 schema, with the
rows only PostgreSQL holds (written by the Bot after the cut-over), proven by migrating the export again."""

import sqlite3
from decimal import Decimal

import pytest

from alpha_migrate import export as export_module
from alpha_migrate.errors import MigrationError
from alpha_migrate.export import export
from scripts.sqlite_schema import SQLITE_DDL
from tests.conftest import DEMO_END, digests, execute, invoke, migrate_ok, query

BOT_DAY = "2026-11-25"  # the day after the demo's last: only PostgreSQL holds it
BOT_PRICES = [
    ("SPY", BOT_DAY, Decimal("612.3456"), Decimal("612.3456"), 71_234_567),
    ("XLK", BOT_DAY, Decimal("250.0001"), Decimal("249.9999"), 8_123_456),
]
BOT_RETURN = Decimal("0.001234")
CORRECTED_VOLUME = 123_456_789  # the Bot's correction of SPY's last demo day, in PostgreSQL only
LATE_DAY = "2026-11-26"  # written while an export runs: not in its snapshot
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/none"
TABLES = ("daily_prices", "portfolio_v1_performance")
# Section 2 of the plan, column by column as `pragma table_info` gives it: name, type, not null, default,
# position in the primary key.
PLAN_COLUMNS = {
    "daily_prices": [
        ("ticker", "TEXT", 1, None, 1),
        ("date", "TEXT", 1, None, 2),
        ("raw_close", "REAL", 0, None, 0),
        ("adj_close", "REAL", 0, None, 0),
        ("volume", "INTEGER", 0, None, 0),
    ],
    "portfolio_v1_performance": [
        ("date", "TEXT", 0, None, 1),
        ("total_portfolio_value", "REAL", 0, None, 0),
        ("daily_return_vs_spy", "REAL", 0, None, 0),
        ("cumulative_alpha", "REAL", 0, None, 0),
    ],
}


@pytest.fixture(scope="module")
def source(migrated_module_db):
    """The demo migrated, then the Bot's writes after the cut-over: a new day, a correction, a portfolio row."""
    module_db = migrated_module_db
    for row in BOT_PRICES:
        execute(module_db, "insert into daily_prices values (%s, %s, %s, %s, %s)", row)
    correction = "update daily_prices set volume = %s where ticker = 'SPY' and date = %s"
    execute(module_db, correction, (CORRECTED_VOLUME, DEMO_END))
    execute(
        module_db,
        """insert into portfolio_v1_performance
           select %s, round(total_portfolio_value * (1 + %s), 2), %s, cumulative_alpha + %s
           from portfolio_v1_performance where date = %s""",
        (BOT_DAY, BOT_RETURN, BOT_RETURN, BOT_RETURN, DEMO_END),
    )
    return module_db


@pytest.fixture(scope="module")
def exported(source, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "sector_etfs.db"
    result = invoke("export", "--dsn", source.uri(), "--sqlite", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result


def rows_of(path, sql):
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def assert_one_line_error(result, *fragments):
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_one_line_per_table_with_its_rows_and_nothing_else_left_beside_the_file(exported, source):
    out, result = exported
    for table in TABLES:
        (rows,) = query(source, f"select count(*) from {table}")[0]
        assert f"  {table}: {rows:,} rows" in result.stdout.splitlines()
        assert rows_of(out, f"select count(*) from {table}") == [(rows,)]
    assert f"wrote {out}" in result.stdout
    assert [path.name for path in out.parent.iterdir()] == [out.name]


def test_the_file_has_the_plans_section_2_schema(exported):
    out, _ = exported
    # The CREATE TABLE text itself, as SQLite keeps it: the very statements the Bot created the file with.
    statements = [statement.strip() for statement in SQLITE_DDL.split(";") if statement.strip()]
    assert [sql for (sql,) in rows_of(out, "select sql from sqlite_master where type = 'table' order by name")] == (
        statements
    )
    for table, columns in PLAN_COLUMNS.items():
        assert [row[1:] for row in rows_of(out, f"pragma table_info({table})")] == columns
    # Nothing but the two tables and the indexes of their primary keys.
    assert rows_of(out, "select type, name from sqlite_master order by name") == [
        ("table", "daily_prices"),
        ("table", "portfolio_v1_performance"),
        ("index", "sqlite_autoindex_daily_prices_1"),
        ("index", "sqlite_autoindex_portfolio_v1_performance_1"),
    ]


def test_values_are_stored_as_the_sqlite_file_stores_them(exported, demo_sqlite):
    out, _ = exported
    iso_date = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
    odd = rows_of(
        out,
        f"""select count(*) from daily_prices where typeof(ticker) != 'text' or typeof(date) != 'text'
            or date not glob '{iso_date}' or typeof(raw_close) != 'real' or typeof(adj_close) != 'real'
            or typeof(volume) != 'integer'""",
    )
    assert odd == [(0,)]
    odd = rows_of(
        out,
        f"""select count(*) from portfolio_v1_performance where typeof(date) != 'text' or date not glob '{iso_date}'
            or typeof(total_portfolio_value) != 'real' or typeof(daily_return_vs_spy) != 'real'
            or typeof(cumulative_alpha) != 'real'""",
    )
    assert odd == [(0,)]
    # Every key the demo file holds, spelled as it spells it, plus the Bot's.
    keys = set(rows_of(out, "select ticker, date from daily_prices"))
    assert keys == set(rows_of(demo_sqlite, "select ticker, date from daily_prices")) | {r[:2] for r in BOT_PRICES}


def test_every_value_is_postgresqls_exactly(exported, source):
    """A REAL read back at its shortest decimal form is the NUMERIC PostgreSQL holds: nothing rounded twice."""
    out, _ = exported
    held = {
        (ticker, date): values
        for ticker, date, *values in query(
            source, "select ticker, to_char(date, 'YYYY-MM-DD'), raw_close, adj_close, volume from daily_prices"
        )
    }
    written = {(ticker, date): values for ticker, date, *values in rows_of(out, "select * from daily_prices")}
    assert written.keys() == held.keys()
    for key, (raw, adj, volume) in written.items():
        assert [Decimal(repr(raw)), Decimal(repr(adj)), volume] == held[key], key
    portfolio = "select to_char(date, 'YYYY-MM-DD'), total_portfolio_value, daily_return_vs_spy, cumulative_alpha"
    held = {date: values for date, *values in query(source, f"{portfolio} from portfolio_v1_performance")}
    written = {date: values for date, *values in rows_of(out, "select * from portfolio_v1_performance")}
    assert written.keys() == held.keys()
    for date, values in written.items():
        assert [Decimal(repr(value)) for value in values] == held[date], date


def test_rows_only_postgresql_holds_are_in_the_export(exported):
    out, _ = exported
    prices = rows_of(out, f"select * from daily_prices where date = '{BOT_DAY}' order by ticker")
    assert prices == [(t, d, float(raw), float(adj), volume) for t, d, raw, adj, volume in BOT_PRICES]
    corrected = rows_of(out, f"select volume from daily_prices where ticker = 'SPY' and date = '{DEMO_END}'")
    assert corrected == [(CORRECTED_VOLUME,)]
    portfolio = rows_of(out, f"select daily_return_vs_spy from portfolio_v1_performance where date = '{BOT_DAY}'")
    assert portfolio == [(float(BOT_RETURN),)]


def test_the_export_migrates_back_into_the_same_tables(exported, source, fresh_db, tmp_path):
    out, _ = exported
    _, summary = migrate_ok(out, fresh_db, tmp_path / "back.json")
    assert summary["rejected"] == {table: {} for table in TABLES}
    assert summary["source"] == {table: count for table, ((count, _),) in zip(TABLES, digests(source), strict=True)}
    assert {staged["row_identity"] for staged in summary["extract"].values()} == {"rowid"}
    assert digests(fresh_db) == digests(source)


def test_both_tables_come_from_one_snapshot(source, tmp_path, monkeypatch):
    """The Bot writes a day between the two tables' reads: neither table of the export has it."""
    copy_table = export_module.copy_table

    def copy_then_the_bot_writes(con, lite, table):
        copy_table(con, lite, table)
        if table.name == "daily_prices":
            execute(source, "insert into daily_prices values ('SPY', %s, 613, 613, 1)", (LATE_DAY,))
            execute(
                source,
                "insert into portfolio_v1_performance select %s, total_portfolio_value, 0, cumulative_alpha "
                "from portfolio_v1_performance where date = %s",
                (LATE_DAY, BOT_DAY),
            )

    monkeypatch.setattr(export_module, "copy_table", copy_then_the_bot_writes)
    before = digests(source)
    out = tmp_path / "snapshot.db"
    try:
        rows = export(source, out, echo=lambda line: None)
    finally:
        execute(source, "delete from daily_prices where date = %s", (LATE_DAY,))
        execute(source, "delete from portfolio_v1_performance where date = %s", (LATE_DAY,))
    assert [rows[table] for table in TABLES] == [count for ((count, _),) in before]
    for table in TABLES:
        assert rows_of(out, f"select count(*) from {table} where date = '{LATE_DAY}'") == [(0,)]


def test_the_same_contents_give_the_same_file(exported, source, tmp_path):
    out, _ = exported
    again = tmp_path / "again.db"
    export(source, again, echo=lambda line: None)
    assert again.read_bytes() == out.read_bytes()


def test_a_failed_export_leaves_no_file(source, tmp_path, monkeypatch):
    def copy_fails(con, lite, table):
        raise MigrationError("disk full")

    monkeypatch.setattr(export_module, "copy_table", copy_fails)
    with pytest.raises(MigrationError, match="disk full"):
        export(source, tmp_path / "half.db", echo=lambda line: None)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_never_overwritten(source, tmp_path):
    out = tmp_path / "sector_etfs.db"
    out.write_bytes(b"the team's only copy")
    result = invoke("export", "--dsn", source.uri(), "--sqlite", str(out))
    assert_one_line_error(result, str(out), "already exists", "--sqlite")
    assert out.read_bytes() == b"the team's only copy"
    assert list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize(
    ("dsn", "says"),
    [(UNREACHABLE, "cannot connect to PostgreSQL"), ("nonsense", "connection string is not valid")],
    ids=["unreachable", "malformed"],
)
def test_a_bad_dsn_is_one_line(dsn, says, tmp_path):
    result = invoke("export", "--dsn", dsn, "--sqlite", str(tmp_path / "out.db"))
    assert_one_line_error(result, says)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_made_is_one_line(source, tmp_path):
    not_a_folder = tmp_path / "a_file"
    not_a_folder.write_text("")
    result = invoke("export", "--dsn", source.uri(), "--sqlite", str(not_a_folder / "out.db"))
    assert_one_line_error(result, f"cannot write {not_a_folder / 'out.db'}", "nothing was written")
    assert list(tmp_path.iterdir()) == [not_a_folder]


def test_a_database_never_migrated_is_one_line(fresh_db, tmp_path):
    result = invoke("export", "--dsn", fresh_db.uri(), "--sqlite", str(tmp_path / "out.db"))
    assert_one_line_error(result, "has no daily_prices table", "nothing to export")
    assert list(tmp_path.iterdir()) == []
