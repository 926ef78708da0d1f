from alpha_migrate.errors import first_line


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
