"""One Dagster webserver + daemon for the UI tests, against a temporary instance and warehouse.

The session fixture ``dagster_ui``:

1. creates a temporary ``DAGSTER_HOME`` holding a copy of the project's ``.dagster_home/dagster.yaml``
   (so the tests exercise the real instance configuration: queued runs, the ``nba_warehouse`` pool);
2. materialises Phase 3 over [2022-10-18, 2022-12-16] into a temporary DuckDB file through that same
   instance (``materialize_range``), so the Phase 4 history exists and the UI's partition status agrees
   with the warehouse;
3. starts ``dagster-webserver`` on a free loopback port and ``dagster-daemon`` for ``workspace.yaml``,
   marks the first-visit dialog as seen, and stops both process groups at the end of the session.

Screenshots and the services' logs go to ``test-artifacts/ui/`` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterInstance

from nba_precompute.pipeline import materialize_range
from nba_precompute_tests.conftest import DEC_END, HISTORY_START, REPO_ROOT
from nba_precompute_tests.ui.services import DagsterServices, prepare_home

ARTIFACTS = REPO_ROOT / "test-artifacts" / "ui"
CHROMIUM = os.environ.get("NBA_UI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass
class DagsterUI:
    services: DagsterServices
    dagster_home: Path
    duckdb_path: str
    artifacts: Path

    @property
    def url(self) -> str:
        return self.services.url

    def instance(self) -> DagsterInstance:
        """A handle on the instance the webserver and daemon use (same ``DAGSTER_HOME``)."""
        return DagsterInstance.from_config(str(self.dagster_home))


def _unavailable(reason: str) -> None:
    """Browser tooling missing: a failure in CI (``CI`` set), a skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"UI tests cannot run: {reason}. .ci/run installs Debian's chromium and Playwright.")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def dagster_ui(tmp_path_factory, raw_data_dir) -> DagsterUI:
    tmp = tmp_path_factory.mktemp("dagster_ui")
    home = prepare_home(tmp / "dagster_home")
    db = str(tmp / "warehouse.duckdb")
    artifacts = ARTIFACTS
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)

    # The project's dagster.yaml locates the event log through DAGSTER_HOME (as every Dagster command
    # started with this instance has it): set for this session's in-process handles on the instance.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGSTER_HOME", str(home))
        with DagsterInstance.from_config(str(home)) as instance:
            phase3 = materialize_range(HISTORY_START, DEC_END, duckdb_path=db, raw_dir=str(raw_data_dir),
                                       selection="group:phase3_analytics", instance=instance)
            assert phase3.success

        services = DagsterServices(home, {"NBA_PRECOMPUTE_DUCKDB_PATH": db, "NBA_RAW_DATA_DIR": str(raw_data_dir)},
                                   log_dir=artifacts / "logs")
        try:
            services.start()
            services.graphql("mutation { setNuxSeen }")  # the first-visit "join the community" dialog
            yield DagsterUI(services, home, db, artifacts)
        finally:
            services.stop()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (never a downloaded browser build)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, dagster_ui):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, base_url=dagster_ui.url)
    context.set_default_timeout(30_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()
