"""`invoke bench` end to end at toy sizes: every measurement present and sane, the reports written.
(The figures themselves are for docs/performance.md, from real sizes; no test times anything.)"""

import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest

from alpha_migrate.bench.run import BENCH_DIR
from alpha_migrate.dsn import Target
from tests.conftest import invoke, password_required

PASSWORD = "bench-secret-51c2"


@pytest.fixture
def bench_role(admin_target):
    """A role that must give its password (as on a cloud server); the password comes from the
    environment, as docs/operator.md asks, and reaches every child process of the bench."""
    con = psycopg2.connect(admin_target.libpq())
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f"create role alpha_bench superuser login password '{PASSWORD}'")
    with password_required(admin_target, "alpha_bench"):
        yield Target({**admin_target.params, "user": "alpha_bench"})
    with con.cursor() as cur:
        # What the bench made is the role's: its database first, then the role.
        cur.execute("drop database if exists alpha_bench with (force)")
        cur.execute("drop role alpha_bench")
    con.close()


def test_bench_measures_every_method_and_writes_its_reports(bench_role):
    result = invoke(
        *("bench", "--sizes", "3000,6000", "--repeats", "1", "--pandas-rows", "3000", "--dsn", bench_role.uri()),
        env={"ALPHA_PG_PASSWORD": PASSWORD},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    written = re.search(r"written: (\S+\.md) and (\S+\.json)", result.stdout)
    assert PASSWORD not in result.stdout + result.stderr
    assert not any(PASSWORD in Path(path).read_text() for path in written.groups())
    report = json.loads(Path(written.group(2)).read_text())
    small, big = report["sizes"]["3000"], report["sizes"]["6000"]
    assert small["migrate"]["sync"]["inserted"] == 3000 and big["migrate"]["sync"]["inserted"] == 6000
    # Three consecutive days, each adding one row per ticker; the tables show the median day.
    assert [day["sync"] for day in small["daily_syncs"]] == [
        {"inserted": 600, "updated": 0, "unchanged": unchanged, "deleted": 0} for unchanged in (3000, 3600, 4200)
    ]
    assert small["daily_sync"] in small["daily_syncs"]
    assert not list(BENCH_DIR.glob("*-day-*.db"))  # each a whole copy of its source
    assert set(small["limit"]["index_build"]) == {"primary key", "idx ticker, date desc", "idx date (extension)"}
    assert small["limit"]["limit"] > 0 and small["limit"]["copy_with_keys"] > 0
    # The floor of the project's shape loads every source row, as SQLite counts them.
    for rows, size in ((3000, small), (6000, big)):
        with closing(sqlite3.connect(BENCH_DIR / f"synthetic-{rows}.db")) as source:
            assert size["floor"]["rows"] == source.execute("select count(*) from daily_prices").fetchone()[0]
    assert small["floor"]["seconds"] == pytest.approx(
        small["floor"]["raw_copy"] + small["floor"]["typed_insert"] + small["floor"]["keys"]
    )
    assert small["pandas"]["rows"] == 3000 and small["pandas"]["seconds"] > 0 and "pandas" not in big
    assert (small["duckdb"]["rows"], big["duckdb"]["rows"]) == (3000, 6000), (small["duckdb"], big["duckdb"])
    assert 0 < small["migrate"]["peak_rss_mb"] < 1000
    last_30 = small["queries"]["last 30 days, max(date) subquery"]
    assert "idx_daily_prices_date" in last_30["indexes_used"]
    assert all(q["sqlite_ms"] >= 0 and q["partitioned_ms"] > 0 for q in small["queries"].values())
    # One ticker's history three ways at each size: Decimal (fetchall), the float caster, client.history.
    histories = (
        "one ticker's history",
        "one ticker's history, NUMERIC as float",
        "one ticker's history, floats in one row (client.history)",
    )
    for size in (small, big):
        assert all(size["queries"][name]["partitioned_ms"] > 0 for name in histories)
    markdown = Path(written.group(1)).read_text()
    assert "(the limit)" in markdown and "(its floor)" in markdown and "daily sync" in markdown
    assert "Queries at 6,000 rows" in markdown
    assert "The median daily sync at 6,000 rows takes" in markdown
    assert markdown.count("| one ticker's history, floats in one row (client.history) |") == 2
