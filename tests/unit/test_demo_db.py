import datetime as dt
import hashlib
import sqlite3

import pytest

from scripts.demo_db import TICKERS, last_business_day_before, write_demo_database
from scripts.sqlite_schema import SQLITE_DDL

SECTOR_ETFS = {"XLB", "XLC", "XLE", "XLF", "XLI", "XLK", "XLP", "XLRE", "XLU", "XLV", "XLY"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "sector_etfs.db"
    write_demo_database(path)
    con = sqlite3.connect(path)
    yield path, con
    con.close()


def test_schema_is_section_2_of_the_plan(demo, tmp_path):
    _, con = demo
    reference = sqlite3.connect(tmp_path / "ref.db")
    reference.executescript(SQLITE_DDL)
    for table in ("daily_prices", "portfolio_v1_performance"):
        info = con.execute(f"pragma table_info({table})").fetchall()
        assert info == reference.execute(f"pragma table_info({table})").fetchall()
    assert [r[1:] for r in con.execute("pragma table_info(daily_prices)")] == [
        ("ticker", "TEXT", 1, None, 1),
        ("date", "TEXT", 1, None, 2),
        ("raw_close", "REAL", 0, None, 0),
        ("adj_close", "REAL", 0, None, 0),
        ("volume", "INTEGER", 0, None, 0),
    ]
    assert [r[1:] for r in con.execute("pragma table_info(portfolio_v1_performance)")] == [
        ("date", "TEXT", 0, None, 1),
        ("total_portfolio_value", "REAL", 0, None, 0),
        ("daily_return_vs_spy", "REAL", 0, None, 0),
        ("cumulative_alpha", "REAL", 0, None, 0),
    ]


def test_tickers_start_at_their_inception_and_end_on_the_last_business_day(demo):
    _, con = demo
    spans = {
        t: (first, last)
        for t, first, last in con.execute("select ticker, min(date), max(date) from daily_prices group by 1")
    }
    assert set(spans) == SECTOR_ETFS | {"SPY"}
    expected_last = last_business_day_before(dt.date.today()).isoformat()
    assert {last for _, last in spans.values()} == {expected_last}
    assert spans["XLRE"][0] == "2015-10-08"
    assert spans["XLC"][0] == "2018-06-19"
    assert {spans[t][0] for t in SECTOR_ETFS - {"XLRE", "XLC"}} == {"2015-01-02"}


def test_only_business_days_and_every_one_of_them(demo):
    _, con = demo
    dates = [dt.date.fromisoformat(d) for (d,) in con.execute("select distinct date from daily_prices order by 1")]
    assert all(d.weekday() < 5 for d in dates)
    span = (dates[-1] - dates[0]).days + 1
    all_weekdays = sum((dates[0] + dt.timedelta(days=i)).weekday() < 5 for i in range(span))
    assert len(dates) == all_weekdays


def test_prices_are_full_precision_with_dividends_below_raw(demo):
    _, con = demo
    (below, above, unrounded, bad_volume) = con.execute(
        """select sum(adj_close < raw_close), sum(adj_close > raw_close),
                  sum(round(raw_close, 4) != raw_close), sum(volume <= 0 or typeof(volume) != 'integer')
           from daily_prices"""
    ).fetchone()
    total = con.execute("select count(*) from daily_prices").fetchone()[0]
    assert above == 0
    assert below > 0.9 * total  # every day before the latest ex-dividend date
    assert unrounded > 0.99 * total
    assert bad_volume == 0
    assert {t.symbol for t in TICKERS} == SECTOR_ETFS | {"SPY"}


def test_same_inputs_give_the_same_file(tmp_path):
    end = dt.date(2020, 3, 31)
    digests = []
    for name in ("a.db", "b.db"):
        write_demo_database(tmp_path / name, end=end)
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_a_days_raw_prices_do_not_depend_on_the_end_date(tmp_path):
    write_demo_database(tmp_path / "short.db", end=dt.date(2019, 12, 31))
    write_demo_database(tmp_path / "long.db", end=dt.date(2021, 12, 31))
    sql = "select ticker, date, raw_close, volume from daily_prices where date <= '2019-12-31' order by 1, 2"
    short = sqlite3.connect(tmp_path / "short.db").execute(sql).fetchall()
    long = sqlite3.connect(tmp_path / "long.db").execute(sql).fetchall()
    assert short == long
