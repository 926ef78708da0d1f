"""Row identities and the split by storage class, on SQLite files of every layout (sqlite3 only)."""

import json
import sqlite3

import pytest

from alpha_migrate.raw_layout import RAW_TABLES, register, row_identity, split_table_sql, unstorable_hex

PRICES = "ticker TEXT, date TEXT, raw_close REAL, adj_close REAL, volume INTEGER"


@pytest.mark.parametrize(
    ("ddl", "sql", "description"),
    [
        (f"create table daily_prices ({PRICES})", "rowid", "rowid"),
        (f"create table daily_prices (id INTEGER PRIMARY KEY, {PRICES})", "rowid", "rowid"),
        (f"create table daily_prices (rowid TEXT, {PRICES})", "_rowid_", "rowid"),
        (f"create table daily_prices (rowid TEXT, _rowid_ TEXT, oid TEXT, {PRICES})", None, "ordinal by (rowid, "),
        (
            f"create table daily_prices ({PRICES}, primary key (ticker, date)) without rowid",
            'row_number() over (order by "ticker", "date")',
            "ordinal by (ticker, date)",
        ),
    ],
    ids=["plain", "integer_primary_key", "rowid_column", "every_alias_a_column", "without_rowid"],
)
def test_every_table_gets_an_identity(ddl, sql, description):
    con = sqlite3.connect(":memory:")
    con.execute(ddl)
    identity = row_identity(con, "daily_prices")
    assert identity.description.startswith(description)
    if sql:
        assert identity.sql == sql
    assert identity.is_rowid == (sql == "rowid")
    con.execute(f"select {identity.sql} from daily_prices").fetchall()


def test_text_postgresql_cannot_store_is_kept_as_hex():
    assert unstorable_hex(b"XLK") is None and unstorable_hex("é".encode()) is None
    assert unstorable_hex(b"XL\x00K") == "584c004b"
    assert unstorable_hex(b"X\xffK") == "58ff4b"


def test_the_split_puts_each_value_in_the_column_of_its_storage_class(tmp_path):
    source = tmp_path / "source.db"
    con = sqlite3.connect(source)
    con.execute(f"create table daily_prices ({PRICES})")
    insert = "insert into daily_prices (rowid, ticker, date, raw_close, adj_close, volume) values (?, ?, ?, ?, ?, ?)"
    con.executemany(
        insert,
        [
            (-5, "XLK", "2024-01-02", 1.5, 2, 10),
            (7, b"X\xffK", 20240102, "N/A", 2.5, 10.5),
            (2**63 - 1, "XL\x00K", "2024-01-03", None, b"\x01", "many"),
        ],
    )
    con.execute("update daily_prices set ticker = cast(ticker as text) where rowid = 7")  # text, not UTF-8
    con.commit()
    identity = row_identity(con, "daily_prices")
    con.close()
    split = sqlite3.connect(tmp_path / "split.db")
    register(split)
    split.execute(f"attach '{source}' as src")
    for statement in split_table_sql("daily_prices", identity, "src"):
        split.execute(statement)
    split.text_factory = bytes
    columns = list(RAW_TABLES["daily_prices"])
    got = {
        row[0]: dict(zip(columns, row, strict=True)) for row in split.execute("select * from alpha_raw_daily_prices")
    }
    assert (got[-5]["ticker"], got[-5]["raw_close"], got[-5]["adj_close"], got[-5]["volume"]) == (b"XLK", 1.5, 2, 10)
    assert got[7]["ticker"] is None and json.loads(got[7]["unstorable"]) == {"ticker": "58ff4b"}
    assert (got[7]["date"], got[7]["raw_close_text"], got[7]["volume_real"]) == (b"20240102", b"N/A", 10.5)
    assert json.loads(got[2**63 - 1]["unstorable"]) == {"ticker": "584c004b"}
    assert (got[2**63 - 1]["adj_close_text"], got[2**63 - 1]["volume_text"]) == (b"\x01", b"many")
