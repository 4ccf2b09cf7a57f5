"""BigQuery warehouse: the same tables, the same interface and the same replace-the-partition
semantics as the embedded DuckDB warehouse, on Google BigQuery (``google-cloud-bigquery``).

Layout. Each warehouse schema of SPEC §1 is a BigQuery dataset of the same name (``nba_analytics``,
``nba_precompute``, ``nba_predictions``, ``nba_processing``), optionally prefixed or mapped to another
dataset or project (:class:`BigQuerySettings`). Tables are created on first write from the declarations
in ``nba_precompute.schemas``: declared types and modes, column descriptions with units, DAY
partitioning on the table's date column, clustering on its id columns. Datasets are NOT created by a
write: they carry the location and the access rules, so they are infrastructure (see
:meth:`BigQueryWarehouse.create_datasets` for tests and first-time setup).

Writes (:meth:`BigQueryWarehouse.replace_partitions`):

1. every frame is validated against its declaration (as in DuckDB) and the configuration is checked
   (datasets exist in the configured location, the caller may read them and run jobs) - a problem
   raises :class:`WarehouseError` before anything is written;
2. target tables are created if missing, or their columns checked against the declaration;
3. each frame is loaded (Parquet, one load job) into a staging table in the staging dataset
   (default: the ``nba_processing`` dataset), created with a one-day expiration;
4. ONE multi-statement transaction swaps them in: for every table ``DELETE`` the date range
   (``scope`` column = value where given) and ``INSERT ... SELECT`` the staged rows by column name,
   then the same for ``nba_processing.partition_log``; ``COMMIT``. A failing statement fails the query
   and BigQuery rolls the whole transaction back, so readers see either the old or the new partitions;
5. the staging tables are deleted.

The transaction's date bounds are typed ``DATE '...'`` literals (and scope values quoted string
literals), not query parameters: BigQuery prunes partitions on literal bounds in DML, and the local
emulator used by the tests does not bind parameters inside scripts.

Reads (:meth:`BigQueryWarehouse.read`) run ``SELECT <declared columns> FROM table WHERE date BETWEEN
@start AND @end``: the date filter is a query parameter on the partition column, so BigQuery scans only
the partitions of the window and only the requested columns.

Tables maintained outside this project (e.g. the legacy ``nba_analytics`` tables) are read the same
way when their dataset is listed in ``external_schemas``: they are never written, and their partition
log is derived from the data (rows per day). Extra columns in an existing table are ignored; a missing
declared column or a different type raises :class:`WarehouseError` naming it.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import bigquery

from nba_precompute.schemas import PARTITION_LOG, SCHEMAS, TableSpec
from nba_precompute.warehouse.base import (
    PARTITION_LOG_SCHEMA,
    ROW_COUNTS_SCHEMA,
    PartitionWrite,
    WarehouseError,
    now_utc,
    partition_log_rows,
    prepare_writes,
)

log = logging.getLogger(__name__)

STAGING_EXPIRATION = dt.timedelta(days=1)
# Preflight calls fail fast instead of retrying for the client's default 10 minutes.
PREFLIGHT_DEADLINE_S = 30.0
# BigQuery aborts one of two transactions that mutate the same table at once; the swap is idempotent
# (DELETE the range + INSERT the staged rows), so it is retried a few times.
CONCURRENT_UPDATE_ATTEMPTS = 3

_TYPE_ALIASES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}

ROLES_HELP = (
    "the identity needs roles/bigquery.jobUser on the project (to run load and query jobs) and "
    "roles/bigquery.dataEditor on the datasets it writes (roles/bigquery.dataViewer on datasets it only "
    "reads, e.g. external Phase 3 tables)"
)


@dataclass(frozen=True)
class BigQuerySettings:
    """Where the tables live.

    ``project``: the project that runs the jobs and holds the datasets (required).
    ``location``: the datasets' location (``US``, ``EU``, ``us-central1``...); jobs run there.
    ``datasets``: warehouse schema -> dataset id, or ``project.dataset`` for a dataset in another project
    (e.g. ``{"nba_analytics": "legacy-project.nba_analytics"}``); unmapped schemas use
    ``dataset_prefix + schema``.
    ``external_schemas``: schemas whose tables are maintained outside this project: read-only, partition
    log derived from the data.
    ``staging_dataset``: where load jobs stage rows before the swap (default: the ``nba_processing``
    dataset).
    ``api_endpoint``: an emulator's URL (anonymous credentials); never set in production.
    """

    project: str
    location: str | None = "US"
    datasets: Mapping[str, str] = field(default_factory=dict)
    dataset_prefix: str = ""
    external_schemas: tuple[str, ...] = ()
    staging_dataset: str | None = None
    api_endpoint: str | None = None

    def __post_init__(self) -> None:
        if not self.project or not str(self.project).strip():
            raise WarehouseError(
                "BigQuery warehouse selected but no project is configured: set NBA_PRECOMPUTE_BQ_PROJECT "
                "(or WarehouseResource(bq_project=...)) to the Google Cloud project that holds the datasets"
            )
        unknown = [s for s in [*self.datasets, *self.external_schemas] if s not in SCHEMAS]
        if unknown:
            raise WarehouseError(f"unknown warehouse schema(s) {unknown} in the BigQuery dataset mapping; "
                                 f"known schemas: {list(SCHEMAS)}")

    def dataset(self, schema: str) -> tuple[str, str]:
        """(project, dataset id) holding the tables of warehouse ``schema``."""
        target = self.datasets.get(schema) or f"{self.dataset_prefix}{schema}"
        if "." in target:
            project, dataset = target.split(".", 1)
            return project, dataset
        return self.project, target

    def staging(self) -> tuple[str, str]:
        if self.staging_dataset:
            return (self.staging_dataset.split(".", 1) if "." in self.staging_dataset
                    else (self.project, self.staging_dataset))
        return self.dataset("nba_processing")


def make_client(settings: BigQuerySettings, credentials=None) -> bigquery.Client:
    """A ``bigquery.Client`` for ``settings``: Application Default Credentials unless ``credentials``
    is given; with ``api_endpoint`` (emulators only) anonymous credentials and that endpoint."""
    if settings.api_endpoint:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(project=settings.project, location=settings.location,
                               credentials=AnonymousCredentials(),
                               client_options=ClientOptions(api_endpoint=settings.api_endpoint))
    return bigquery.Client(project=settings.project, location=settings.location, credentials=credentials)


def bq_literal(value: object) -> str:
    """A GoogleSQL literal for a date or string (used in the write transaction, see module docs)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
        return f"'{escaped}'"
    raise TypeError(f"no GoogleSQL literal for {type(value).__name__}")


def _ident(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise WarehouseError(f"invalid column name {name!r}")
    return f"`{name}`"


def _param(name: str | None, value: object) -> bigquery.ScalarQueryParameter:
    if isinstance(value, bool):
        kind = "BOOL"
    elif isinstance(value, int):
        kind = "INT64"
    elif isinstance(value, float):
        kind = "FLOAT64"
    elif isinstance(value, dt.datetime):
        kind = "TIMESTAMP"
    elif isinstance(value, dt.date):
        kind = "DATE"
    else:
        kind, value = "STRING", (None if value is None else str(value))
    return bigquery.ScalarQueryParameter(name, kind, value)


class BigQueryWarehouse:
    """Reads and atomically replaces daily partitions in BigQuery datasets (see module docstring).

    ``client`` is a ``google.cloud.bigquery.Client`` (see :func:`make_client`; the Dagster resource
    builds it through ``dagster_gcp.BigQueryResource``). ``job_labels`` are attached to every job (the
    resource adds the Dagster run id) so that costs can be attributed from ``INFORMATION_SCHEMA.JOBS``.
    """

    kind = "bigquery"

    def __init__(self, settings: BigQuerySettings, client: bigquery.Client | None = None,
                 job_labels: Mapping[str, str] | None = None):
        self.settings = settings
        self.client = client if client is not None else make_client(settings)
        self.job_labels = dict(job_labels or {})
        self._checked: set[str] = set()
        self._jobs_checked = False
        # Bytes reported by the jobs this object ran (real BigQuery fills these; emulators report 0).
        self.stats = {"query_jobs": 0, "load_jobs": 0, "bytes_processed": 0, "bytes_billed": 0}

    # ------------------------------------------------------------------ names
    def table_id(self, table: TableSpec) -> str:
        """``project.dataset.table`` of a declared table."""
        project, dataset = self.settings.dataset(table.schema)
        return f"{project}.{dataset}.{table.name}"

    def table_ref(self, table: TableSpec) -> str:
        """The name of ``table`` in GoogleSQL (backquoted ``project.dataset.table``)."""
        return f"`{self.table_id(table)}`"

    def is_external(self, table: TableSpec) -> bool:
        return table.schema in self.settings.external_schemas

    # ------------------------------------------------------------------ configuration checks
    def _explain(self, exc: Exception, what: str) -> WarehouseError:
        if isinstance(exc, gexc.Forbidden):
            return WarehouseError(f"BigQuery refused {what} (permission denied): {ROLES_HELP}. "
                                  f"Server said: {exc.message if hasattr(exc, 'message') else exc}")
        if isinstance(exc, gexc.Unauthorized):
            return WarehouseError(f"BigQuery rejected the credentials while {what}: configure Application "
                                  "Default Credentials (`gcloud auth application-default login`, or "
                                  "GOOGLE_APPLICATION_CREDENTIALS=<service-account key file>) or pass a "
                                  f"service-account key to the resource. Server said: {exc}")
        if isinstance(exc, (gexc.RetryError, ConnectionError, OSError)):
            endpoint = self.settings.api_endpoint or "the BigQuery API"
            return WarehouseError(f"cannot reach {endpoint} while {what}: {exc}")
        return WarehouseError(f"BigQuery error while {what}: {exc}")

    def check_dataset(self, schema: str) -> None:
        """Raise :class:`WarehouseError` unless the dataset of ``schema`` exists, is readable and lies in
        the configured location. Checked once per warehouse object."""
        if schema in self._checked:
            return
        project, dataset = self.settings.dataset(schema)
        try:
            ds = self.client.get_dataset(f"{project}.{dataset}",
                                         retry=Retry(deadline=PREFLIGHT_DEADLINE_S), timeout=PREFLIGHT_DEADLINE_S)
        except gexc.NotFound:
            loc = self.settings.location or "<location>"
            raise WarehouseError(
                f"BigQuery dataset {project}.{dataset} (for the {schema} tables) does not exist. Create it "
                f"in the configured location first, e.g. `bq mk --dataset --location={loc} "
                f"{project}:{dataset}`, or map {schema} to an existing dataset with "
                f"NBA_PRECOMPUTE_BQ_DATASETS={schema}=<dataset>"
            ) from None
        except Exception as exc:
            raise self._explain(exc, f"reading dataset {project}.{dataset}") from exc
        want = (self.settings.location or "").lower()
        if want and ds.location and ds.location.lower() != want:
            raise WarehouseError(
                f"BigQuery dataset {project}.{dataset} is in location {ds.location}, but the warehouse is "
                f"configured for {self.settings.location} (NBA_PRECOMPUTE_BQ_LOCATION): jobs must run where "
                "the data is"
            )
        self._checked.add(schema)

    def check_jobs(self) -> None:
        """Raise :class:`WarehouseError` unless the caller may run query jobs in the project (a dry run,
        which is free)."""
        if self._jobs_checked:
            return
        try:
            self.client.query("SELECT 1", job_config=bigquery.QueryJobConfig(dry_run=True, use_query_cache=False),
                              retry=Retry(deadline=PREFLIGHT_DEADLINE_S), timeout=PREFLIGHT_DEADLINE_S)
        except Exception as exc:
            raise self._explain(exc, f"running a query job in project {self.settings.project}") from exc
        self._jobs_checked = True

    def check(self, schemas: Sequence[str] = SCHEMAS) -> None:
        """Check the whole configuration (every dataset, job permission); raises :class:`WarehouseError`."""
        for s in schemas:
            self.check_dataset(s)
        self.check_jobs()

    def create_datasets(self, schemas: Sequence[str] = SCHEMAS) -> list[str]:
        """Create the datasets of ``schemas`` (and the staging dataset) in the configured location if
        missing; returns their ids. For first-time setup and tests; production datasets are usually
        managed with their access rules (Terraform, ``bq mk``)."""
        ids = [".".join(self.settings.dataset(s)) for s in schemas if s not in self.settings.external_schemas]
        ids.append(".".join(self.settings.staging()))
        for ds_id in dict.fromkeys(ids):
            ds = bigquery.Dataset(ds_id)
            ds.location = self.settings.location
            try:
                self.client.create_dataset(ds, exists_ok=True)
            except Exception as exc:
                raise self._explain(exc, f"creating dataset {ds_id}") from exc
        return list(dict.fromkeys(ids))

    # ------------------------------------------------------------------ table metadata
    def _get_table(self, table_id: str) -> bigquery.Table | None:
        try:
            return self.client.get_table(table_id)
        except gexc.NotFound:
            return None
        except Exception as exc:
            raise self._explain(exc, f"reading table metadata of {table_id}") from exc

    def _check_columns(self, spec: TableSpec, bq_table: bigquery.Table, columns: Sequence[str],
                       for_write: bool) -> None:
        found = {f.name: f for f in bq_table.schema}
        problems = []
        for name in columns:
            col = spec.column(name)
            f = found.get(name)
            if f is None:
                problems.append(f"missing column {name}")
                continue
            ftype = _TYPE_ALIASES.get(f.field_type, f.field_type)
            if ftype != col.bigquery_type or (f.mode == "REPEATED") != (col.bigquery_mode == "REPEATED"):
                problems.append(f"{name} is {f.mode} {ftype}, declared {col.bigquery_mode} {col.bigquery_type}")
        if for_write:
            extra_required = [f.name for f in bq_table.schema if f.name not in spec.column_names and f.mode == "REQUIRED"]
            if extra_required:
                problems.append(f"undeclared REQUIRED columns {extra_required} (an insert cannot fill them)")
        if problems:
            raise WarehouseError(
                f"BigQuery table {bq_table.project}.{bq_table.dataset_id}.{bq_table.table_id} does not match "
                f"the declaration of {spec.qualified_name}: {'; '.join(problems)}. Point the schema at a "
                "dataset with matching tables, or drop the table to let it be recreated"
            )

    def ensure_table(self, spec: TableSpec) -> str:
        """Create ``spec``'s table (partitioned, clustered) if missing, else check its columns; returns
        its id."""
        table_id = self.table_id(spec)
        existing = self._get_table(table_id)
        if existing is None:
            try:
                self.client.create_table(spec.bigquery_table(table_id), exists_ok=True)
            except Exception as exc:
                raise self._explain(exc, f"creating table {table_id}") from exc
            return table_id
        self._check_columns(spec, existing, spec.column_names, for_write=True)
        part = existing.time_partitioning.field if existing.time_partitioning else None
        if part != spec.partition_column:
            log.warning("%s is partitioned by %s, not by %s: replacing a day scans the whole table",
                        table_id, part, spec.partition_column)
        return table_id

    # ------------------------------------------------------------------ jobs
    def _job_config(self, cls, **kwargs):
        cfg = cls(**kwargs)
        if self.job_labels:
            cfg.labels = dict(self.job_labels)
        return cfg

    def _run_query(self, sql: str, params: Sequence[bigquery.ScalarQueryParameter] = ()) -> bigquery.QueryJob:
        cfg = self._job_config(bigquery.QueryJobConfig, query_parameters=list(params))
        job = self.client.query(sql, job_config=cfg, job_id_prefix="nba_precompute_")
        job.result()
        self.stats["query_jobs"] += 1
        self.stats["bytes_processed"] += job.total_bytes_processed or 0
        self.stats["bytes_billed"] += job.total_bytes_billed or 0
        return job

    def _to_polars(self, job: bigquery.QueryJob) -> pl.DataFrame:
        # The Storage Read API is used when google-cloud-bigquery-storage is installed (production);
        # against an emulator endpoint the REST pages are read.
        arrow = job.result().to_arrow(create_bqstorage_client=not self.settings.api_endpoint)
        return pl.from_arrow(arrow) if arrow.num_rows or arrow.num_columns else pl.DataFrame()

    def dry_run_bytes(self, sql: str, params: Sequence[object] = ()) -> int:
        """Bytes a query would process (``QueryJobConfig(dry_run=True)``; free). Emulators report 0."""
        cfg = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False,
                                      query_parameters=[_param(None, p) for p in params])
        return int(self.client.query(sql, job_config=cfg).total_bytes_processed or 0)

    # ------------------------------------------------------------------ reads
    def _read_sql(self, table: TableSpec, start: dt.date | None, end: dt.date | None,
                  cols: Sequence[str]) -> tuple[str, list[bigquery.ScalarQueryParameter]]:
        where, params = [], []
        part = _ident(table.partition_column)
        if start is not None:
            where.append(f"{part} >= @start")
            params.append(_param("start", start))
        if end is not None:
            where.append(f"{part} <= @end")
            params.append(_param("end", end))
        sql = f"SELECT {', '.join(_ident(c) for c in cols)} FROM {self.table_ref(table)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return sql, params

    def exists(self, table: TableSpec) -> bool:
        """True when ``table`` exists in its dataset."""
        return self._get_table(self.table_id(table)) is not None

    def read(self, table: TableSpec, start: dt.date | None = None, end: dt.date | None = None,
             columns: Sequence[str] | None = None) -> pl.DataFrame:
        """Rows of ``table`` with ``start <= partition column <= end`` (either bound optional), only
        ``columns`` (default: all declared). The bounds are pushed into the query, so BigQuery scans
        only the partitions of the window.

        Returns a frame with the declared Polars types; an empty frame when the table does not exist.
        Raises :class:`WarehouseError` when the dataset is missing or unreadable, or the table lacks a
        declared column.
        """
        cols = list(columns) if columns else table.column_names
        self.check_dataset(table.schema)
        existing = self._get_table(self.table_id(table))
        if existing is None:
            return table.empty_frame().select(cols)
        self._check_columns(table, existing, cols, for_write=False)
        sql, params = self._read_sql(table, start, end, cols)
        try:
            df = self._to_polars(self._run_query(sql, params))
        except Exception as exc:
            raise self._explain(exc, f"reading {self.table_id(table)}") from exc
        if df.height == 0:
            return table.empty_frame().select(cols)
        return df.select(cols).cast({c: table.column(c).polars_type for c in cols})

    def read_bytes(self, table: TableSpec, start: dt.date | None = None, end: dt.date | None = None,
                   columns: Sequence[str] | None = None) -> int:
        """Bytes :meth:`read` with the same arguments would scan, from a dry run of its query."""
        sql, params = self._read_sql(table, start, end, list(columns) if columns else table.column_names)
        cfg = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False, query_parameters=params)
        return int(self.client.query(sql, job_config=cfg).total_bytes_processed or 0)

    def partition_log(self, table: TableSpec, start: dt.date, end: dt.date) -> pl.DataFrame:
        """Materialised days of ``table`` in [start, end]: ``partition_date``, ``row_count``, ``run_id``,
        ``written_at``. For a table of an external schema every day of the range is reported, with the
        rows it holds (0 for a day without rows), ``run_id`` NULL and ``written_at`` the table's last
        modification."""
        if self.is_external(table):
            return self._external_partition_log(table, start, end)
        self.check_dataset(PARTITION_LOG.schema)
        log_id = self.table_id(PARTITION_LOG)
        if self._get_table(log_id) is None:
            return pl.DataFrame(schema=PARTITION_LOG_SCHEMA)
        job = self._run_query(
            f"SELECT partition_date, row_count, run_id, written_at FROM `{log_id}` "
            "WHERE table_name = @name AND partition_date BETWEEN @start AND @end ORDER BY partition_date",
            [_param("name", table.qualified_name), _param("start", start), _param("end", end)],
        )
        df = self._to_polars(job)
        if df.height == 0:
            return pl.DataFrame(schema=PARTITION_LOG_SCHEMA)
        return df.select(list(PARTITION_LOG_SCHEMA)).cast(PARTITION_LOG_SCHEMA)

    def row_counts(self, table: TableSpec, start: dt.date, end: dt.date) -> pl.DataFrame:
        """Rows ``table`` holds per day of [start, end], counted by BigQuery (``GROUP BY`` on the
        partition column, so only that column of the window's partitions is scanned): ``partition_date``,
        ``row_count`` (days without rows absent; an empty frame when the table does not exist).

        Raises :class:`WarehouseError` when the dataset is missing or unreadable or the query fails.
        """
        self.check_dataset(table.schema)
        if self._get_table(self.table_id(table)) is None:
            return pl.DataFrame(schema=ROW_COUNTS_SCHEMA)
        part = _ident(table.partition_column)
        try:
            counts = self._to_polars(self._run_query(
                f"SELECT {part} AS partition_date, COUNT(*) AS row_count FROM {self.table_ref(table)} "
                f"WHERE {part} BETWEEN @start AND @end GROUP BY 1 ORDER BY 1",
                [_param("start", start), _param("end", end)],
            ))
        except Exception as exc:
            raise self._explain(exc, f"counting the rows of {self.table_id(table)}") from exc
        if counts.height == 0:
            return pl.DataFrame(schema=ROW_COUNTS_SCHEMA)
        return counts.select(list(ROW_COUNTS_SCHEMA)).cast(ROW_COUNTS_SCHEMA)

    def check_readable(self) -> None:
        """Raise :class:`WarehouseError` unless every dataset of the warehouse exists in the configured
        location and is readable, and the caller may run query jobs (:meth:`check`; metadata calls and
        a free dry run)."""
        self.check()

    def _external_partition_log(self, table: TableSpec, start: dt.date, end: dt.date) -> pl.DataFrame:
        self.check_dataset(table.schema)
        existing = self._get_table(self.table_id(table))
        if existing is None:
            return pl.DataFrame(schema=PARTITION_LOG_SCHEMA)
        counts = self.row_counts(table, start, end)
        days = pl.DataFrame({"partition_date": pl.date_range(start, end, "1d", eager=True)})
        modified = existing.modified or now_utc()
        return days.join(counts, on="partition_date", how="left").with_columns(
            pl.col("row_count").fill_null(0),
            pl.lit(None, pl.String).alias("run_id"),
            pl.lit(modified).cast(pl.Datetime("us", "UTC")).alias("written_at"),
        ).cast(PARTITION_LOG_SCHEMA)

    def query(self, sql: str, params: Sequence[object] = ()) -> pl.DataFrame:
        """Run a GoogleSQL query (positional ``?`` parameters) and return a Polars frame. Use
        :meth:`table_ref` for table names."""
        try:
            return self._to_polars(self._run_query(sql, [_param(None, p) for p in params]))
        except Exception as exc:
            raise self._explain(exc, "running a query") from exc

    # ------------------------------------------------------------------ writes
    def _stage(self, spec: TableSpec, df: pl.DataFrame, token: str) -> str:
        """Load ``df`` (already conformed to ``spec``) into a new staging table through one Parquet load
        job; returns the staging table id."""
        project, dataset = self.settings.staging()
        stage_id = f"{project}.{dataset}._stage_{spec.schema}__{spec.name}_{token}"
        stage = bigquery.Table(stage_id, schema=spec.bigquery_schema())
        stage.expires = now_utc() + STAGING_EXPIRATION
        stage.description = f"Staging rows for {spec.qualified_name} (deleted after the swap)"
        self.client.create_table(stage)
        buf = io.BytesIO()
        df.write_parquet(buf)
        buf.seek(0)
        parquet = bigquery.ParquetOptions()
        parquet.enable_list_inference = True  # a Parquet LIST column loads as REPEATED, not a RECORD
        cfg = self._job_config(bigquery.LoadJobConfig, source_format=bigquery.SourceFormat.PARQUET,
                               schema=spec.bigquery_schema(), write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
                               create_disposition=bigquery.CreateDisposition.CREATE_NEVER)
        cfg.parquet_options = parquet
        job = self.client.load_table_from_file(buf, stage_id, job_config=cfg, job_id_prefix="nba_precompute_load_")
        job.result()
        self.stats["load_jobs"] += 1
        if job.output_rows is not None and job.output_rows != df.height:
            raise WarehouseError(f"staging load of {spec.qualified_name} wrote {job.output_rows} rows, "
                                 f"expected {df.height}")
        return stage_id

    def swap_script(self, targets: Sequence[tuple[PartitionWrite, str, str | None]], log_stage: str,
                    start: dt.date, end: dt.date) -> str:
        """The transaction that swaps staged rows in. ``targets``: (write, target table id, staging table
        id or None when the write has no rows)."""
        lo, hi = bq_literal(start), bq_literal(end)
        stmts = ["BEGIN TRANSACTION;"]
        for w, target_id, stage_id in targets:
            t = w.table
            scope = "".join(f" AND {_ident(k)} = {bq_literal(str(v))}" for k, v in w.scope.items())
            stmts.append(f"DELETE FROM `{target_id}` WHERE {_ident(t.partition_column)} BETWEEN {lo} AND {hi}{scope};")
            if stage_id:
                cols = ", ".join(_ident(c) for c in t.column_names)
                stmts.append(f"INSERT INTO `{target_id}` ({cols}) SELECT {cols} FROM `{stage_id}`;")
        log_id = self.table_id(PARTITION_LOG)
        names = ", ".join(bq_literal(w.log_name) for w, _, _ in targets)
        cols = ", ".join(_ident(c) for c in PARTITION_LOG.column_names)
        stmts.append(f"DELETE FROM `{log_id}` WHERE partition_date BETWEEN {lo} AND {hi} AND table_name IN ({names});")
        stmts.append(f"INSERT INTO `{log_id}` ({cols}) SELECT {cols} FROM `{log_stage}`;")
        stmts.append("COMMIT TRANSACTION;")
        return "\n".join(stmts)

    def replace_partitions(self, writes: Sequence[PartitionWrite], start: dt.date, end: dt.date,
                           run_id: str | None = None, days: Sequence[dt.date] | None = None) -> dict[str, int]:
        """Replace the days [start, end] of every table in ``writes`` in ONE BigQuery transaction (see
        the module docstring for the steps), recording the partitions ``days`` (default: every day of
        the range) in the partition log.

        Raises :class:`WarehouseError` - and changes no target table - when a frame is invalid (as
        :func:`~nba_precompute.warehouse.base.prepare_writes`), the configuration is wrong (dataset
        missing, wrong location, no permission), a table is external or does not match its
        declaration, or a job fails (the transaction is then rolled back by BigQuery). Returns the rows
        written per partition-log name.
        """
        now = now_utc()
        prepared = prepare_writes(writes, start, end, run_id, now, days)
        external = [w.table.qualified_name for w, _ in prepared if self.is_external(w.table)]
        if external:
            raise WarehouseError(f"{external} belong to external (read-only) schemas "
                                 f"{list(self.settings.external_schemas)}: deselect their assets")
        schemas = {w.table.schema for w, _ in prepared} | {PARTITION_LOG.schema}
        for s in sorted(schemas):
            self.check_dataset(s)
        self.check_jobs()

        token = uuid.uuid4().hex[:12]
        staged: list[str] = []
        try:
            targets: list[tuple[PartitionWrite, str, str | None]] = []
            for w, df in prepared:
                target_id = self.ensure_table(w.table)
                stage_id = self._stage(w.table, df, f"{token}_{len(staged)}") if df.height else None
                if stage_id:
                    staged.append(stage_id)
                targets.append((w, target_id, stage_id))
            self.ensure_table(PARTITION_LOG)
            log_rows = pl.concat([partition_log_rows(w, df, start, end, run_id, now, days) for w, df in prepared])
            log_stage = self._stage(PARTITION_LOG, log_rows, f"{token}_log")
            staged.append(log_stage)
            script = self.swap_script(targets, log_stage, start, end)
            for attempt in range(1, CONCURRENT_UPDATE_ATTEMPTS + 1):
                try:
                    self._run_query(script)
                    break
                except gexc.GoogleAPICallError as exc:
                    if "concurrent update" not in str(exc).lower() or attempt == CONCURRENT_UPDATE_ATTEMPTS:
                        raise
                    log.warning("transaction aborted by a concurrent update, retrying (%d): %s", attempt, exc)
        except WarehouseError:
            raise
        except Exception as exc:
            raise WarehouseError(
                f"writing {[w.table.qualified_name for w in writes]} [{start}, {end}] to BigQuery failed; the "
                f"transaction was not committed and the previous partitions are unchanged: "
                f"{self._explain(exc, 'writing')}") from exc
        finally:
            for stage_id in staged:
                try:
                    self.client.delete_table(stage_id, not_found_ok=True)
                except Exception as exc:  # noqa: BLE001 - the table expires by itself
                    log.warning("could not delete staging table %s (it expires in a day): %s", stage_id, exc)
        return {w.log_name: df.height for w, df in prepared}
