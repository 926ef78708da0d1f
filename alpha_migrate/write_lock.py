"""One lock for every writer of a target database.

`invoke migrate` (through verify and roles), `invoke partitions` and `invoke roles` hold it, as a session
advisory lock, for their whole run. A dbt run on the production target takes it (as a transaction lock)
at its start and in every transaction that writes (macros/locks/write_lock.sql), unless the command that
started dbt holds it already and says so in ALPHA_WRITE_LOCK_HELD. A second writer waits a bounded time
(ALPHA_LOCK_WAIT_SECONDS, default 60), then stops with one line naming the holder.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.errors

from alpha_migrate import target_db
from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError

# The key macros/write_lock.sql takes too: 'ALPHA' in ASCII.
WRITE_LOCK_KEY = 0x414C504841
WAIT_VARIABLE = "ALPHA_LOCK_WAIT_SECONDS"
HELD_VARIABLE = "ALPHA_WRITE_LOCK_HELD"
DEFAULT_WAIT_SECONDS = 60

# Who holds the key, from the server's own view: an advisory lock on a bigint key is classid (high 32
# bits) and objid (low 32 bits).
HOLDER_SQL = """
select format('%%s (user %%s, pid %%s, since %%s)', coalesce(nullif(a.application_name, ''), 'a client'),
              a.usename, a.pid, to_char(coalesce(a.xact_start, a.backend_start), 'YYYY-MM-DD HH24:MI:SS TZ'))
from pg_locks l join pg_stat_activity a on a.pid = l.pid
where l.locktype = 'advisory' and l.granted
  and l.database = (select oid from pg_database where datname = current_database())
  and (l.classid::bigint << 32 | l.objid::bigint) = %(key)s
limit 1
"""


def wait_seconds() -> int:
    value = os.environ.get(WAIT_VARIABLE, str(DEFAULT_WAIT_SECONDS))
    if not value.isdigit():
        raise MigrationError(f"{WAIT_VARIABLE} must be a whole number of seconds, not {value!r}")
    return int(value)


def holder(con) -> str:
    with con.cursor() as cur:
        cur.execute(HOLDER_SQL, {"key": WRITE_LOCK_KEY})
        row = cur.fetchone()
    return row[0] if row else "a writer that has just finished"


@contextmanager
def write_lock(target: Target, command: str) -> Iterator[dict[str, str]]:
    """Hold the target's write lock while the block runs; yields the environment that tells the dbt runs
    started inside that their command holds it."""
    wait = wait_seconds()
    with target_db.connect(target, application_name=f"alpha {command}") as con:
        with con.cursor() as cur:
            # 0 would mean no limit to PostgreSQL: it means "do not wait" here.
            cur.execute("set lock_timeout = %s", (f"{max(wait * 1000, 1)}ms",))
            try:
                cur.execute("select pg_advisory_lock(%s)", (WRITE_LOCK_KEY,))
            except psycopg2.errors.LockNotAvailable:
                raise MigrationError(
                    f"another writer holds the write lock of {target.masked}: {holder(con)}; waited {wait} s "
                    f"({WAIT_VARIABLE}); run `{command}` again when it has finished"
                ) from None
            cur.execute("reset lock_timeout")
        # Released when the connection closes, however the block ends (a dead server included).
        yield {HELD_VARIABLE: "1"}
