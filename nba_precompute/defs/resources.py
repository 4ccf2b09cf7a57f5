"""Dagster resources: the warehouse and the raw data directory."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from dagster import ConfigurableResource, Definitions, InitResourceContext, definitions, in_process_executor
from pydantic import Field, PrivateAttr

from nba_precompute import config
from nba_precompute.raw.sources import RawSources
from nba_precompute.warehouse.base import Warehouse, WarehouseError
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse


class WarehouseResource(ConfigurableResource):
    """The warehouse the assets read from and write to: the embedded DuckDB file ``duckdb_path``
    (``kind="duckdb"``, the default) or BigQuery (``kind="bigquery"``, the ``bq_*`` fields).

    BigQuery credentials are those Google users expect: Application Default Credentials (``gcloud auth
    application-default login``, ``GOOGLE_APPLICATION_CREDENTIALS=<key file>``, or the attached service
    account on GCP), or a base64 service-account key in ``bq_gcp_credentials``; the client is built by
    ``dagster_gcp.BigQueryResource``. ``bq_api_endpoint`` (emulators only) switches to anonymous
    credentials against that URL.
    """

    kind: str = Field(default="duckdb", description="duckdb or bigquery")
    duckdb_path: str = Field(default=config.DEFAULT_DUCKDB_PATH, description="DuckDB file (kind=duckdb)")
    bq_project: str | None = Field(default=None, description="Google Cloud project of the datasets and jobs")
    bq_location: str | None = Field(default="US", description="Location of the datasets (US, EU, region)")
    bq_dataset_prefix: str = Field(default="", description="Prefix of every dataset name")
    bq_datasets: dict[str, str] = Field(default_factory=dict,
                                        description="schema -> dataset or project.dataset (overrides the prefix)")
    bq_external_schemas: list[str] = Field(default_factory=list,
                                           description="Schemas maintained outside this project (read-only)")
    bq_staging_dataset: str | None = Field(default=None, description="Dataset for staging tables "
                                              "(default: the nba_processing dataset)")
    bq_gcp_credentials: str | None = Field(default=None, description="base64 service-account key "
                                              "(default: Application Default Credentials)")
    bq_api_endpoint: str | None = Field(default=None, description="Emulator URL (anonymous credentials)")

    _run_id: str | None = PrivateAttr(default=None)
    _warehouse: Warehouse | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._run_id = context.run.run_id if context.run is not None else None
        if self.kind == "duckdb":
            # one open DuckDB connection for the whole run (closed in teardown_after_execution)
            duck = DuckDBWarehouse(self.duckdb_path)
            duck.open_session()
            self._warehouse = duck

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if isinstance(self._warehouse, DuckDBWarehouse):
            self._warehouse.close_session()
            self._warehouse = None

    def bigquery_settings(self):
        from nba_precompute.warehouse.bigquery_warehouse import BigQuerySettings

        return BigQuerySettings(
            project=self.bq_project or "", location=self.bq_location, datasets=dict(self.bq_datasets),
            dataset_prefix=self.bq_dataset_prefix, external_schemas=tuple(self.bq_external_schemas),
            staging_dataset=self.bq_staging_dataset, api_endpoint=self.bq_api_endpoint,
        )

    def _bigquery(self) -> Warehouse:
        from nba_precompute.warehouse.bigquery_warehouse import (
            BigQueryWarehouse,
            make_client,
        )

        settings = self.bigquery_settings()
        if settings.api_endpoint:
            client = make_client(settings)
        else:
            from dagster_gcp import BigQueryResource

            with BigQueryResource(project=settings.project, location=settings.location,
                                  gcp_credentials=self.bq_gcp_credentials).get_client() as c:
                client = c
        labels = {"app": "nba_precompute"}
        if self._run_id:
            labels["dagster_run_id"] = self._run_id.lower()
        return BigQueryWarehouse(settings, client, job_labels=labels)

    def get(self) -> Warehouse:
        """The configured warehouse (one BigQuery client per resource instance).

        Raises:
            WarehouseError: unknown ``kind``, or BigQuery without a project.
        """
        if self.kind == "duckdb":
            return self._warehouse if self._warehouse is not None else DuckDBWarehouse(self.duckdb_path)
        if self.kind != "bigquery":
            raise WarehouseError(f"warehouse kind {self.kind!r}: expected 'duckdb' or 'bigquery'")
        if self._warehouse is None:
            self._warehouse = self._bigquery()
        return self._warehouse


class RawDataResource(ConfigurableResource):
    """Directory of the raw NBA.com files (see its SOURCES.md), and the parsed files of the current run.

    Every season in the directory is served as one set of frames (:class:`~nba_precompute.raw.sources.
    RawSources`: the hoopR files and the trimmed 2020-21 source). Several Phase 3 assets read the same
    files; Dagster initialises a resource once per run (``setup_for_execution`` on a fresh copy), so
    each file is parsed at most once per run; a new run parses the files again. Errors are the
    readers' ``RawDataError``.
    """

    directory: str
    _sources: RawSources | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._sources = RawSources(self.directory)

    @property
    def path(self) -> Path:
        return Path(self.directory)

    @property
    def sources(self) -> RawSources:
        if self._sources is None:
            self._sources = RawSources(self.directory)
        return self._sources

    def schedule(self) -> pl.DataFrame:
        """Every game of every season, parsed once per run."""
        return self.sources.schedule()

    def player_boxscores(self) -> pl.DataFrame:
        """Player box scores of every regular-season game, parsed once per run."""
        return self.sources.player_boxscores()

    def team_game_logs(self) -> pl.DataFrame:
        """Team box scores of every regular-season game, parsed once per run."""
        return self.sources.team_game_logs()

    def shot_chart_seasons(self) -> list[int]:
        """Start years of the seasons with a shot chart."""
        return self.sources.shot_chart_seasons()

    def shots(self, season_year: int) -> pl.DataFrame | None:
        """The shot chart of one season (start year), or ``None`` when it has none; parsed once per run."""
        return self.sources.shots(season_year)


def warehouse_from_env() -> WarehouseResource:
    """``WarehouseResource`` from ``NBA_PRECOMPUTE_WAREHOUSE``, ``NBA_PRECOMPUTE_DUCKDB_PATH`` and the
    ``NBA_PRECOMPUTE_BQ_*`` variables (see ``nba_precompute.config``)."""
    kind = config.warehouse_kind()
    if kind == "duckdb":
        return WarehouseResource(kind="duckdb", duckdb_path=config.duckdb_path())
    return WarehouseResource(kind="bigquery", **config.bigquery_settings())


def default_resources() -> dict[str, ConfigurableResource]:
    """Resources from the environment (``NBA_PRECOMPUTE_WAREHOUSE`` and friends, ``NBA_RAW_DATA_DIR``)."""
    return {
        "warehouse": warehouse_from_env(),
        "raw_data": RawDataResource(directory=str(config.raw_data_dir())),
    }


@definitions
def resource_definitions() -> Definitions:
    """The resources (read from the environment when the code location loads) and the executor: every
    step of a run executes in the run's own process, because an embedded DuckDB file admits one writer
    process."""
    return Definitions(resources=default_resources(), executor=in_process_executor)
