import pytest

from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError

SECRET = "s3cr3t'pw"


def test_uri_and_key_value_forms_give_the_same_parameters():
    uri = Target.parse("postgresql://alpha:s3cr3t%27pw@db.example.com:6543/prices?sslmode=require")
    kv = Target.parse("host=db.example.com port=6543 dbname=prices user=alpha password='s3cr3t\\'pw' sslmode=require")
    assert uri.params == kv.params
    assert uri.params["password"] == SECRET
    assert uri.params["sslmode"] == "require"


def test_masked_uri_hides_the_password_and_keeps_the_rest():
    target = Target.parse("host=db.example.com port=6543 dbname=prices user=alpha password='s3cr3t\\'pw'")
    assert target.masked == "postgresql://alpha:***@db.example.com:6543/prices"
    assert SECRET not in target.masked
    assert Target.parse(target.libpq()).params == target.params


def test_unix_socket_host_goes_into_the_query_string():
    target = Target.parse("host=/tmp/alpha port=5432 user=postgres dbname=project_alpha")
    assert target.uri() == "postgresql://postgres@/project_alpha?host=/tmp/alpha&port=5432"
    assert Target.parse(target.uri()).params == target.params


def test_redact_removes_the_password_from_any_text():
    target = Target.parse(f"postgresql://alpha:{SECRET}@h/db")
    assert target.redact(f"could not connect with {SECRET} to h") == "could not connect with *** to h"


def test_dbt_environment_carries_connection_and_sslmode():
    env = Target.parse("postgresql://alpha:pw@db.example.com:6543/prices?sslmode=verify-full").dbt_env()
    assert env == {
        "ALPHA_PG_HOST": "db.example.com",
        "ALPHA_PG_PORT": "6543",
        "ALPHA_PG_USER": "alpha",
        "ALPHA_PG_PASSWORD": "pw",
        "ALPHA_PG_DBNAME": "prices",
        "ALPHA_PG_SSLMODE": "verify-full",
        "ALPHA_PG_SCHEMA": "public",
    }


def test_invalid_connection_string_is_a_clear_error_without_the_password():
    with pytest.raises(MigrationError) as caught:
        Target.parse("host=h password=hunter2 this-is-not-a-pair")
    assert "hunter2" not in str(caught.value)
    assert "connection string is not valid" in str(caught.value)
