"""With no --dsn and no ALPHA_PG_DSN, migrate starts the embedded PostgreSQL 16 and leaves it running."""

import json

from tests.conftest import invoke


def test_migrate_starts_the_embedded_server_and_db_tasks_manage_it(demo_sqlite, tmp_path, monkeypatch):
    pgdata = tmp_path / "pgdata"
    env = {"ALPHA_PGDATA": str(pgdata)}
    monkeypatch.delenv("ALPHA_PG_DSN", raising=False)
    assert "not running" in invoke("db.status", env=env).stdout
    report = tmp_path / "report.json"
    try:
        result = invoke("migrate", "--sqlite", str(demo_sqlite), "--report", str(report), env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        summary = json.loads(report.read_text())
        assert summary["embedded"] is True and summary["server_version"].startswith("16.")
        assert summary["target"].startswith("postgresql://postgres@/project_alpha?host=")
        assert (pgdata / "PG_VERSION").read_text().strip() == "16"
        status = invoke("db.status", env=env).stdout
        assert status.startswith("running (pid ")
        exports = invoke("db.env", env=env).stdout
        assert "export ALPHA_PG_DBNAME=project_alpha" in exports
    finally:
        assert invoke("db.stop", env=env).stdout.strip() == "stopped"
    assert "not running" in invoke("db.status", env=env).stdout
