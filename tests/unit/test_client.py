import pytest

from alpha_migrate.client import client_target, split_history


@pytest.fixture
def env(monkeypatch):
    for name in ("DATABASE_URL", "ALPHA_PG_DSN", "ALPHA_BOT_PASSWORD", "ALPHA_READER_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_cloud_host_gets_sslmode_require(env):
    env.setenv("DATABASE_URL", "postgresql://app@db.example.supabase.co:5432/postgres")
    assert client_target().params["sslmode"] == "require"


def test_an_explicit_sslmode_and_local_hosts_are_kept(env):
    env.setenv("DATABASE_URL", "postgresql://app@db.example.com/prices?sslmode=verify-full")
    assert client_target().params["sslmode"] == "verify-full"
    env.setenv("DATABASE_URL", "postgresql://app@localhost/prices")
    assert "sslmode" not in client_target().params
    env.setenv("DATABASE_URL", "host=/tmp/alpha dbname=prices user=app")
    assert "sslmode" not in client_target().params


def test_a_role_brings_its_own_password_from_the_environment(env):
    env.setenv("ALPHA_PG_DSN", "postgresql://owner:owner-pw@db.example.com/prices")
    env.setenv("ALPHA_BOT_PASSWORD", "bot-pw")
    bot = client_target("alpha_bot").params
    assert (bot["user"], bot["password"]) == ("alpha_bot", "bot-pw")
    reader = client_target("alpha_reader").params
    assert reader["user"] == "alpha_reader" and "password" not in reader


def test_database_url_wins_over_alpha_pg_dsn(env):
    env.setenv("ALPHA_PG_DSN", "postgresql://a@one.example.com/x")
    env.setenv("DATABASE_URL", "postgresql://b@two.example.com/y")
    assert client_target().params["host"] == "two.example.com"


def test_history_splits_the_joined_dates_and_prices():
    dates, prices = split_history("2024-01-02,2024-01-03,2024-01-04,2024-01-05", "101.2500,,NaN,99.0001")
    assert dates == ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    assert prices[0] == 101.25 and prices[1] is None and prices[2] != prices[2] and prices[3] == 99.0001
    assert split_history(None, None) == ([], [])
