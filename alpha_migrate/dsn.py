"""Parse a PostgreSQL connection string once, and never show its password.

Accepts what libpq accepts: a `postgresql://` URI or a `key=value` string, including a unix-socket
directory as `host`. The parsed parameters feed psycopg2, DuckDB's postgres extension and dbt's
profile (through the ALPHA_PG_* environment variables that profiles.example.yml reads).
"""

import re
from dataclasses import dataclass
from urllib.parse import quote

import psycopg2
from psycopg2.extensions import parse_dsn

from alpha_migrate.errors import MigrationError

MASK = "***"
DBT_ENV = {
    "host": "ALPHA_PG_HOST",
    "port": "ALPHA_PG_PORT",
    "user": "ALPHA_PG_USER",
    "password": "ALPHA_PG_PASSWORD",
    "dbname": "ALPHA_PG_DBNAME",
    "sslmode": "ALPHA_PG_SSLMODE",
    # The CA to check the server against (verify-ca, verify-full) and a client certificate: psycopg2 and
    # DuckDB take them from the DSN; without them dbt would look in ~/.postgresql/ and fail.
    "sslrootcert": "ALPHA_PG_SSLROOTCERT",
    "sslcert": "ALPHA_PG_SSLCERT",
    "sslkey": "ALPHA_PG_SSLKEY",
}


@dataclass(frozen=True)
class Target:
    params: dict[str, str]

    @classmethod
    def parse(cls, dsn: str) -> "Target":
        try:
            params = parse_dsn(dsn)
        except psycopg2.ProgrammingError as exc:
            # The parser's message can quote the string, password included.
            raise MigrationError(
                "the PostgreSQL connection string is not valid: use postgresql://user:pass@host:5432/db "
                "or 'host=... dbname=... user=...'"
            ) from exc
        return cls(params)

    @property
    def password(self) -> str:
        return self.params.get("password", "")

    def libpq(self) -> str:
        """`key=value` form with every value quoted, for psycopg2 and DuckDB's ATTACH."""

        def quoted(value: str) -> str:
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

        return " ".join(f"{key}={quoted(value)}" for key, value in self.params.items())

    def uri(self, show_password: bool = False) -> str:
        """A libpq URI; a socket-directory host goes into the query string, as libpq expects."""
        params = dict(self.params)
        user = quote(params.pop("user", ""), safe="")
        password = params.pop("password", None)
        host = params.pop("host", "")
        port = params.pop("port", None)
        dbname = quote(params.pop("dbname", ""), safe="")
        auth = user
        if password is not None:
            auth += ":" + (quote(password, safe="") if show_password else MASK)
        netloc = f"{auth}@" if auth else ""
        if host.startswith("/"):
            params = {"host": host, **({"port": port} if port else {}), **params}
        else:
            netloc += quote(host, safe="") + (f":{port}" if port else "")
        query = "&".join(f"{key}={quote(value, safe='/')}" for key, value in params.items())
        return f"postgresql://{netloc}/{dbname}" + (f"?{query}" if query else "")

    @property
    def masked(self) -> str:
        return self.uri(show_password=False)

    def redact(self, text: str) -> str:
        """Remove the password from any text (an error message, a log line) before it is shown."""
        return redact_secrets(text.replace(self.password, MASK) if self.password else text)

    def dbt_env(self, schema: str = "public") -> dict[str, str]:
        """Without a password, none is set: dbt's profile falls back to PGPASSWORD, then ~/.pgpass, as libpq
        does for psycopg2 and DuckDB."""
        env = {var: self.params[key] for key, var in DBT_ENV.items() if key in self.params}
        env["ALPHA_PG_SCHEMA"] = schema
        return env

    def without_password(self) -> tuple["Target", dict[str, str]]:
        """This target with its password moved into the environment (PGPASSWORD), for a child process:
        a command line is visible to every user of the machine."""
        params = {k: v for k, v in self.params.items() if k != "password"}
        return Target(params), ({"PGPASSWORD": self.password} if self.password else {})


# A password in a connection URI (`scheme://user:secret@`) or a key=value string (`password=secret`).
_URI_PASSWORD = re.compile(r"(\w+://[^:/@\s]*:)[^@\s]+(?=@)")
_KEY_VALUE_PASSWORD = re.compile(r"(\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact_secrets(text: str) -> str:
    """Mask whatever looks like a password in a connection string, for text from an unknown source (an
    unexpected error) where the password itself is not known."""
    text = _URI_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    return _KEY_VALUE_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
