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
ticker's whole history, `history(con, ticker)`: its dates and prices through COPY, as fast as SQLite.
"""

import io
import os

import psycopg2
import psycopg2.pool
from psycopg2 import sql
from psycopg2.extensions import FLOAT, new_type, register_type

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


def history(con, ticker: str, table: str = "daily_prices") -> tuple[list[str], list[float | None]]:
    """One ticker's adj_close by date, oldest first: ISO dates (as SQLite gives them) and floats, None for
    NULL. COPY sends the rows as one text stream, split here at once instead of converted row by row."""
    out = io.StringIO()
    with con.cursor() as cur:
        cur.copy_expert(
            sql.SQL("copy (select date, adj_close from {} where ticker = {} order by date) to stdout").format(
                sql.Identifier(table), sql.Literal(ticker)
            ),
            out,
        )
    fields = out.getvalue().replace("\n", "\t").split("\t")  # date, price, date, price, ..., ""
    return fields[0:-1:2], [None if price == "\\N" else float(price) for price in fields[1::2]]


def pool(role: str | None = None, minconn: int = 1, maxconn: int = 5) -> psycopg2.pool.ThreadedConnectionPool:
    return psycopg2.pool.ThreadedConnectionPool(minconn, maxconn, client_target(role).libpq())
