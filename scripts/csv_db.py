"""Build a `sector_etfs.db` from real daily-price CSVs (Yahoo layout: Date,Open,High,Low,Close,Adj Close,Volume).

    python -m scripts.csv_db --csv-dir tests/data/etf_prices [--out sector_etfs.db]

Close becomes raw_close and Adj Close adj_close, as parsed floats; the ticker is the file's name.
`portfolio_v1_performance` is derived with the same formulas as the demo (scripts/portfolio.py).
"""

import argparse
import csv
from pathlib import Path

from scripts.portfolio import derive_portfolio
from scripts.sqlite_schema import PriceRow, write_database


def read_price_csvs(csv_dir: Path) -> list[PriceRow]:
    rows: list[PriceRow] = []
    for path in sorted(Path(csv_dir).glob("*.csv")):
        with path.open(newline="") as handle:
            for record in csv.DictReader(handle):
                rows.append(
                    (
                        path.stem,
                        record["Date"],
                        float(record["Close"]),
                        float(record["Adj Close"]),
                        int(record["Volume"]),
                    )
                )
    if not rows:
        raise ValueError(f"no price CSVs in {csv_dir}")
    return rows


def write_csv_database(csv_dir: Path, path: Path) -> tuple[int, int]:
    prices = read_price_csvs(csv_dir)
    portfolio = derive_portfolio(prices)
    write_database(path, prices, portfolio)
    return len(prices), len(portfolio)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("sector_etfs.db"))
    args = parser.parse_args(argv)
    prices, portfolio = write_csv_database(args.csv_dir, args.out)
    print(f"wrote {args.out}: {prices} daily_prices rows, {portfolio} portfolio_v1_performance rows")


if __name__ == "__main__":
    main()
