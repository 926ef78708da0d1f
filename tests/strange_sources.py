"""SQLite sources stranger than the ones we wrote, for the integration tests.

The real file's float32 noise and a fund without a CSV, rowids anywhere in 64 bits, WITHOUT ROWID
tables, text PostgreSQL cannot store (NUL bytes, bytes that are not UTF-8), and seeded random mixtures
of all of it with the dirt of docs/design.md's reject reason table. Every writer replaces the file at `path`.

Python's sqlite3 cannot read back text that is not UTF-8 (it raises OperationalError on fetch), so
check such files with SQL: `CAST(col AS BLOB)`, `hex()`, `typeof()`.
"""

import csv
import datetime as dt
import functools
import math
import random
import sqlite3
import struct
from collections import Counter
from pathlib import Path

CSV_DIR = Path(__file__).parent / "data" / "etf_prices"
FIRST_DATE = "2021-03-01"
SECTOR_ETFS = ("XLB", "XLC", "XLE", "XLF", "XLI", "XLK", "XLP", "XLRE", "XLU", "XLV", "XLY")
NEXT_YEAR = dt.date.today().year + 1
TABLES = ("daily_prices", "portfolio_v1_performance")
COLUMNS = {
    "daily_prices": ("ticker", "date", "raw_close", "adj_close", "volume"),
    "portfolio_v1_performance": ("date", "total_portfolio_value", "daily_return_vs_spy", "cumulative_alpha"),
}
# Declared types without constraints, as pandas' to_sql writes them: SQLite then keeps any value.
LOOSE_TYPES = {
    "daily_prices": "ticker TEXT, date TEXT, raw_close REAL, adj_close REAL, volume INTEGER",
    "portfolio_v1_performance": (
        "date TEXT, total_portfolio_value REAL, daily_return_vs_spy REAL, cumulative_alpha REAL"
    ),
}
NATURAL_KEY = {"daily_prices": "ticker, date", "portfolio_v1_performance": "date"}
PLAN_DDL = """
CREATE TABLE daily_prices (ticker TEXT NOT NULL, date TEXT NOT NULL, raw_close REAL, adj_close REAL,
    volume INTEGER, PRIMARY KEY (ticker, date));
CREATE TABLE portfolio_v1_performance (date TEXT PRIMARY KEY, total_portfolio_value REAL,
    daily_return_vs_spy REAL, cumulative_alpha REAL);
"""
LAYOUTS = ("dense", "negative", "sparse", "alias", "without_rowid")
MIN_ROWID, MAX_ROWID = -(2**63), 2**63 - 1
# write_negative_rowids moves real rows to these rowids, so every key stays valid, known and unique.
NEGATIVE_ROWIDS = (-1, -2, -10_001, MIN_ROWID)
HUGE_ROWIDS = (MAX_ROWID, MAX_ROWID - 1)
SPARSE_ROWIDS = (10**12, 10**15 + 7)


class BadText(bytes):
    """Bytes to store as TEXT although they are not UTF-8; Python's sqlite3 would bind them as a BLOB."""


def f32(x: float) -> float:
    """The float noise of a price that went through float32, as in the real file: 53.06 -> 53.060001373291016."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _fresh(path) -> sqlite3.Connection:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A leftover journal or WAL beside a new file of the same name would be replayed into it.
    for suffix in ("", "-journal", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous = OFF")  # per connection, not stored in the file: only saves fsyncs
    return con


def _insert(con: sqlite3.Connection, table: str, columns: tuple, row: tuple) -> None:
    marks = ", ".join("CAST(? AS TEXT)" if isinstance(v, BadText) else "?" for v in row)
    con.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", row)


def _counts(con: sqlite3.Connection) -> dict[str, int]:
    return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}


@functools.cache
def real_like_rows() -> tuple[tuple, ...]:
    """Rows (ticker, date, raw_close, adj_close, volume) in the Bot's order: by date, then ticker."""
    rows = []
    for ticker in ("SPY", *SECTOR_ETFS):
        with (CSV_DIR / f"{ticker}.csv").open(newline="") as handle:
            for record in csv.DictReader(handle):
                if record["Date"] >= FIRST_DATE:
                    price = f32(float(record["Adj Close"]))
                    rows.append((ticker, record["Date"], price, price, int(record["Volume"])))
    spy_dates = sorted(date for ticker, date, *_ in rows if ticker == "SPY")
    rng, price = random.Random(1604), 165.0  # GLD has no CSV: a fixed random walk on SPY's days
    for date in spy_dates:
        price *= math.exp(rng.gauss(0.0002, 0.009))
        rows.append(("GLD", date, f32(price), f32(price), rng.randint(3_000_000, 16_000_000)))
    return tuple(sorted(rows, key=lambda r: (r[1], r[0])))


def _weekdays(start: str, n: int) -> list[str]:
    day, days = dt.date.fromisoformat(start), []
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day.isoformat())
        day += dt.timedelta(days=1)
    return days


def portfolio_rows(n: int, start: str = "2024-01-02", seed: int = 0) -> list[tuple]:
    """Plausible rows: value near 100,000, excess return near 0.001, alpha their running sum."""
    rng, value, alpha, rows = random.Random(seed), 100_000.0, 0.0, []
    for i, date in enumerate(_weekdays(start, n)):
        excess = 0.0 if i == 0 else rng.gauss(0.001, 0.002)
        value *= 1.0 if i == 0 else 1.0 + rng.gauss(0.0005, 0.008)
        alpha += excess
        rows.append((date, value, excess, alpha))
    return rows


def write_real_like(path) -> int:
    """A stand-in for the real Project Alpha file: 13 funds from 2021-03-01, the plan's schema, no portfolio."""
    rows = real_like_rows()
    con = _fresh(path)
    con.executescript(PLAN_DDL)
    con.executemany("INSERT INTO daily_prices VALUES (?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return len(rows)


def write_negative_rowids(path, *, portfolio_all_negative: bool = False) -> dict[str, int]:
    """The real-like prices with 8 rows moved to rowids -2**63.. -1 and up to 2**63-1, and 20 portfolio rows."""
    rows = list(real_like_rows())
    special_ids = NEGATIVE_ROWIDS + HUGE_ROWIDS + SPARSE_ROWIDS
    picked = {round(k * (len(rows) - 1) / (len(special_ids) - 1)) for k in range(len(special_ids))}
    moved = [rows[i] for i in sorted(picked)]
    con = _fresh(path)
    for table in TABLES:
        con.execute(f"CREATE TABLE {table} ({LOOSE_TYPES[table]})")
    con.executemany(
        "INSERT INTO daily_prices VALUES (?, ?, ?, ?, ?)", [r for i, r in enumerate(rows) if i not in picked]
    )
    # Explicit rowids last: once 2**63-1 is taken, SQLite gives every later automatic rowid at random.
    con.executemany(
        "INSERT INTO daily_prices (rowid, ticker, date, raw_close, adj_close, volume) VALUES (?, ?, ?, ?, ?, ?)",
        [(rowid, *row) for rowid, row in zip(special_ids, moved, strict=True)],
    )
    portfolio = portfolio_rows(20)
    if portfolio_all_negative:
        ids = [MIN_ROWID, *range(-1000 * (len(portfolio) - 1), 0, 1000)]  # ascending with the dates
        con.executemany(
            "INSERT INTO portfolio_v1_performance (rowid, date, total_portfolio_value, daily_return_vs_spy,"
            " cumulative_alpha) VALUES (?, ?, ?, ?, ?)",
            [(rowid, *row) for rowid, row in zip(ids, portfolio, strict=True)],
        )
    else:
        con.executemany("INSERT INTO portfolio_v1_performance VALUES (?, ?, ?, ?)", portfolio)
    con.commit()
    counts = _counts(con)
    con.close()
    return counts


def write_without_rowid(path, *, portfolio_without_rowid: bool = False) -> dict[str, int]:
    """3 funds x 100 days in a WITHOUT ROWID daily_prices (no rowid to read at all), and 10 portfolio rows."""
    rows = [r for r in real_like_rows() if r[0] in ("SPY", "XLK", "XLE")][:300]
    portfolio_suffix = " WITHOUT ROWID" if portfolio_without_rowid else ""
    con = _fresh(path)
    con.executescript(f"""
        CREATE TABLE daily_prices (ticker TEXT NOT NULL, date TEXT NOT NULL, raw_close REAL, adj_close REAL,
            volume INTEGER, PRIMARY KEY (ticker, date)) WITHOUT ROWID;
        CREATE TABLE portfolio_v1_performance (date TEXT PRIMARY KEY, total_portfolio_value REAL,
            daily_return_vs_spy REAL, cumulative_alpha REAL){portfolio_suffix};
    """)
    return _filled(con, rows)


UNSTORABLE_PRICES = [
    ("XL\x00K", "2021-03-01", 140.5, 140.5, 1000),  # NUL: PostgreSQL text cannot hold it
    (BadText(b"X\xffK"), "2021-03-01", 140.5, 140.5, 1000),
    ("XLK", "2021-04-05\x00", 140.5, 140.5, 1000),  # valid up to the NUL, a day the base lacks
    ("XLK", "2021-04-06", BadText(b"1\xff2"), 140.5, 1000),
    ("XLK", "2021-04-07", 140.5, 140.5, b"\x00\xff"),  # a BLOB whose text form is NUL + invalid UTF-8
]
UNSTORABLE_PORTFOLIO = [(BadText(b"2021-04-0\xff"), 100_000.0, 0.001, 0.0)]


def write_unstorable_text(path) -> dict:
    """3 funds x 20 days and 10 portfolio rows, plus rows holding NUL bytes or bytes that are not UTF-8."""
    base = [r for r in real_like_rows() if r[0] in ("SPY", "XLK", "XLE")][:60]
    con = _fresh(path)
    for table in TABLES:
        con.execute(f"CREATE TABLE {table} ({LOOSE_TYPES[table]})")
    for row in base + UNSTORABLE_PRICES:
        _insert(con, "daily_prices", COLUMNS["daily_prices"], row)
    for row in portfolio_rows(10, start="2021-03-01") + UNSTORABLE_PORTFOLIO:
        _insert(con, "portfolio_v1_performance", COLUMNS["portfolio_v1_performance"], row)
    con.commit()
    counts = _counts(con)
    con.close()
    unstorable = {"daily_prices": len(UNSTORABLE_PRICES), "portfolio_v1_performance": len(UNSTORABLE_PORTFOLIO)}
    return {**counts, "unstorable": unstorable}


# ---- write_random_file -------------------------------------------------------------------------------

TICKER_POOL = ("SPY", *SECTOR_ETFS, "GLD", "QQQ", "ZZZT")  # the last three are in no seed
PRICE_DIRT = (
    "ticker_missing",
    "ticker_too_long",
    "date_missing",
    "date_unparseable",
    "date_impossible",
    "date_out_of_range",
    "price_not_numeric",
    "price_not_finite",
    "price_negative",
    "price_out_of_range",
    "volume_not_numeric",
    "volume_fractional",
    "volume_negative",
    "key_conflict",
    "duplicate",
    "variant",
    "unstorable",
)
PORTFOLIO_DIRT = (
    "date_missing",
    "date_unparseable",
    "date_impossible",
    "date_out_of_range",
    "value_not_numeric",
    "value_not_finite",
    "value_out_of_range",
    "return_out_of_range",
    "alpha_out_of_range",
    "key_conflict",
    "duplicate",
    "variant",
    "unstorable",
)
UNPARSEABLE = ("January 9 2024", "2024.01.02", "n/a", "20240102")
IMPOSSIBLE = ("2024-02-30", "2023-13-01", "2023-02-29", "2021-04-31")
OUT_OF_RANGE = ("1985-06-03", "1989-12-29", f"{NEXT_YEAR + 1}-01-02")
NOT_NUMERIC = ("N/A", "", "1,234.5", b"\x01\x02")  # numeric-looking text would become a number: REAL affinity


class _Keys:
    """Hands out valid keys never handed out before, so valid rows never collide by accident."""

    def __init__(self, rng: random.Random):
        self.rng, self.used = rng, set()

    def date(self) -> str:
        day = dt.date(2015, 1, 1) + dt.timedelta(days=self.rng.randrange(4018))
        return (day - dt.timedelta(days=max(0, day.weekday() - 4))).isoformat()

    def fresh(self, table: str) -> tuple:
        while True:
            key = (self.rng.choice(TICKER_POOL), self.date()) if table == "daily_prices" else (self.date(),)
            if key not in self.used:
                self.used.add(key)
                return key


def _maybe_null(rng: random.Random, value):
    # NaN is how pandas writes a missing float; SQLite stores it as NULL.
    return rng.choice((None, math.nan)) if rng.random() < 0.02 else value


def _valid_row(rng: random.Random, keys: _Keys, table: str) -> tuple:
    key = keys.fresh(table)
    if table == "daily_prices":
        close = rng.uniform(5, 700)
        adj = f32(close * rng.uniform(0.6, 1.0))
        return (*key, _maybe_null(rng, close), _maybe_null(rng, adj), _maybe_null(rng, rng.randint(0, 10**8)))
    value, ret, alpha = rng.uniform(50_000, 200_000), rng.gauss(0.0005, 0.01), rng.uniform(-0.5, 0.5)
    return (*key, _maybe_null(rng, value), _maybe_null(rng, ret), _maybe_null(rng, alpha))


def _by_date(row: tuple) -> tuple:
    return (row[1], row[0]) if len(row) == 5 else (row[0],)


def _bump(x):
    return x + 0.01 if isinstance(x, float) and math.isfinite(x) else 1.0


def _date_variant(rng: random.Random, date: str):
    day = dt.date.fromisoformat(date)
    epoch = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
    # An int into a TEXT column is stored as its text, '1704672000'.
    return rng.choice((f"{date} 00:00:00", date.replace("-", "/"), epoch))


def _ticker_variant(rng: random.Random, ticker: str) -> str:
    return rng.choice((ticker.lower(), f" {ticker.lower()} ", f"{ticker} "))


def _unstorable_text(rng: random.Random, text: str):
    cut = rng.randint(1, len(text) - 1)
    return rng.choice((f"{text[:cut]}\x00{text[cut:]}", BadText(text[:cut].encode() + b"\xff" + text[cut:].encode())))


def _price_dirt(kind: str, rng: random.Random, fresh: tuple, valid: list) -> list[tuple]:
    t, d, raw, adj, vol = fresh
    old = rng.choice(valid) if valid else fresh
    match kind:
        case "ticker_missing":
            return [(rng.choice((None, "", "   ")), d, raw, adj, vol)]
        case "ticker_too_long":
            return [(rng.choice(("XLKXLKXLKXL", "TECHNOLOGY_SPDR")), d, raw, adj, vol)]
        case "date_missing":
            return [(t, rng.choice((None, "")), raw, adj, vol)]
        case "date_unparseable":
            return [(t, rng.choice(UNPARSEABLE), raw, adj, vol)]
        case "date_impossible":
            return [(t, rng.choice(IMPOSSIBLE), raw, adj, vol)]
        case "date_out_of_range":
            return [(t, rng.choice(OUT_OF_RANGE), raw, adj, vol)]
        case "price_not_numeric":
            bad = rng.choice(NOT_NUMERIC)
            return [(t, d, bad, adj, vol) if rng.random() < 0.5 else (t, d, raw, bad, vol)]
        case "price_not_finite":
            bad = rng.choice((math.inf, -math.inf, "1e999"))  # text '1e999' becomes REAL Infinity in SQLite
            return [(t, d, bad, adj, vol) if rng.random() < 0.5 else (t, d, raw, bad, vol)]
        case "price_negative":
            return [(t, d, -round(rng.uniform(0.01, 100), 2), adj, vol)]
        case "price_out_of_range":
            return [(t, d, raw, rng.choice((1e9, 1_000_000.0)), vol)]
        case "volume_not_numeric":
            return [(t, d, raw, adj, rng.choice(("12a", "1,000", b"\x07")))]
        case "volume_fractional":
            return [(t, d, raw, adj, rng.randint(0, 10**6) + 0.5)]
        case "volume_negative":
            return [(t, d, raw, adj, -rng.randint(1, 10**6))]
        case "key_conflict":  # without a valid row to rival, bring one along
            rival = (*old[:2], _bump(old[2]), *old[3:])
            return [rival] if valid else [old, rival]
        case "duplicate":
            return [old] if valid else [old, old]
        case "variant":  # the same key written differently: merged with `old`, or a new key if fresh
            base = old if rng.random() < 0.5 else fresh
            ticker = _ticker_variant(rng, base[0]) if rng.random() < 0.6 else base[0]
            return [(ticker, _date_variant(rng, base[1]), *base[2:])]
        case "unstorable":
            form = rng.randrange(4)
            if form == 0:
                return [(_unstorable_text(rng, t), d, raw, adj, vol)]
            if form == 1:
                return [(t, _unstorable_text(rng, d), raw, adj, vol)]
            if form == 2:
                return [(t, d, BadText(b"1\xff2"), adj, vol)]
            return [(t, d, raw, adj, b"\x00\xff")]
    raise ValueError(kind)


def _portfolio_dirt(kind: str, rng: random.Random, fresh: tuple, valid: list) -> list[tuple]:
    d, value, ret, alpha = fresh
    old = rng.choice(valid) if valid else fresh
    measure = rng.randrange(1, 4)

    def with_measure(bad) -> tuple:
        row = list(fresh)
        row[measure] = bad
        return tuple(row)

    match kind:
        case "date_missing":
            return [(rng.choice((None, "")), value, ret, alpha)]
        case "date_unparseable":
            return [(rng.choice(UNPARSEABLE), value, ret, alpha)]
        case "date_impossible":
            return [(rng.choice(IMPOSSIBLE), value, ret, alpha)]
        case "date_out_of_range":
            return [(rng.choice(OUT_OF_RANGE), value, ret, alpha)]
        case "value_not_numeric":
            return [with_measure(rng.choice(NOT_NUMERIC))]
        case "value_not_finite":
            return [with_measure(rng.choice((math.inf, -math.inf)))]
        case "value_out_of_range":
            return [(d, rng.choice((1e11, -1e11)), ret, alpha)]
        case "return_out_of_range":
            return [(d, value, rng.choice((150.0, -100.5)), alpha)]
        case "alpha_out_of_range":
            return [(d, value, ret, 530.0)]  # alpha stored in percent
        case "key_conflict":
            rival = (old[0], _bump(old[1]), *old[2:])
            return [rival] if valid else [old, rival]
        case "duplicate":
            return [old] if valid else [old, old]
        case "variant":
            base = old if rng.random() < 0.5 else fresh
            return [(_date_variant(rng, base[0]), *base[1:])]
        case "unstorable":
            if rng.random() < 0.7:
                return [(_unstorable_text(rng, d), value, ret, alpha)]
            return [with_measure(BadText(b"1\xff2"))]
    raise ValueError(kind)


def _rowids(rng: random.Random, layout: str, n: int) -> list[int] | None:
    if layout in ("dense", "without_rowid"):
        return None
    if layout == "alias":
        return rng.sample(range(-(10**9), 10**9), n)
    if layout == "negative":
        step, offset = rng.choice((1, 1, 7, 1000)), rng.randint(1, max(n, 1))
        ids = [(i - offset) * step for i in range(n)]
    else:  # sparse: any magnitude, sometimes the very ends of the 64-bit range
        chosen = {end for end in (MIN_ROWID, MAX_ROWID) if rng.random() < 0.4}
        while len(chosen) < n:
            bits = rng.randint(0, 63)
            chosen.add(rng.randint(-(2**bits), 2**bits - 1))
        ids = sorted(rng.sample(sorted(chosen), n))
    if rng.random() < 0.3:
        rng.shuffle(ids)  # rowid order unrelated to insertion order
    return ids


def _create(con: sqlite3.Connection, table: str, layout: str) -> None:
    types = LOOSE_TYPES[table]
    if layout == "alias":
        con.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, {types})")
    elif layout == "without_rowid":
        con.execute(f"CREATE TABLE {table} ({types}, PRIMARY KEY ({NATURAL_KEY[table]})) WITHOUT ROWID")
    else:
        con.execute(f"CREATE TABLE {table} ({types})")


def write_random_file(path, seed: int) -> dict:
    """A seeded random source: per table a rowid layout of LAYOUTS, valid rows and, usually, dirt.

    Returns {"layout": {table: layout}, "rows": {table: count(*)}, "dirt": {table: {kind: rows written}}}.
    Dirt a WITHOUT ROWID table refuses (a NULL or repeated key) is skipped and counted as "skipped".
    """
    rng = random.Random(seed)
    keys = _Keys(rng)
    layouts = {table: rng.choice(LAYOUTS) for table in TABLES}
    sizes = {"daily_prices": (rng.randint(200, 370), 30), "portfolio_v1_performance": (rng.randint(0, 30), 10)}
    dirt_makers = {
        "daily_prices": (PRICE_DIRT, _price_dirt),
        "portfolio_v1_performance": (PORTFOLIO_DIRT, _portfolio_dirt),
    }
    con = _fresh(path)
    dirt_written = {}
    for table in TABLES:
        n_valid, max_dirt = sizes[table]
        valid = sorted((_valid_row(rng, keys, table) for _ in range(n_valid)), key=_by_date)
        rows = [(None, row) for row in valid]  # (dirt kind or None, row), in the Bot's date order
        if rng.random() < 0.85:
            kinds, make = dirt_makers[table]
            for _ in range(rng.randint(1, max_dirt)):
                kind = rng.choice(kinds)
                for row in make(kind, rng, _valid_row(rng, keys, table), valid):
                    rows.insert(rng.randint(0, len(rows)), (kind, row))
        _create(con, table, layouts[table])
        ids = _rowids(rng, layouts[table], len(rows))
        columns = COLUMNS[table]
        if ids is not None:
            columns = ("id" if layouts[table] == "alias" else "rowid", *columns)
            rows = [(kind, (rowid, *row)) for rowid, (kind, row) in zip(ids, rows, strict=True)]
        written = Counter()
        for kind, row in rows:
            try:
                _insert(con, table, columns, row)
            except sqlite3.IntegrityError:
                if layouts[table] != "without_rowid":
                    raise
                written["skipped"] += 1
                continue
            if kind:
                written[kind] += 1
        dirt_written[table] = dict(written)
    con.commit()
    rows_counted = _counts(con)
    con.close()
    return {"layout": layouts, "rows": rows_counted, "dirt": dirt_written}


def write_other_case_names(path) -> dict[str, int]:
    """The plan's tables and columns named in other letter cases (DAILY_PRICES, "Ticker", "ADJ_CLOSE"), as
    a tool that capitalises its names writes them: SQLite's names are case-insensitive, so the file's own
    clients read it as they would the plan's."""
    con = _fresh(path)
    con.executescript("""
        CREATE TABLE DAILY_PRICES ("Ticker" TEXT NOT NULL, "Date" TEXT NOT NULL, "Raw_Close" REAL,
            "ADJ_CLOSE" REAL, "Volume" INTEGER, PRIMARY KEY ("Ticker", "Date"));
        CREATE TABLE Portfolio_V1_Performance ("DATE" TEXT PRIMARY KEY, "Total_Portfolio_Value" REAL,
            "Daily_Return_VS_SPY" REAL, "Cumulative_Alpha" REAL);
    """)
    return _filled(con, real_like_rows()[:500])


def write_views_in_place_of_tables(path) -> dict[str, int]:
    """daily_prices and portfolio_v1_performance as views over tables of other names: the file's clients
    read them alike, but a view's rowid reads as NULL on every row."""
    con = _fresh(path)
    con.executescript("""
        CREATE TABLE prices_store (ticker TEXT NOT NULL, date TEXT NOT NULL, raw_close REAL, adj_close REAL,
            volume INTEGER, PRIMARY KEY (ticker, date));
        CREATE TABLE portfolio_store (date TEXT PRIMARY KEY, total_portfolio_value REAL,
            daily_return_vs_spy REAL, cumulative_alpha REAL);
        CREATE VIEW daily_prices AS SELECT * FROM prices_store;
        CREATE VIEW portfolio_v1_performance AS SELECT * FROM portfolio_store;
    """)
    return _filled(con, real_like_rows()[:300], "prices_store", "portfolio_store")


def write_imported_csv(path) -> dict[str, int]:
    """The plan's tables as the sqlite3 shell's `.import` of CSV files makes them when they do not exist yet:
    every column TEXT, every value text. The prices are the text of the CSV (the shortest text of a double,
    as Python or pandas writes it); the portfolio's REALs the TEXT columns themselves turn into text
    (SQLite's 15 significant digits). SQLite converts such text to a number only in a column of numeric
    type."""
    con = _fresh(path)
    con.executescript("""
        CREATE TABLE daily_prices ("ticker" TEXT, "date" TEXT, "raw_close" TEXT, "adj_close" TEXT, "volume" TEXT);
        CREATE TABLE portfolio_v1_performance ("date" TEXT, "total_portfolio_value" TEXT,
            "daily_return_vs_spy" TEXT, "cumulative_alpha" TEXT);
    """)
    return _filled(con, [tuple(str(value) for value in row) for row in real_like_rows()[:500]])


WRITERS_COLLATION = "writers_order"


def connect_as_writer(path) -> sqlite3.Connection:
    """The file as its own application opens it: with the collation it defines in its code."""
    con = sqlite3.connect(path)
    con.create_collation(WRITERS_COLLATION, lambda a, b: (a > b) - (a < b))
    return con


def write_writers_own_collation(path, *, under_views: bool = False) -> dict[str, int]:
    """Indexes in a collation the writing application defines (WRITERS_COLLATION): SQLite counts a table
    by its smallest index, which no other program can then read. `under_views`: the plan's tables are
    views over the indexed ones (write_views_in_place_of_tables)."""
    if under_views:
        write_views_in_place_of_tables(path)
        tables = ("prices_store", "portfolio_store")
    else:
        write_real_like(path)
        tables = TABLES
    con = connect_as_writer(path)
    with con:
        con.execute(f"CREATE INDEX prices_by_ticker ON {tables[0]} (ticker COLLATE {WRITERS_COLLATION})")
        con.execute(f"CREATE INDEX portfolio_by_date ON {tables[1]} (date COLLATE {WRITERS_COLLATION})")
    counts = _counts(con)
    con.close()
    return counts


def _filled(con, prices, prices_table="daily_prices", portfolio_table="portfolio_v1_performance") -> dict[str, int]:
    """`prices` and ten portfolio days written into the tables of those names; SQLite's counts of the plan's."""
    con.executemany(f"INSERT INTO {prices_table} VALUES (?, ?, ?, ?, ?)", prices)
    con.executemany(f"INSERT INTO {portfolio_table} VALUES (?, ?, ?, ?)", portfolio_rows(10))
    con.commit()
    counts = _counts(con)
    con.close()
    return counts
