"""dbt's own process for a run's dbt calls (alpha_migrate/dbt_worker.py): one per run unless kept, gone with
the run, and a crash of it is one line."""

import pytest

from alpha_migrate import dbt_worker
from alpha_migrate.dbt_worker import KEEP_VARIABLE, DbtWorker
from alpha_migrate.errors import MigrationError


def ls(worker: DbtWorker) -> list[str]:
    lines: list[str] = []
    worker.run(["ls", "--resource-type", "model", "--output", "name"], {}, lines.append, lines.append)
    return lines


def test_a_run_ends_its_worker_at_close_unless_kept(fresh_db, monkeypatch):
    monkeypatch.delenv(KEEP_VARIABLE)
    with DbtWorker(fresh_db) as worker:
        assert any("stg_daily_prices" in line for line in ls(worker))
        process = worker._process
        assert any("daily_prices" in line for line in ls(worker))
        assert worker._process is process  # one process for all of a run's calls
    assert process.poll() is not None and worker._key not in dbt_worker._kept

    monkeypatch.setenv(KEEP_VARIABLE, "1")
    with DbtWorker(fresh_db) as first:
        ls(first)
        kept = first._process
    assert kept.poll() is None
    with DbtWorker(fresh_db) as second:
        ls(second)
        assert second._process is kept  # dbt's import and parse served the next run too
    dbt_worker._end_kept()
    assert kept.poll() is not None and not dbt_worker._kept


def test_a_worker_that_dies_is_one_line_and_not_kept(fresh_db):
    with DbtWorker(fresh_db) as worker:
        ls(worker)
        worker._process.kill()
        worker._process.wait()
        with pytest.raises(MigrationError, match=r"^dbt stopped unexpectedly: "):
            ls(worker)
    assert worker._key not in dbt_worker._kept


def test_leaving_a_call_midway_ends_the_worker_first(fresh_db):
    """A console that fails while dbt's lines come in: dbt must not go on behind the run's back."""

    def failing(line: str) -> None:
        raise OSError("the console went away")

    with DbtWorker(fresh_db) as worker:
        with pytest.raises(OSError):
            worker.run(["ls", "--resource-type", "model", "--output", "name"], {}, failing, failing)
        assert worker._process.poll() is not None


def test_a_worker_given_ctrl_c_is_not_kept(fresh_db):
    """Ctrl-C while its lines are echoed reaches the worker, the call ends as interrupted, and the worker
    is not kept for the next run even where workers are kept."""
    pressed = []

    def interrupted_once(line: str) -> None:
        if not pressed:
            pressed.append(line)
            raise KeyboardInterrupt

    with DbtWorker(fresh_db) as worker:
        with pytest.raises(KeyboardInterrupt):
            worker.run(["ls", "--resource-type", "model", "--output", "name"], {}, interrupted_once, print)
        process = worker._process
    assert process.poll() is not None and worker._key not in dbt_worker._kept


def test_a_prepared_parse_is_answered_before_the_next_call(fresh_db):
    """`prepare` does not wait; the next call reads its answer first, so each call gets its own lines."""
    with DbtWorker(fresh_db) as worker:
        worker.prepare(["--vars", "{}"], {})
        assert any("stg_daily_prices" in line for line in ls(worker))
        assert any("stg_daily_prices" in line for line in ls(worker))


def test_a_failed_prepared_parse_stops_the_next_call(fresh_db):
    with DbtWorker(fresh_db) as worker:
        worker.prepare(["--vars", "{not yaml"], {})
        with pytest.raises(MigrationError, match=r"^dbt parse failed: "):
            ls(worker)


def test_a_worker_left_parsing_is_ended_not_kept(fresh_db, monkeypatch):
    """A run that fails before its first dbt call (say, in the extract) leaves its worker parsing."""
    monkeypatch.setenv(KEEP_VARIABLE, "1")
    with DbtWorker(fresh_db) as worker:
        worker.prepare(["--vars", "{}"], {})
        process = worker._process
    assert process.poll() is not None and worker._key not in dbt_worker._kept
