"""`invoke docs`: dbt's static site of the migrated database, with the lineage and the three exposures."""

from alpha_migrate.paths import PROJECT_DIR
from tests.conftest import invoke

NODES = (
    "source.project_alpha.sqlite.daily_prices",
    "model.project_alpha.stg_daily_prices",
    "model.project_alpha.daily_prices",
    "exposure.project_alpha.dashboard",
    "exposure.project_alpha.trading_bot",
    "exposure.project_alpha.backtester",
)


def test_invoke_docs_writes_one_static_page_with_lineage_and_exposures(migrated_db):
    page = PROJECT_DIR / "target" / "static_index.html"
    page.unlink(missing_ok=True)
    result = invoke("docs", "--dsn", migrated_db.uri())
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"written: {page}" in result.stdout
    html = page.read_text()
    # The page embeds the manifest (every node and its parents: the lineage) and the catalog (columns).
    assert "parent_map" in html and "nodes" in html
    for node in NODES:
        assert node in html, node
