"""How the Dashboard, the Bot and the Backtester connect: the plan's "connection string for config.py".

    from alpha_migrate.client import connect, pool
    with connect(role="alpha_reader") as con: ...          # the Dashboard, the Backtester
    bot_pool = pool(role="alpha_bot", maxconn=4)           # the Bot

The server comes from DATABASE_URL, else ALPHA_PG_DSN, else the embedded PostgreSQL 16 when it runs.
`role` replaces the DSN's user, with that role's password from ALPHA_<ROLE>_PASSWORD (ALPHA_BOT_PASSWORD
for alpha_bot). A remote host (Supabase, Neon, any cloud) gets sslmode=require unless the DSN says
otherwise; a unix socket or localhost keeps libpq's default.

Prices are NUMERIC, which psycopg2 returns as Decimal, one object per value. A client that computes in
floats can have them as floats: `connect(..., numeric_as_float=True)` (that connection only), or, for one
ticker's whole history, `history(con, ticker)`: its dates and prices packed in one row, about as fast as
SQLite reads them (docs/performance.md).
"""

import array
import datetime
import functools
import hashlib
import os
import sys
import threading
import weakref

import psycopg2
import psycopg2.errors
import psycopg2.pool
from psycopg2 import sql
from psycopg2.extensions import FLOAT, TRANSACTION_STATUS_IDLE, new_type, register_type

from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError

LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")


def client_target(role: str | None = None) -> Target:
    dsn = os.environ.get("DATABASE_URL") or os.environ.get("ALPHA_PG_DSN")
    if dsn:
        target = Target.parse(dsn)
    else:
        from alpha_migrate import embedded

        state = embedded.status()
        if not state.running:
            raise MigrationError("set DATABASE_URL (or ALPHA_PG_DSN), or start the embedded server: invoke db.start")
        target = embedded.target(state.socket_dir)
    params = dict(target.params)
    if role:
        params["user"] = role
        params.pop("password", None)
        password = os.environ.get(f"ALPHA_{role.removeprefix('alpha_').upper()}_PASSWORD")
        if password:
            params["password"] = password
    host = params.get("host", "")
    if "sslmode" not in params and not host.startswith("/") and host not in LOCAL_HOSTS:
        params["sslmode"] = "require"
    return Target(params)


def connect(role: str | None = None, numeric_as_float: bool = False, **kwargs) -> "psycopg2.extensions.connection":
    con = psycopg2.connect(client_target(role).libpq(), **kwargs)
    return as_float(con) if numeric_as_float else con


# psycopg2's own float parser, given NUMERIC's oid: NULL stays None, NaN becomes nan.
NUMERIC_FLOAT = new_type((1700,), "NUMERIC_FLOAT", FLOAT)


def as_float(con: "psycopg2.extensions.connection") -> "psycopg2.extensions.connection":
    """NUMERIC as float on this connection only (other connections keep Decimal)."""
    register_type(NUMERIC_FLOAT, con)
    return con


_SESSIONS: "weakref.WeakKeyDictionary[object, _Session]" = weakref.WeakKeyDictionary()

# A date as its day number from 2000-01-01, PostgreSQL's own epoch, so that the server sends four bytes
# instead of printing it; ±infinity, which cannot be subtracted, as the int4 ends (no finite date's
# number reaches them).
_DAY = "case when isfinite(date) then date - date '2000-01-01' when date > 'epoch' then 2147483647 else -2147483648 end"
_EPOCH = datetime.date(2000, 1, 1).toordinal()
# ISO text by day number, for the packed days not kept below.
_ISO_DAYS: dict[int, str] = {}
# A NULL price, packed: a NaN with a payload, which no float8 from PostgreSQL has (its NaN is the
# canonical one), so that a NULL keeps its place among its ticker's prices whatever their dates.
_NULL_PRICE = bytes.fromhex("7ff8dead0000beef")
_NULL_PRICE_BITS = int.from_bytes(_NULL_PRICE, "big", signed=True)


def history(con, ticker: str, table: str = "daily_prices") -> tuple[list[str], list[float | None]]:
    """One ticker's adj_close by date, oldest first: ISO dates (as SQLite gives them) and floats, None for
    NULL; `table` has the plan's columns ticker, date (DATE) and adj_close (NUMERIC). The server packs
    the day numbers, and the prices as float8, into one binary string each, in the order of the ticker's
    index, and the client unpacks them at once: printing and parsing every price took more than the read
    itself. A date Python's `date` cannot hold (BC, after 9999, ±infinity) makes the call read the dates
    as the server prints them. The statements are prepared once per session, so a read is not planned
    again over every partition (1.2 ms at 5 million rows). After a session reset (DISCARD ALL) a
    statement is prepared again, unless the call runs inside a transaction the caller opened, which it
    cannot roll back: that call fails and the next prepares it. A pooler in transaction mode may run the
    two statements in different sessions: read through a session of your own."""
    # Both reads may roll back, to prepare again, only a transaction this call opened itself.
    own_transaction = con.autocommit or con.get_transaction_status() == TRANSACTION_STATUS_IDLE
    days, prices, nulls = _read(
        con,
        own_transaction,
        table,
        "select string_agg(int4send({day}), ''::bytea order by date),"
        " string_agg(coalesce(float8send(adj_close::float8), {null}), ''::bytea order by date),"
        " count(*) - count(adj_close) from {table} where ticker = $1",
        ticker,
        day=_DAY,
        null=f"decode('{_NULL_PRICE.hex()}', 'hex')",
    )
    if days is None:
        return [], []
    try:
        dates = list(_iso_dates(bytes(days)))
    except (ValueError, OverflowError):
        return _printed_history(con, own_transaction, ticker, table)
    floats = _unpack("d", prices).tolist()
    if nulls:
        bits = _unpack("q", prices)
        floats = [None if bit == _NULL_PRICE_BITS else price for bit, price in zip(bits, floats, strict=True)]
    return dates, floats


def _unpack(code: str, packed: bytes) -> array.array:
    """A string of big-endian values, as PostgreSQL's send functions write them, as an array."""
    values = array.array(code)
    values.frombytes(packed)
    if sys.byteorder == "little":
        values.byteswap()
    return values


# Tickers share their trading days, so the same packed days come again and again: the dates of the last
# 16 are kept (looking each day up took 0.4 ms a call at 8,337 days).
@functools.lru_cache(maxsize=16)
def _iso_dates(packed_days: bytes) -> tuple[str, ...]:
    day_numbers = _unpack("i", packed_days)
    try:
        return tuple(map(_ISO_DAYS.__getitem__, day_numbers))
    except KeyError:
        for day in set(day_numbers).difference(_ISO_DAYS):
            _ISO_DAYS[day] = datetime.date.fromordinal(_EPOCH + day).isoformat()
        return tuple(map(_ISO_DAYS.__getitem__, day_numbers))


def _printed_history(con, own_transaction: bool, ticker: str, table: str) -> tuple[list, list[float | None]]:
    """history() with every date and price printed by the server, for dates Python cannot hold; a NULL
    date is None."""
    # A date's text is ISO under the session's DateStyle ISO (libpq knows it without asking); under any
    # other, to_char prints it so, but for the era of a BC date and for ±infinity.
    iso = (con.get_parameter_status("DateStyle") or "").startswith("ISO")
    other_style = (
        "case when not isfinite(date) then date::text"
        " when date < date '0001-01-01' then to_char(date, 'YYYY-MM-DD') || ' BC'"
        " else to_char(date, 'YYYY-MM-DD') end"
    )
    dates, prices = _read(
        con,
        own_transaction,
        table,
        "select string_agg(coalesce({day}, ''), ',' order by date),"
        " string_agg(coalesce(adj_close::text, ''), ',' order by date) from {table} where ticker = $1",
        ticker,
        day="date::text" if iso else other_style,
    )
    return split_history(dates, prices)


class _Session:
    """What history() keeps per connection object: a lock for threads that share it, the names it has
    prepared on the session, and its statements' text by what they read (composed once: composing and
    naming them took about 0.2 ms a call)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.prepared: set[str] = set()
        self.statements: dict[tuple, tuple[str, str, str]] = {}


def _read(con, own_transaction: bool, table: str, text: str, ticker: str, **parts: str) -> tuple:
    """The one row of `text` (its `{table}`, and its other fields with the SQL in `parts`) for `ticker`,
    through a statement prepared once per session."""
    session = _SESSIONS.setdefault(con, _Session())
    key = (table, text, *parts.values())
    if key not in session.statements:
        fields = {field: sql.SQL(part) for field, part in parts.items()}
        statement = sql.SQL(text).format(table=sql.Identifier(*table.split(".")), **fields).as_string(con)
        # Named by a digest of the statement: PostgreSQL cuts names at 63 bytes.
        name = "alpha_history_" + hashlib.sha1(statement.encode()).hexdigest()[:12]
        session.statements[key] = (name, f"prepare {name} (text) as {statement}", f"execute {name} (%s)")
    name, prepare, execute = session.statements[key]
    with session.lock, con.cursor() as cur:
        for last_try in (False, True):
            if name not in session.prepared:
                _prepare(cur, name, prepare)
                session.prepared.add(name)
            try:
                cur.execute(execute, (ticker,))
                break
            except psycopg2.errors.InvalidSqlStatementName:
                session.prepared.discard(name)
                if last_try or not own_transaction:
                    raise
                if not con.autocommit:
                    con.rollback()  # the transaction history() opened, aborted by the failed EXECUTE
        return cur.fetchone()


def _prepare(cur, name: str, statement: str) -> None:
    """PREPARE `statement` unless the session has `name` already: a pool may hand the same session out
    behind a new connection object."""
    cur.execute("select from pg_prepared_statements where name = %s", (name,))
    if cur.fetchone() is None:
        cur.execute(statement)


def split_history(dates: str | None, prices: str | None) -> tuple[list[str | None], list[float | None]]:
    """The joined dates and prices (None when the ticker has no row) as lists; an empty one is NULL."""
    if dates is None:
        return [], []
    return [day or None for day in dates.split(",")], [float(price) if price else None for price in prices.split(",")]


def pool(role: str | None = None, minconn: int = 1, maxconn: int = 5) -> psycopg2.pool.ThreadedConnectionPool:
    return psycopg2.pool.ThreadedConnectionPool(minconn, maxconn, client_target(role).libpq())
