"""The client module's float reads of prices, on the migrated demo: the same values as psycopg2's Decimals,
None for NULL, and the float caster confined to the connection that asked for it."""

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
        dates, prices = client.history(decimal_con, ticker)
        # Its prepared statement again, in a session whose dates print otherwise: still ISO dates.
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


def test_history_prepares_its_statement_again_after_a_session_reset(ticker_with_a_null):
    ticker, _ = ticker_with_a_null
    con = client.connect()
    con.autocommit = True
    try:
        first = client.history(con, ticker)
        with con.cursor() as cur:
            cur.execute("discard all")
        with pytest.raises(psycopg2.errors.InvalidSqlStatementName):
            client.history(con, ticker)
        assert client.history(con, ticker) == first
    finally:
        con.close()
