"""A migration killed with SIGKILL part-way leaves the target as it was, and the next run completes."""

import datetime as dt
import os
import signal
import subprocess
import time

from scripts.demo_db import write_demo_database
from tests.conftest import DEMO_END, INVOKE, invoke, query

DIGEST = "select count(*), sum(hashtextextended(t::text, 0)) from {} t"


def digests(target):
    return [query(target, DIGEST.format(table)) for table in ("daily_prices", "portfolio_v1_performance")]


def test_sigkill_during_the_load_leaves_the_target_unchanged(fresh_db, demo_sqlite, tmp_path):
    assert invoke("migrate", "--sqlite", str(demo_sqlite), "--dsn", fresh_db.uri()).returncode == 0
    before = digests(fresh_db)
    changed = tmp_path / "changed.db"  # another seed: every price differs, so the load rewrites every row
    write_demo_database(changed, end=dt.date.fromisoformat(DEMO_END), seed=7)

    process = subprocess.Popen(
        [INVOKE, "migrate", "--sqlite", str(changed), "--dsn", fresh_db.uri()],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "START sql upserted_table model public.daily_prices" in line:
            os.killpg(process.pid, signal.SIGKILL)  # invoke and the dbt it runs, at once
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen)

    # The server ends the orphaned transaction when it notices the client is gone.
    deadline = time.monotonic() + 60
    others = "select count(*) from pg_stat_activity where datname = current_database() and pid != pg_backend_pid()"
    while query(fresh_db, others)[0][0] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert digests(fresh_db) == before

    result = invoke("migrate", "--sqlite", str(changed), "--dsn", fresh_db.uri())
    assert result.returncode == 0, result.stdout + result.stderr
    after = digests(fresh_db)
    assert after != before and after[0][0][0] == before[0][0][0]
