"""How the Dashboard, the Bot and the Backtester connect: the plan's "connection string for config.py".

    from alpha_migrate.client import connect, pool
    with connect(role="alpha_reader") as con: ...          # the Dashboard, the Backtester
    bot_pool = pool(role="alpha_bot", maxconn=4)           # the Bot

The server comes from DATABASE_URL, else ALPHA_PG_DSN, else the embedded PostgreSQL 16 when it runs.
`role` replaces the DSN's user, with that role's password from ALPHA_<ROLE>_PASSWORD (ALPHA_BOT_PASSWORD
for alpha_bot). A remote host (Supabase, Neon, any cloud) gets sslmode=require unless the DSN says
otherwise; a unix socket or localhost keeps libpq's default.
"""

import os

import psycopg2
import psycopg2.pool

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


def connect(role: str | None = None, **kwargs) -> "psycopg2.extensions.connection":
    return psycopg2.connect(client_target(role).libpq(), **kwargs)


def pool(role: str | None = None, minconn: int = 1, maxconn: int = 5) -> psycopg2.pool.ThreadedConnectionPool:
    return psycopg2.pool.ThreadedConnectionPool(minconn, maxconn, client_target(role).libpq())
