"""The report's checksums (alpha_migrate/mart_contents.py) tell tables apart that differ in any value, and only
those."""

import psycopg2
import pytest

from alpha_migrate.target_db import row_hash_sql
from tests.conftest import PRICE_COLUMNS

ROWS = [("XLK", "2020-01-02", "1.5", "1.5", 100), ("XLF", "2020-01-03", "2.5", "2.0", 200)]


def digest(target, rows) -> tuple:
    con = psycopg2.connect(target.libpq())
    try:
        with con.cursor() as cur:
            cur.execute(
                "create temp table prices "
                "(ticker varchar(10), date date, raw_close numeric(10,4), adj_close numeric(10,4), volume bigint)"
            )
            cur.executemany("insert into prices values (%s, %s, %s, %s, %s)", rows)
            cur.execute(f"select count(*), sum({row_hash_sql(PRICE_COLUMNS)}) from prices")
            return cur.fetchone()
    finally:
        con.close()


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([ROWS[0], ("XLF", "2020-01-02", "2.5", "2.0", 200)], id="a date changed"),
        pytest.param([("XLK", "2020-01-03", *ROWS[0][2:]), ("XLF", "2020-01-02", *ROWS[1][2:])], id="dates traded"),
        pytest.param([ROWS[0], ("XLF", "2020-01-03", "2.0", "2.5", 200)], id="two columns swapped"),
        pytest.param([ROWS[0], ("XLF", "2020-01-03", "2.5", None, 200)], id="a value gone NULL"),
        pytest.param([ROWS[0], ROWS[1], ROWS[1]], id="a row twice"),
        # What PostgreSQL's own hash functions cannot tell apart (dbt_project.yml, alpha_row_hashes).
        pytest.param([ROWS[0], ("XLF", "2020-01-03", "-2.5", "2.0", 200)], id="a price negated"),
        # High half 1, low half 200 XOR 1: folded, 200 again.
        pytest.param([ROWS[0], ("XLF", "2020-01-03", "2.5", "2.0", 2**32 + (200 ^ 1))], id="a volume folding alike"),
    ],
)
def test_any_changed_value_changes_the_checksum(fresh_db, rows):
    assert digest(fresh_db, rows) != digest(fresh_db, ROWS)


@pytest.mark.parametrize("value", ["0", "NaN", "-0.0001"])
def test_null_hashes_apart_from_zero_nan_and_any_number(fresh_db, value):
    with_null = [ROWS[0], ("XLF", "2020-01-03", "2.5", None, 200)]
    assert digest(fresh_db, with_null) != digest(fresh_db, [ROWS[0], ("XLF", "2020-01-03", "2.5", value, 200)])


def test_the_same_rows_in_any_order_and_scale_have_one_checksum(fresh_db):
    reordered = [ROWS[1], ("XLK", "2020-01-02", "1.50", "1.5000", 100)]
    assert digest(fresh_db, reordered) == digest(fresh_db, ROWS)


def test_infinite_dates_are_hashed_not_refused(fresh_db):
    first, second = (digest(fresh_db, [(*ROWS[0][:1], day, *ROWS[0][2:])]) for day in ("infinity", "-infinity"))
    assert first[0] == second[0] == 1 and first[1] != second[1]
