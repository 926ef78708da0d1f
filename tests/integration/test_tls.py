"""TLS, as a cloud server requires: `invoke migrate`, `invoke verify` and the client module through a TLS
front (tests/tls_front.py) with `sslmode=verify-full` and the test's own CA, and one-line errors when
the CA is wrong or the server has no TLS.

Each of the three clients of one run (psycopg2, dbt-postgres, DuckDB's postgres extension) must take
sslmode, sslrootcert (and sslcert, sslkey) from the DSN. A client that dropped sslrootcert would fall back
to libpq's PGSSLROOTCERT, which the runs set to an unrelated CA: it fails verification instead of passing
unnoticed. The front records each session's encryption and application_name, so each client's own
sessions are checked too.
"""

import json
import subprocess
import sys
from urllib.parse import quote

import psycopg2
import pytest

from alpha_migrate import client
from alpha_migrate.dsn import Target
from alpha_migrate.paths import PROJECT_DIR
from tests.certificates import Certificates, make_certificates
from tests.conftest import invoke, query
from tests.tls_front import Front, tls_front

# dbt as `invoke migrate` and `invoke verify` run it (in process, ended by cli.guarded), alone: psycopg2's
# connection comes first in those commands, so a TLS failure inside dbt is reached only this way.
DBT_TEST = """
import sys
from invoke.exceptions import Exit
from alpha_migrate.cli import guarded
from alpha_migrate.dbt import run_dbt
from alpha_migrate.dsn import Target
try:
    guarded(lambda: run_dbt(["test", "--select", "daily_prices"], Target.parse(sys.argv[1])))
except Exit as exc:
    sys.exit(exc.code)
"""
SECRET = "tls-s3cret-pw"  # never checked by the embedded server (it trusts its socket), never to be shown
DUCKDB_APPLICATION = None  # DuckDB's postgres extension names no application_name; psycopg2 and dbt do


def tls_dsn(front: Front, target: Target, sslmode: str = "verify-full", **tls: object) -> str:
    """The DSN a cloud server's operator writes: a host name, a password, and the TLS settings."""
    query_string = "&".join(
        f"{key}={quote(str(value), safe='/')}" for key, value in {"sslmode": sslmode, **tls}.items()
    )
    user, dbname = target.params["user"], target.params["dbname"]
    return f"postgresql://{user}:{SECRET}@localhost:{front.port}/{dbname}?{query_string}"


def assert_one_line_error(result, *fragments: str) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0]
    assert "unexpected" not in lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def front(admin_target, certificates):
    with tls_front(admin_target, certificates.server_cert, certificates.server_key) as running:
        yield running


@pytest.fixture(scope="module")
def wrong_ca_env(certificates) -> dict[str, str]:
    """libpq's fallback CA, for a client that lost the DSN's sslrootcert: one that verifies nothing here."""
    return {"PGSSLROOTCERT": str(certificates.other_ca)}


@pytest.fixture(scope="module")
def mutual_front(admin_target, certificates):
    """A front that also requires a client certificate signed by the CA (as `hostssl ... cert` does)."""
    with tls_front(admin_target, certificates.server_cert, certificates.server_key, certificates.ca) as running:
        yield running


@pytest.fixture(scope="module")
def migrated(front, module_db, demo_sqlite, certificates, wrong_ca_env, tmp_path_factory):
    """The demo migrated through the front, once; its output, its summary and the sessions it opened."""
    report = tmp_path_factory.mktemp("tls-report") / "report.json"
    dsn = tls_dsn(front, module_db, sslrootcert=certificates.ca)
    before = len(front.sessions)
    result = invoke("migrate", "--sqlite", str(demo_sqlite), "--dsn", dsn, "--report", str(report), env=wrong_ca_env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, json.loads(report.read_text()), front.sessions[before:]


def assert_all_clients_used_tls(sessions, *applications: str) -> None:
    assert sessions
    assert all(session.tls_version in ("TLSv1.2", "TLSv1.3") for session in sessions), sessions
    names = {session.startup.get("application_name") for session in sessions}
    for application in applications:
        assert application in names, names


def test_migrate_through_tls_with_verify_full(migrated, front, module_db):
    result, summary, sessions = migrated
    assert summary["status"] == "ok"
    assert SECRET not in result.stdout + result.stderr + json.dumps(summary)
    assert summary["loaded"] == summary["source"]
    # What arrived, read past the front on the server's own socket.
    assert query(module_db, "select count(*) from daily_prices")[0][0] == summary["source"]["daily_prices"]
    assert_all_clients_used_tls(sessions, "alpha_migrate", "dbt", DUCKDB_APPLICATION)
    assert front.ssl_refused == 0 and front.failed_handshakes == 0


def test_verify_through_tls_with_a_client_certificate(
    migrated, mutual_front, module_db, demo_sqlite, certificates, wrong_ca_env, tmp_path
):
    with pytest.raises(psycopg2.OperationalError):  # the front does insist on a client certificate
        psycopg2.connect(tls_dsn(mutual_front, module_db, sslrootcert=certificates.ca)).close()
    before = len(mutual_front.sessions)
    dsn = tls_dsn(
        mutual_front,
        module_db,
        sslrootcert=certificates.ca,
        sslcert=certificates.client_cert,
        sslkey=certificates.client_key,
    )
    result = invoke(
        "verify", "--sqlite", str(demo_sqlite), "--dsn", dsn, "--reports-dir", str(tmp_path), env=wrong_ca_env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verification passed" in result.stdout
    assert SECRET not in result.stdout + result.stderr
    assert_all_clients_used_tls(mutual_front.sessions[before:], "alpha_migrate", "dbt", DUCKDB_APPLICATION)


def test_client_module_connects_through_tls(migrated, front, module_db, certificates, wrong_ca_env, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ALPHA_PG_DSN", tls_dsn(front, module_db, sslrootcert=certificates.ca))
    for name, value in wrong_ca_env.items():
        monkeypatch.setenv(name, value)
    handshakes = front.handshakes
    con = client.connect()
    try:
        assert con.info.ssl_in_use
        assert con.info.ssl_attribute("protocol") in ("TLSv1.2", "TLSv1.3")
        with con.cursor() as cur:
            cur.execute("select count(*) from daily_prices")
            assert cur.fetchone()[0] == migrated[1]["source"]["daily_prices"]
    finally:
        con.close()
    bot_pool = client.pool(maxconn=2)
    try:
        assert bot_pool.getconn().info.ssl_in_use
    finally:
        bot_pool.closeall()
    assert front.handshakes == handshakes + 2


def test_a_wrong_ca_is_a_one_line_error(front, module_db, demo_sqlite, certificates, tmp_path):
    sessions, failed = len(front.sessions), front.failed_handshakes
    dsn = tls_dsn(front, module_db, sslrootcert=certificates.other_ca)
    report = tmp_path / "report.json"
    result = invoke("migrate", "--sqlite", str(demo_sqlite), "--dsn", dsn, "--report", str(report))
    assert_one_line_error(result, "cannot connect to PostgreSQL", "certificate verify failed")
    assert json.loads(report.read_text())["status"] == "failed"
    assert SECRET not in report.read_text()
    result = invoke("verify", "--sqlite", str(demo_sqlite), "--dsn", dsn, "--reports-dir", str(tmp_path))
    assert_one_line_error(result, "cannot connect to PostgreSQL", "certificate verify failed")
    dbt = subprocess.run(
        [sys.executable, "-c", DBT_TEST, dsn], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300
    )
    assert_one_line_error(dbt, "dbt test failed", "certificate verify failed")
    # The client abandoned the handshake: nothing reached the server.
    assert front.failed_handshakes >= failed + 3
    assert len(front.sessions) == sessions


def test_sslmode_require_against_a_server_without_tls(admin_target, module_db, demo_sqlite, tmp_path):
    with tls_front(admin_target) as plain:  # no certificate: it answers 'N', as a server without TLS does
        dsn = tls_dsn(plain, module_db, sslmode="require")
        result = invoke("migrate", "--sqlite", str(demo_sqlite), "--dsn", dsn, "--report", str(tmp_path / "r.json"))
        assert_one_line_error(
            result, "cannot connect to PostgreSQL", "server does not support SSL, but SSL was required"
        )
        assert plain.ssl_refused >= 1
        assert plain.sessions == []
