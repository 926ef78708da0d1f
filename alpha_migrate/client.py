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
ticker's whole history, `history(con, ticker)`: its dates and prices in one row, as fast as SQLite.
"""

import hashlib
import os
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


# Per connection object, a lock for threads that share it and the statements history() has prepared on
# its session.
_SESSIONS: "weakref.WeakKeyDictionary[object, tuple[threading.Lock, set[str]]]" = weakref.WeakKeyDictionary()


def history(con, ticker: str, table: str = "daily_prices") -> tuple[list[str], list[float | None]]:
    """One ticker's adj_close by date, oldest first: ISO dates (as SQLite gives them) and floats, None for
    NULL. The server joins the dates, and the prices, into one string each, in the order of the ticker's
    index; they are split here at once instead of converted row by row. The statement is prepared once
    per session, so a read is not planned again over every partition (1.2 ms at 5 million rows). After a
    session reset (DISCARD ALL) it is prepared again, unless the call runs inside a transaction the
    caller opened, which it cannot roll back: that call fails and the next prepares it. A pooler in
    transaction mode may run the two statements in different sessions: read through a session of your own."""
    # A date's text is ISO under the session's DateStyle ISO (libpq knows it without asking); to_char,
    # for any other, costs 3 ms more at 8,335 rows.
    iso = (con.get_parameter_status("DateStyle") or "").startswith("ISO")
    # Named by a digest of the table's name: PostgreSQL cuts names at 63 bytes.
    name = f"alpha_history_{hashlib.sha1(table.encode()).hexdigest()[:12]}" + ("" if iso else "_to_char")
    day = sql.SQL("date::text" if iso else "to_char(date, 'YYYY-MM-DD')")
    statement = sql.SQL(
        "prepare {} (text) as select string_agg({}, ',' order by date),"
        " string_agg(coalesce(adj_close::text, ''), ',' order by date) from {} where ticker = $1"
    ).format(sql.Identifier(name), day, sql.Identifier(*table.split(".")))
    lock, prepared = _SESSIONS.setdefault(con, (threading.Lock(), set()))
    own_transaction = con.autocommit or con.get_transaction_status() == TRANSACTION_STATUS_IDLE
    with lock, con.cursor() as cur:
        for last_try in (False, True):
            if name not in prepared:
                _prepare(cur, name, statement)
                prepared.add(name)
            try:
                cur.execute(sql.SQL("execute {} (%s)").format(sql.Identifier(name)), (ticker,))
                break
            except psycopg2.errors.InvalidSqlStatementName:
                prepared.discard(name)
                if last_try or not own_transaction:
                    raise
                if not con.autocommit:
                    con.rollback()  # the transaction this call opened, aborted by the failed EXECUTE
        dates, prices = cur.fetchone()
    return split_history(dates, prices)


def _prepare(cur, name: str, statement: sql.Composed) -> None:
    """PREPARE `statement` unless the session has `name` already: a pool may hand the same session out
    behind a new connection object."""
    cur.execute("select from pg_prepared_statements where name = %s", (name,))
    if cur.fetchone() is None:
        cur.execute(statement)


def split_history(dates: str | None, prices: str | None) -> tuple[list[str], list[float | None]]:
    """The joined dates and prices (None when the ticker has no row) as lists; an empty price is NULL."""
    if dates is None:
        return [], []
    return dates.split(","), [float(price) if price else None for price in prices.split(",")]


def pool(role: str | None = None, minconn: int = 1, maxconn: int = 5) -> psycopg2.pool.ThreadedConnectionPool:
    return psycopg2.pool.ThreadedConnectionPool(minconn, maxconn, client_target(role).libpq())
