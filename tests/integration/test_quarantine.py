"""Row-level problems: every source row is loaded, merged or quarantined with a reason, and counts reconcile."""

import json
import sqlite3

import pytest

from alpha_migrate.rounding import within_rounding
from tests.conftest import create_database, digests, drop_database, invoke, migrate_ok, query
from tests.integration.adversarial import (
    BASE_PORTFOLIO,
    BASE_PRICES,
    CASES,
    OTHER_SCRIPT_DIGITS,
    mixed_case,
    write_case,
)

TABLES = ("daily_prices", "portfolio_v1_performance")


@pytest.mark.parametrize("case", [*CASES, mixed_case()], ids=lambda case: case.name)
def test_each_row_is_loaded_merged_or_quarantined(case, fresh_db, tmp_path):
    assert_each_row_loaded_merged_or_quarantined(case, fresh_db, tmp_path)


@pytest.fixture
def unicode_digits_db(admin_target_18):
    """A PostgreSQL 18 database in the builtin PG_UNICODE_FAST collation, where the regular expression `\\d`
    matches any script's digit, not only 0-9."""
    target = create_database(
        admin_target_18, options="template template0 locale_provider builtin builtin_locale 'PG_UNICODE_FAST'"
    )
    yield target
    drop_database(admin_target_18, target)


def test_dates_in_other_scripts_digits_are_quarantined_whatever_the_collation(unicode_digits_db, tmp_path):
    """In that collation such a date once took the ISO or epoch shape, whose `::int` cast raised and
    stopped the whole load (macros/normalize/source_values.sql)."""
    assert query(unicode_digits_db, "select '\u0662\u0660' ~ '^\\d+$'") == [(True,)]
    assert_each_row_loaded_merged_or_quarantined(OTHER_SCRIPT_DIGITS, unicode_digits_db, tmp_path)


def assert_each_row_loaded_merged_or_quarantined(case, target, tmp_path) -> None:
    source = tmp_path / "sector_etfs.db"
    write_case(source, case)
    result, summary = migrate_ok(source, target, tmp_path / "report.json", "--max-rejects", "1000")

    base = (len(BASE_PRICES), len(BASE_PORTFOLIO))
    sizes = (len(BASE_PRICES) + len(case.prices), len(BASE_PORTFOLIO) + len(case.portfolio))
    for i, table in enumerate(TABLES):
        expected_rejects = {reason: n for (t, reason), n in case.rejected.items() if t == table}
        assert summary["rejected"][table] == expected_rejects, table
        assert summary["merged"][table] == case.merged[i], table
        assert summary["loaded"][table] == base[i] + case.loaded[i], table
        assert summary["reconciliation"][table] == {
            "source": sizes[i],
            "loaded": base[i] + case.loaded[i],
            "merged": case.merged[i],
            "quarantined": sum(expected_rejects.values()),
            "balanced": True,
        }
        assert query(target, f"select count(*) from {table}") == [(base[i] + case.loaded[i],)]

    quarantined = query(
        target,
        "select source_table, reason, count(*) from staging.rejected_rows where run_id = %s group by 1, 2",
        (summary["run_id"],),
    )
    assert {(t, r): n for t, r, n in quarantined} == case.rejected
    if case.rejected:
        assert f"invoke rejects --run {summary['run_id']}" in result.stdout


def test_loaded_values_equal_their_source_and_quarantine_keeps_raw_values(fresh_db, tmp_path):
    case = mixed_case()
    source = tmp_path / "sector_etfs.db"
    write_case(source, case)
    run_id = migrate_ok(source, fresh_db, tmp_path / "report.json", "--max-rejects", "1000")[1]["run_id"]

    loaded = {
        rowid: values
        for rowid, *values in query(
            fresh_db,
            """select s.sqlite_rowid, t.raw_close, t.adj_close, t.volume
               from staging.stg_daily_prices s join daily_prices t using (ticker, date)
               where s.outcome = 'loaded'""",
        )
    }
    con = sqlite3.connect(source)
    for rowid, (raw, adj, volume) in loaded.items():
        # As SQLite itself reads the values as numbers: a number in a blob or text is the number it spells.
        src_raw, src_adj, src_volume = con.execute(
            "select cast(raw_close as real), cast(adj_close as real), cast(volume as integer) from daily_prices"
            " where rowid = ?",
            (rowid,),
        ).fetchone()
        for value, src in ((raw, src_raw), (adj, src_adj)):
            assert (value is None and src is None) or within_rounding(value, src, 4)
        assert volume == src_volume

    raw = dict(
        query(
            fresh_db,
            "select reason, raw_values from staging.rejected_rows where run_id = %s and reason in "
            "('price_not_numeric', 'volume_fractional', 'ticker_too_long') order by sqlite_rowid",
            (run_id,),
        )
    )
    assert json.loads(raw["volume_fractional"])["volume"] == "1.5"
    assert json.loads(raw["ticker_too_long"])["ticker"] == "XLKXLKXLKXL"
    assert json.loads(raw["price_not_numeric"])["raw_close"] in ("N/A", "", "1,234.5")

    listing = invoke("rejects", "--run", run_id, "--dsn", fresh_db.uri())
    assert listing.returncode == 0
    assert sum(1 for line in listing.stdout.splitlines() if "rowid" in line) == sum(case.rejected.values())


def test_rejects_beyond_the_limit_fail_and_leave_the_target_as_it_was(fresh_db, demo_sqlite, tmp_path):
    assert invoke("migrate", "--sqlite", str(demo_sqlite), "--dsn", fresh_db.uri()).returncode == 0
    before = digests(fresh_db, ["daily_prices"])

    bad = tmp_path / "bad.db"
    write_case(bad, mixed_case())
    report = tmp_path / "report.json"
    result = invoke(
        "migrate", "--sqlite", str(bad), "--dsn", fresh_db.uri(), "--report", str(report), "--max-rejects", "3"
    )
    total = sum(mixed_case().rejected.values())
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {total} rows quarantined, more than --max-rejects 3: the target tables are unchanged; "
        f"list them with `invoke rejects --run {json.loads(report.read_text())['run_id']}`"
    ]
    assert digests(fresh_db, ["daily_prices"]) == before
    summary = json.loads(report.read_text())
    assert summary["status"] == "failed"
    assert sum(sum(r.values()) for r in summary["rejected"].values()) == total
    assert query(fresh_db, "select count(*) from staging.rejected_rows where run_id = %s", (summary["run_id"],)) == [
        (total,)
    ]


def test_a_source_declared_as_pandas_writes_it(fresh_db, tmp_path):
    source = tmp_path / "pandas.db"
    con = sqlite3.connect(source)
    con.executescript(
        """
        CREATE TABLE daily_prices ("index" INTEGER, ticker TEXT, date TIMESTAMP, raw_close FLOAT,
                                   adj_close FLOAT, volume INTEGER);
        CREATE TABLE portfolio_v1_performance (date TIMESTAMP, total_portfolio_value FLOAT,
                                   daily_return_vs_spy FLOAT, cumulative_alpha FLOAT);
        INSERT INTO daily_prices VALUES (0, 'XLK', '2024-01-02 00:00:00', 180.5, 180.0, 10),
                                        (1, 'XLK', '2024-01-03 00:00:00', 181.5, 181.0, 11);
        INSERT INTO portfolio_v1_performance VALUES ('2024-01-02 00:00:00', 100000.0, 0.0, 0.0);
        """
    )
    con.commit()
    con.close()
    summary = migrate_ok(source, fresh_db, tmp_path / "report.json")[1]
    assert summary["warnings"] == ["ignored extra column(s) in daily_prices: index"]
    assert query(fresh_db, "select ticker, date::text, raw_close::text from daily_prices order by date") == [
        ("XLK", "2024-01-02", "180.5000"),
        ("XLK", "2024-01-03", "181.5000"),
    ]
