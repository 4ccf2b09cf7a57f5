"""Dagster resources: the warehouse and the raw data directory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from dagster import ConfigurableResource, Definitions, InitResourceContext, definitions, in_process_executor
from pydantic import Field, PrivateAttr

from nba_precompute import config
from nba_precompute.partitions import GameCalendar, game_calendar
from nba_precompute.raw import domain, readers, season_2020
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


@dataclass(frozen=True)
class Phase3RawInputs:
    """The raw frames the Phase 3 assets are built from, after every domain rule passed."""

    schedule: pl.DataFrame
    player_boxscores: pl.DataFrame
    team_game_logs: pl.DataFrame
    shots: pl.DataFrame  # the shot charts of the seasons in the run's date range that have one
    shot_seasons: list[int]  # the start years of those seasons


_EMPTY_SHOTS_SCHEMA = {"game_id": pl.String, "game_date": pl.Date, "team_id": pl.Int64, "player_id": pl.Int64,
                       "shot_made": pl.Boolean, "shot_type": pl.String, "basic_zone": pl.String,
                       "shot_distance": pl.Float64, readers.SOURCE_LINE: pl.Int64}


class RawDataResource(ConfigurableResource):
    """Directory of the raw NBA.com files (see its SOURCES.md), and the parsed files of the current run.

    Every season in the directory is served as one set of frames (:class:`~nba_precompute.raw.sources.
    RawSources`: the hoopR files and the trimmed 2020-21 source). Several Phase 3 assets read the same
    files; Dagster initialises a resource once per run (``setup_for_execution`` on a fresh copy), so each
    file is parsed at most once per run; a new run parses the files again. Errors are the readers'
    ``RawDataError``.

    **Validation before any write.** The Phase 3 assets take their raw frames from
    :meth:`phase3_inputs`, which reads *every* raw input of the run's date range (schedule, player box
    scores, team logs, the shot charts of the range's seasons) and checks them against the domain rules
    (``nba_precompute.raw.domain``; the 2020-21 files are checked by their own reader,
    ``nba_precompute.raw.season_2020``) before returning anything. Why every input and not only the
    asset's own: each asset writes its partitions in its own warehouse transaction, and the in-process
    executor keeps running the steps that do not depend on a failed one. Were each asset to check only
    its own files, a bad box score would fail ``player_game_summary`` while ``nba_schedule`` and
    ``team_offense_game_summary`` of the same run committed their rows, built in part from the same
    inconsistent raw data. With the check over all inputs, the first raw-reading Phase 3 step fails
    before its write, every other raw-reading step of the run fails the same way (the outcome, success
    or the same ``RawDataError``, is cached per date range for the run), and the steps downstream of
    them (the upcoming-context assets, Phase 4) are skipped: nothing of the run's Phase 3 is written.
    Validation is not done in ``setup_for_execution`` because the date range (which shot charts to read)
    is known only inside a step, and runs without Phase 3 steps (Phase 4 only) must not read raw files.
    """

    directory: str
    _sources: RawSources | None = PrivateAttr(default=None)
    _inputs: dict = PrivateAttr(default_factory=dict)
    _served: set = PrivateAttr(default_factory=set)
    _versions: dict = PrivateAttr(default_factory=dict)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._sources = RawSources(self.directory)
        self._inputs = {}
        self._served = set()
        self._versions = {}

    @property
    def path(self) -> Path:
        return Path(self.directory)

    def calendar(self) -> GameCalendar:
        """The game calendar of this directory (re-read when a raw file changes)."""
        return game_calendar(self.path)

    @property
    def sources(self) -> RawSources:
        if self._sources is None:
            self._sources = RawSources(self.directory)
        return self._sources

    def input_versions(self, start: dt.date, end: dt.date) -> pl.DataFrame:
        """The input version of every versioned table on every day of the seasons that [start, end]
        touches (``nba_precompute.raw.versions.partition_versions``: ``table_name``,
        ``partition_date``, ``input_version``), computed from the raw files once per run and season set
        (every table asset of a run asks), from this run's parsed files (parsed again when the Phase 3
        steps have released them).

        Raises:
            RawDataError: a file is missing or malformed (naming the file, line and value).
        """
        calendar = self.calendar()
        seasons = tuple(calendar.seasons_between(start, end))
        if seasons not in self._versions:
            from nba_precompute.raw import versions

            self._versions[seasons] = versions.raw_partition_versions(self.sources, calendar.seasons, seasons)
        return self._versions[seasons]

    def phase3_inputs(self, start: dt.date, end: dt.date, consumer: str | None = None,
                      consumers: Collection[str] = ()) -> Phase3RawInputs:
        """Every raw input of Phase 3 for the dates [start, end], checked against the domain rules.

        ``consumer`` / ``consumers``: the asset asking, and every raw-reading asset of the run. When the
        last of them has been served, the parsed files are released (the caller keeps its frames until
        its step ends): Phase 4, later in the run, does not carry the raw files in memory.

        Reads the schedule, the team logs, the player box scores and the shot chart of each season
        with a game in [start, end], checking each hoopR file with its ``domain.validate_*`` function
        right after reading it, in the order of ``domain.validate_phase3_inputs`` (the schedule first:
        it decides which shot charts are read); the 2020-21 files are read, and checked by their reader,
        only when [start, end] touches 2020-21. Whole
        files are checked: a broken rule anywhere in a file that the run reads fails the run. The
        result, or the error, is kept for the rest of the run, so every Phase 3 step of a run gets the
        same answer.

        Raises:
            RawDataError: a file is missing, corrupt or unparseable, or a domain rule is broken (the
                message names the file, line, column and value).
        """
        key = (start, end)
        if key not in self._inputs:
            try:
                self._inputs[key] = self._validated_inputs(start, end)
            except readers.RawDataError as exc:
                self._inputs[key] = exc
        outcome = self._inputs[key]
        if isinstance(outcome, readers.RawDataError):
            raise readers.RawDataError(str(outcome)) from outcome
        if consumer is not None:
            self._served.add(consumer)
            if set(consumers) <= self._served:
                self._inputs.pop(key, None)
                self._sources = RawSources(self.directory)
        return outcome

    def _validated_inputs(self, start: dt.date, end: dt.date) -> Phase3RawInputs:
        # the same order as domain.validate_phase3_inputs, each file checked right after it is read: the
        # schedule decides which shot charts are read, so it must be trusted first
        src, raw = domain.Phase3Sources.under(self.path), self.sources
        hoopr_schedule = raw.hoopr_schedule()
        domain.validate_schedule(hoopr_schedule, src.schedule)
        hoopr_logs = raw.hoopr_team_game_logs()
        domain.validate_team_game_logs(hoopr_logs, hoopr_schedule, src.team_game_logs)
        hoopr_box = raw.hoopr_player_boxscores()
        domain.validate_player_boxscores(hoopr_box, hoopr_schedule, hoopr_logs, src.player_boxscores,
                                         src.team_game_logs)
        # the 2020-21 source (its reader validates its own files) is read only when the run touches 2020-21
        with_2020 = season_2020.SEASON_YEAR in game_calendar(self.path).seasons_between(start, end)
        schedule = raw.schedule(with_2020)
        seasons = sorted(schedule.filter(pl.col("game_date").is_between(start, end))
                         .get_column("season_year").unique().to_list())
        shots, shot_seasons = [], []
        for season in seasons:
            frame = raw.shots(season)
            if frame is None:  # a season after the shot-chart source's last one: no chart
                continue
            if not raw.is_season_2020(season):
                domain.validate_shots(frame, season + 1, hoopr_schedule, hoopr_box,
                                      src.shots.format(end_year=season + 1))
            shots.append(frame)
            shot_seasons.append(season)
        all_shots = (pl.concat(shots, how="diagonal_relaxed") if shots
                     else pl.DataFrame(schema=_EMPTY_SHOTS_SCHEMA))
        return Phase3RawInputs(schedule, raw.player_boxscores(with_2020), raw.team_game_logs(with_2020), all_shots,
                               shot_seasons)


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
