"""The strange sources are as strange as they claim: checked with sqlite3 alone, no PostgreSQL."""

import hashlib
import sqlite3
from contextlib import closing

import pytest

from tests.strange_sources import (
    LAYOUTS,
    TABLES,
    write_negative_rowids,
    write_random_file,
    write_real_like,
    write_unstorable_text,
    write_without_rowid,
)


def scalar(path, sql: str):
    with closing(sqlite3.connect(path)) as con:
        return con.execute(sql).fetchone()[0]


def counts(path) -> dict[str, int]:
    return {table: scalar(path, f"select count(*) from {table}") for table in TABLES}


def test_real_like_has_13_funds_float32_noise_and_the_plans_keys(tmp_path):
    path = tmp_path / "real.db"
    n = write_real_like(path)
    assert counts(path) == {"daily_prices": n, "portfolio_v1_performance": 0}
    assert scalar(path, "select count(distinct ticker) from daily_prices") == 13
    assert scalar(path, "select min(date) from daily_prices") == "2021-03-01"
    assert scalar(path, "select count(*) from daily_prices where raw_close is not adj_close") == 0
    # float32 noise: most prices are not what the CSV's 6 decimals say
    assert scalar(path, "select count(*) from daily_prices where raw_close != round(raw_close, 6)") > n / 2
    assert scalar(path, "select count(*) from daily_prices where typeof(volume) != 'integer'") == 0
    with closing(sqlite3.connect(path)) as con:
        assert [r[5] for r in con.execute("pragma table_info(daily_prices)")] == [1, 2, 0, 0, 0]
    write_real_like(path)  # replaces, never appends
    assert counts(path)["daily_prices"] == n


@pytest.mark.parametrize("all_negative", [False, True])
def test_negative_rowids_span_the_64_bit_range(tmp_path, all_negative):
    path = tmp_path / "negative.db"
    returned = write_negative_rowids(path, portfolio_all_negative=all_negative)
    assert counts(path) == returned
    assert returned["daily_prices"] == write_real_like(tmp_path / "real.db")
    assert scalar(path, "select count(*) from daily_prices where rowid < 0") == 4
    assert scalar(path, "select min(rowid) from daily_prices") == -(2**63)
    assert scalar(path, "select max(rowid) from daily_prices") == 2**63 - 1
    assert scalar(path, "select count(*) from daily_prices where rowid > 10000000") == 4
    assert (
        scalar(path, "select count(*) from (select distinct ticker, date from daily_prices)")
        == returned["daily_prices"]
    )
    negative = scalar(path, "select count(*) from portfolio_v1_performance where rowid < 0")
    assert negative == (returned["portfolio_v1_performance"] if all_negative else 0)


@pytest.mark.parametrize("portfolio_without_rowid", [False, True])
def test_without_rowid_table_has_no_rowid(tmp_path, portfolio_without_rowid):
    path = tmp_path / "without_rowid.db"
    returned = write_without_rowid(path, portfolio_without_rowid=portfolio_without_rowid)
    assert counts(path) == returned
    assert returned["daily_prices"] == 300
    with pytest.raises(sqlite3.OperationalError, match="no such column: rowid"):
        scalar(path, "select rowid from daily_prices")
    if portfolio_without_rowid:
        with pytest.raises(sqlite3.OperationalError):
            scalar(path, "select rowid from portfolio_v1_performance")
    else:
        assert scalar(path, "select max(rowid) from portfolio_v1_performance") == returned["portfolio_v1_performance"]


def test_unstorable_text_is_there_as_stated(tmp_path):
    path = tmp_path / "unstorable.db"
    returned = write_unstorable_text(path)
    assert {t: returned[t] for t in TABLES} == counts(path)
    assert returned["unstorable"] == {"daily_prices": 5, "portfolio_v1_performance": 1}

    def prices(where: str) -> int:
        return scalar(path, f"select count(*) from daily_prices where {where}")

    assert prices("instr(cast(ticker as blob), x'00') > 0 and typeof(ticker) = 'text'") == 1
    assert prices("cast(ticker as blob) = x'58ff4b' and typeof(ticker) = 'text'") == 1
    assert prices("instr(cast(date as blob), x'00') > 0") == 1
    assert prices("typeof(raw_close) = 'text' and cast(raw_close as blob) = x'31ff32'") == 1
    assert prices("typeof(volume) = 'blob' and volume = x'00ff'") == 1
    assert scalar(path, "select count(*) from portfolio_v1_performance where instr(hex(date), 'FF') > 0") == 1
    # Python's sqlite3 cannot even fetch such text: the reason these files are checked with SQL
    with pytest.raises(sqlite3.OperationalError, match="UTF-8"):
        scalar(path, "select ticker from daily_prices where cast(ticker as blob) = x'58ff4b'")


def test_random_files_never_fail_and_cover_every_layout(tmp_path):
    seen, ends = {table: set() for table in TABLES}, set()
    for seed in range(200):
        path = tmp_path / f"random_{seed % 2}.db"  # the writer must replace an existing file
        returned = write_random_file(path, seed)
        assert counts(path) == returned["rows"], seed
        assert 200 <= returned["rows"]["daily_prices"] <= 400, seed
        assert 0 <= returned["rows"]["portfolio_v1_performance"] <= 40, seed
        for table, layout in returned["layout"].items():
            seen[table].add(layout)
            if layout == "without_rowid":
                with pytest.raises(sqlite3.OperationalError):
                    scalar(path, f"select rowid from {table}")
            elif layout == "alias":
                assert scalar(path, f"select count(*) from {table} where rowid is not id") == 0
            elif layout == "sparse":
                ends.add(scalar(path, f"select min(rowid) from {table}"))
                ends.add(scalar(path, f"select max(rowid) from {table}"))
    assert seen == {table: set(LAYOUTS) for table in TABLES}
    assert {-(2**63), 2**63 - 1} <= ends  # some sparse files reach the very ends of SQLite's rowids


def test_random_files_are_reproducible(tmp_path):
    digests = []
    for name in ("a.db", "b.db"):
        write_random_file(tmp_path / name, 7)
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
