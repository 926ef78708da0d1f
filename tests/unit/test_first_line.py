import pytest
from invoke.exceptions import Exit

from alpha_migrate.cli import guarded
from alpha_migrate.errors import MigrationError, first_line


def test_an_exception_without_text_is_named_by_its_type():
    assert first_line(ValueError()) == "ValueError"
    assert first_line(ValueError("\n  \n")) == "ValueError"


def test_an_exception_with_text_gives_its_first_line():
    assert first_line(ValueError("Database Error\n  relation does not exist")) == "Database Error"


def test_a_statement_duckdb_ran_in_postgresql_gives_postgresqls_error():
    error = RuntimeError(
        'Failed to execute query "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ;\ncreate or replace '
        'function staging.f() returns trigger": ERROR:  must be owner of function f\nHINT:  none\n'
    )
    assert first_line(error) == "PostgreSQL: must be owner of function f"


def test_a_statement_timeout_of_the_targets_gets_what_to_do(capsys):
    """However PostgreSQL's reason reached the run (here DuckDB's COPY), the line says which setting to lift."""

    def extract():
        raise MigrationError(
            "extract failed: Failed to copy data: ERROR:  canceling statement due to statement timeout"
        )

    with pytest.raises(Exit):
        guarded(extract)
    line = capsys.readouterr().err.strip()
    assert line.startswith("error: extract failed: ") and "PGOPTIONS='-c statement_timeout=0'" in line
    assert len(line.splitlines()) == 1
