"""Dagster resources: the warehouse and the raw data directory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from pathlib import Path

import polars as pl
from dagster import ConfigurableResource, Definitions, InitResourceContext, definitions, in_process_executor
from pydantic import Field, PrivateAttr

from nba_precompute import config
from nba_precompute.partitions import GameCalendar, game_calendar
from nba_precompute.raw.inputs import Phase3RawInputs, RawInputs
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
    """Directory of the raw NBA.com files (see its SOURCES.md): a thin Dagster wrapper over
    :class:`nba_precompute.raw.inputs.RawInputs` (the parsed files, their quarantine and input versions)
    for the current run.

    Dagster initialises a resource once per run (``setup_for_execution`` on a fresh copy), so each file
    is parsed at most once per run, and the files the run process parsed for its game calendar (when the
    definitions loaded) are taken over when unchanged (``RawSources.take``); a new run parses the files
    again. Errors are the readers' ``RawDataError``.

    **A bad row blocks only what reads it.** Every table asset calls
    ``defs.common.require_ready``, which asks :meth:`refuse` before reading or writing anything: when a
    partition of the step reads a raw row that breaks a domain rule (``nba_precompute.raw.quarantine``:
    the rows, and which partitions read them, by ``nba_precompute.raw.versions.read_windows``), the step
    fails naming the file, line, rule, value and the partitions blocked, and writes nothing; the steps
    downstream of it are skipped. Steps whose partitions read no such row run. Whole-file problems (a
    file missing, truncated, unparseable) fail every step that reads the file.
    """

    directory: str
    _raw: RawInputs | None = PrivateAttr(default=None)
    _served: set = PrivateAttr(default_factory=set)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._raw = None
        self._served = set()

    @property
    def path(self) -> Path:
        return Path(self.directory)

    def calendar(self) -> GameCalendar:
        """The game calendar of this directory (re-read when a raw file changes)."""
        return game_calendar(self.path)

    @property
    def raw(self) -> RawInputs:
        """This run's raw inputs (made on first use, with the calendar's seasons)."""
        if self._raw is None:
            calendar = self.calendar()  # before take(): the calendar's parse is the one handed over
            self._raw = RawInputs(self.directory, calendar.seasons, sources=RawSources.take(self.directory))
        return self._raw

    @property
    def sources(self) -> RawSources:
        return self.raw.sources

    def input_versions(self, start: dt.date, end: dt.date) -> pl.DataFrame:
        """:meth:`RawInputs.input_versions <nba_precompute.raw.inputs.RawInputs.input_versions>` (once per
        run and season set)."""
        return self.raw.input_versions(start, end)

    def refuse(self, table_name: str, days: Sequence[dt.date]) -> str | None:
        """:meth:`RawInputs.refuse <nba_precompute.raw.inputs.RawInputs.refuse>`: ``None``, or why the
        partitions of ``table_name`` on ``days`` may not be computed (quarantined raw rows)."""
        return self.raw.refuse(table_name, days)

    def phase3_inputs(self, start: dt.date, end: dt.date, consumer: str | None = None,
                      consumers: Collection[str] = ()) -> Phase3RawInputs:
        """:meth:`RawInputs.phase3_inputs <nba_precompute.raw.inputs.RawInputs.phase3_inputs>` for the
        dates [start, end].

        ``consumer`` / ``consumers``: the asset asking, and every raw-reading asset of the run. When the
        last of them has been served, the parsed files are released (the caller keeps its frames until
        its step ends): Phase 4, later in the run, does not carry the raw files in memory.

        Raises:
            RawDataError: a file is missing, corrupt or unparseable (file, line, column and value).
        """
        out = self.raw.phase3_inputs(start, end)
        if consumer is not None:
            self._served.add(consumer)
            if set(consumers) <= self._served:
                self.raw.release()
        return out


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
