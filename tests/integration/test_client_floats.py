"""The client module's float reads of prices, on the migrated demo: the same values as psycopg2's Decimals,
None for NULL, and the float caster confined to the connection that asked for it."""

import math
from decimal import Decimal

import psycopg2.errors
import pytest

from alpha_migrate import client
from tests.conftest import execute, query

HISTORY = "select date, adj_close from daily_prices where ticker = %s order by date"


@pytest.fixture
def ticker_with_a_null(migrated_db, monkeypatch):
    """The migrated demo for the client module (DATABASE_URL), and its first ticker with one price NULL."""
    monkeypatch.delenv("ALPHA_PG_DSN", raising=False)
    monkeypatch.setenv("DATABASE_URL", migrated_db.uri(show_password=True))
    (ticker, null_day), *_ = query(migrated_db, "select ticker, max(date) from daily_prices group by 1 order by 1")
    execute(migrated_db, "update daily_prices set adj_close = null where ticker = %s and date = %s", (ticker, null_day))
    return ticker, null_day


def test_float_reads_give_the_decimal_reads_values_and_none_for_null(ticker_with_a_null):
    ticker, null_day = ticker_with_a_null
    decimal_con, float_con = client.connect(), client.connect(numeric_as_float=True)
    try:
        with decimal_con.cursor() as cur:
            cur.execute(HISTORY, (ticker,))
            decimals = cur.fetchall()
        with float_con.cursor() as cur:
            cur.execute(HISTORY, (ticker,))
            floats = cur.fetchall()
        assert decimal_con.get_parameter_status("DateStyle").startswith("ISO")
        dates, prices = client.history(decimal_con, ticker)
        # In a session whose dates print otherwise (history then reads them through to_char): still ISO.
        with decimal_con.cursor() as cur:
            cur.execute("set datestyle = 'German'")
        assert client.history(decimal_con, ticker) == (dates, prices)
    finally:
        decimal_con.close()
        float_con.close()
    assert len(decimals) > 1000 and decimals[-1] == (null_day, None)
    assert all(isinstance(price, Decimal) for _, price in decimals[:-1])
    expected = [(day, None if price is None else float(price)) for day, price in decimals]
    assert floats == expected and all(type(price) is float for _, price in floats[:-1])
    assert list(zip(dates, prices, strict=True)) == [(day.isoformat(), price) for day, price in expected]
    assert all(type(price) is float for price in prices[:-1]) and prices[-1] is None


EDGE_PRICES = (
    "create temp table edge_prices (ticker text, date date, adj_close numeric(10, 4));"
    " insert into edge_prices values ('A', '2024-01-03', null), ('A', '2024-01-02', 1.5), ('A', '2024-01-04', 'NaN'),"
    " ('A', '2024-01-03', 2.25), ('B', '2024-01-02', 2), ('B', 'infinity', 3), ('B', '0044-03-15 BC', null),"
    " ('C', null, 1), ('C', '2024-01-02', 2)"
)
PRINTED_B = (["0044-03-15 BC", "2024-01-02", "infinity"], [None, 2.0, 3.0])


def test_history_keeps_nan_apart_from_null_and_prints_the_dates_python_cannot_hold(ticker_with_a_null):
    con = client.connect()
    try:
        with con.cursor() as cur:
            cur.execute(EDGE_PRICES)
        dates, prices = client.history(con, "A", "edge_prices")
        assert dates == ["2024-01-02", "2024-01-03", "2024-01-03", "2024-01-04"]
        # A NULL keeps its own row, beside another price of the same date (a table keyed otherwise).
        assert prices[0] == 1.5 and sorted(prices[1:3], key=lambda price: price is None) == [2.25, None]
        assert math.isnan(prices[3])
        # A BC date and infinity have no Python date: the server prints every date of that history, in
        # any DateStyle; a NULL date is None.
        assert client.history(con, "B", "edge_prices") == PRINTED_B
        assert client.history(con, "C", "edge_prices") == (["2024-01-02", None], [2.0, 1.0])
        with con.cursor() as cur:
            cur.execute("set datestyle = 'German'")
        assert client.history(con, "B", "edge_prices") == PRINTED_B
    finally:
        con.close()


def test_the_printed_read_prepares_again_in_the_transaction_history_opened(ticker_with_a_null):
    con = client.connect()
    try:
        with con.cursor() as cur:
            cur.execute(EDGE_PRICES)
        con.commit()
        assert client.history(con, "B", "edge_prices") == PRINTED_B
        con.rollback()
        # A reset that keeps the temp table: both statements go; the packed read opens the transaction.
        with con.cursor() as cur:
            cur.execute("deallocate all")
        con.commit()
        assert client.history(con, "B", "edge_prices") == PRINTED_B
    finally:
        con.close()


def test_the_float_caster_is_the_connections_own(ticker_with_a_null):
    ticker, _ = ticker_with_a_null
    float_con = client.connect(numeric_as_float=True)
    other = client.connect()  # opened after: psycopg2's global casters are untouched
    try:
        for con, kind in ((float_con, float), (other, Decimal)):
            with con.cursor() as cur:
                cur.execute("select adj_close from daily_prices where ticker = %s order by date limit 1", (ticker,))
                assert type(cur.fetchone()[0]) is kind
        assert client.history(float_con, "no such ticker") == ([], [])
    finally:
        float_con.close()
        other.close()


def discard_all(con) -> None:
    """A session reset, as a pooler does it: every prepared statement goes."""
    autocommit, con.autocommit = con.autocommit, True
    with con.cursor() as cur:
        cur.execute("discard all")
    con.autocommit = autocommit


def test_history_prepares_its_statement_again_unless_inside_the_callers_transaction(ticker_with_a_null):
    ticker, _ = ticker_with_a_null
    con = client.connect()
    try:
        first = client.history(con, ticker)
        con.rollback()
        for autocommit in (True, False):
            con.autocommit = autocommit
            discard_all(con)
            assert client.history(con, ticker) == first
            con.rollback()
        # Inside a transaction the caller opened, the call may not roll back to prepare again: it fails.
        discard_all(con)
        with con.cursor() as cur:
            cur.execute("select 1")
        with pytest.raises(psycopg2.errors.InvalidSqlStatementName):
            client.history(con, ticker)
        con.rollback()
        assert client.history(con, ticker) == first
        # A session that has the statement, behind a connection object new to history() (as a pool's proxy
        # is): it is not prepared twice.
        client._SESSIONS.clear()
        assert client.history(con, ticker) == first
    finally:
        con.close()
