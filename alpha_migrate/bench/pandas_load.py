"""The plan's own suggestion, for comparison: pandas read_sql from SQLite, then DataFrame.to_sql (default
method) into a pre-created copy of the partitioned table with its keys. Run as a child of `invoke bench`:

    python -m alpha_migrate.bench.pandas_load SQLITE POSTGRES_URI TABLE
"""

import sqlite3
import sys


def main(sqlite_path: str, uri: str, table: str) -> None:
    import pandas as pd
    from sqlalchemy import create_engine

    frame = pd.read_sql("select * from daily_prices", sqlite3.connect(sqlite_path), parse_dates=["date"])
    engine = create_engine(uri.replace("postgresql://", "postgresql+psycopg2://", 1))
    frame.to_sql(table, engine, if_exists="append", index=False)
    print(f"{len(frame)} rows written")


if __name__ == "__main__":
    main(*sys.argv[1:4])
