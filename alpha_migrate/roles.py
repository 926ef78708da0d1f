"""Least-privilege roles for the clients of the migrated database.

    alpha_reader  the Dashboard and the Backtester: SELECT on every table in public, present and future
    alpha_bot     the trading Bot: SELECT, INSERT, UPDATE on the two tables; no DELETE, TRUNCATE or DROP
                  (it owns nothing, so it cannot drop or alter)

Roles belong to the server, grants to the database. Each role's password comes from the environment
(ALPHA_READER_PASSWORD, ALPHA_BOT_PASSWORD), never from a file in the repository; without one the role
is created, or kept, without a password (enough on the embedded server, which trusts local sockets).
The migration itself runs as the role of its DSN, which owns the tables it created.
"""

import os
from dataclasses import dataclass

from psycopg2 import sql

from alpha_migrate import target_db
from alpha_migrate.dsn import Target


@dataclass(frozen=True)
class ClientRole:
    name: str
    password_env: str
    grants: tuple[str, ...]


TABLES = "public.daily_prices, public.portfolio_v1_performance"
CLIENT_ROLES = (
    ClientRole(
        "alpha_reader",
        "ALPHA_READER_PASSWORD",
        (
            "grant usage on schema public to {role}",
            "grant select on all tables in schema public to {role}",
            "alter default privileges in schema public grant select on tables to {role}",
        ),
    ),
    ClientRole(
        "alpha_bot",
        "ALPHA_BOT_PASSWORD",
        ("grant usage on schema public to {role}", f"grant select, insert, update on {TABLES} to {{role}}"),
    ),
)


def ensure_roles(target: Target) -> list[str]:
    """Create or update the client roles and their grants; returns one line per role."""
    lines = []
    with target_db.connect(target) as con, con.cursor() as cur:
        target_db.require_migrated(con, target)
        for role in CLIENT_ROLES:
            name = sql.Identifier(role.name)
            cur.execute("select 1 from pg_roles where rolname = %s", (role.name,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("create role {} login").format(name))
            password = os.environ.get(role.password_env)
            if password:
                cur.execute(sql.SQL("alter role {} password %s").format(name), (password,))
            for grant in role.grants:
                cur.execute(sql.SQL(grant).format(role=name))
            lines.append(f"{role.name}: {'password from ' + role.password_env if password else 'no password set'}")
    return lines
