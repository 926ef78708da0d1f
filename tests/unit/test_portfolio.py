import pytest

from scripts.portfolio import START_VALUE, derive_portfolio


def test_equal_weight_sector_portfolio_against_spy_by_hand():
    prices = [
        ("SPY", "2024-01-02", 100.0, 100.0, 1),
        ("XLK", "2024-01-02", 50.0, 50.0, 1),
        ("SPY", "2024-01-03", 101.0, 101.0, 1),  # +1%
        ("XLK", "2024-01-03", 51.0, 51.0, 1),  # +2%
        ("XLE", "2024-01-03", 20.0, 20.0, 1),  # first price: joins the next day
        ("SPY", "2024-01-04", 101.0, 101.0, 1),  # 0%
        ("XLK", "2024-01-04", 51.0, 51.0, 1),  # 0%
        ("XLE", "2024-01-04", 21.0, 21.0, 1),  # +5%
    ]
    rows = derive_portfolio(prices)
    assert [r[0] for r in rows] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert rows[0] == ("2024-01-02", START_VALUE, 0.0, 0.0)
    day2, day3 = rows[1], rows[2]
    assert day2[1] == pytest.approx(START_VALUE * 1.02)
    assert day2[2] == pytest.approx(0.02 - 0.01)
    assert day2[3] == pytest.approx(0.01)
    assert day3[1] == pytest.approx(START_VALUE * 1.02 * 1.025)
    assert day3[2] == pytest.approx(0.025)
    assert day3[3] == pytest.approx(0.035)


def test_days_without_spy_have_no_row():
    prices = [("XLK", "2024-01-02", 50.0, 50.0, 1), ("XLK", "2024-01-03", 51.0, 51.0, 1)]
    assert derive_portfolio(prices) == []
