"""Least-privilege roles for the clients of the migrated database.

    alpha_reader  the Dashboard and the Backtester: SELECT on every table in public, present and future
    alpha_bot     the trading Bot: SELECT, INSERT, UPDATE on the two tables; no DELETE, TRUNCATE or DROP
                  (it owns nothing, so it cannot drop or alter)
    alpha_migrator  `invoke migrate` after the cut-over: owns the tables, their partitions and the
                  staging and reference schemas, so it can sync, create partitions and build indexes;
                  not a superuser, cannot create roles or databases

Roles belong to the server, grants to the database. Each role's password comes from the environment
(ALPHA_READER_PASSWORD, ALPHA_BOT_PASSWORD, ALPHA_MIGRATOR_PASSWORD), never from a file in the
repository; without one the role is created, or kept, without a password (enough on the embedded
server, which trusts local sockets).
Creating them needs a role with CREATEROLE (the embedded server's postgres, or a cloud admin).
"""

import os
from dataclasses import dataclass

from psycopg2 import sql
from psycopg2.extensions import encrypt_password

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
    ClientRole(
        "alpha_migrator",
        "ALPHA_MIGRATOR_PASSWORD",
        (
            "grant create on schema public to {role}",
            # The tables it creates later (partitions are read through their parent) stay readable.
            "alter default privileges for role {role} in schema public grant select on tables to alpha_reader",
        ),
    ),
)
OWNED_SCHEMAS = ("staging", "reference")


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
                # Hashed here (SCRAM, as libpq's PQencryptPasswordConn does): a server that logs its
                # statements (log_statement = ddl or all) logs the hash, never the password.
                hashed = encrypt_password(password, role.name, con, "scram-sha-256")
                cur.execute(sql.SQL("alter role {} password %s").format(name), (hashed,))
            for grant in role.grants:
                cur.execute(sql.SQL(grant).format(role=name))
            lines.append(f"{role.name}: {'password from ' + role.password_env if password else 'no password set'}")
        hand_over(cur, "alpha_migrator")
    return lines


def hand_over(cur, owner: str) -> None:
    """Make `owner` own what `invoke migrate` writes: the tables with every partition, the schemas dbt
    rebuilds, and their functions. Ownership is per relation, so each partition is handed over on its own."""
    cur.execute("select current_database()")
    cur.execute(
        sql.SQL("grant create on database {} to {}").format(sql.Identifier(cur.fetchone()[0]), sql.Identifier(owner))
    )
    for schema in OWNED_SCHEMAS:
        cur.execute(sql.SQL("alter schema {} owner to {}").format(sql.Identifier(schema), sql.Identifier(owner)))
    cur.execute(
        """select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where c.relkind in ('r', 'p', 'v') and (n.nspname = any(%s) or (n.nspname = 'public'
             and (c.relname = any(%s) or c.oid in (select inhrelid from pg_inherits))))""",
        (list(OWNED_SCHEMAS), list(target_db.TARGET_TABLES)),
    )
    for schema, table in cur.fetchall():
        cur.execute(
            sql.SQL("alter table {}.{} owner to {}").format(
                sql.Identifier(schema), sql.Identifier(table), sql.Identifier(owner)
            )
        )
    # The staging write log's trigger function, which each run replaces (alpha_migrate/raw_writes.py).
    cur.execute(
        """select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
           where n.nspname = any(%s)""",
        (list(OWNED_SCHEMAS),),
    )
    for (function,) in cur.fetchall():
        cur.execute(sql.SQL("alter function {} owner to {}").format(sql.SQL(function), sql.Identifier(owner)))
