"""BigQuery contract: the same assets, tables and replace-the-partition semantics on BigQuery as on
DuckDB, exercised against the local emulator ``bqemulator`` (own venv and process, see
``nba_precompute_tests/warehouse/bqemulator.py`` and ``.ci/setup-bqemulator``).

What runs through the emulator's REST API with the real ``google-cloud-bigquery`` client: dataset
checks, table creation (partitioning, clustering, modes, descriptions), Parquet load jobs into staging
tables, the multi-statement transaction (DELETE + INSERT ... SELECT, COMMIT; rollback on error),
parameterised reads, dry runs. Not covered by the emulator: IAM (permission errors are simulated with a
client that answers 403), bytes-processed numbers (it reports 0), and concurrent-transaction aborts.
"""

import datetime as dt
import os
from typing import ClassVar

import polars as pl
import pytest
from dagster import DagsterInstance
from google.api_core import exceptions as gexc
from google.cloud import bigquery
from polars.testing import assert_frame_equal

from nba_precompute import schemas
from nba_precompute.bigquery_costs import logical_bytes
from nba_precompute.cli import main as cli_main
from nba_precompute.defs.resources import WarehouseResource, warehouse_from_env
from nba_precompute.partitions import game_calendar
from nba_precompute.pipeline import materialize_range
from nba_precompute.report import build_report
from nba_precompute.schemas import (
    PLAYER_GAME_SUMMARY,
    PLAYER_SHOT_ZONE_ANALYSIS,
    PRECOMPUTE_FAILURES,
    TEAM_DEFENSE_ZONE_ANALYSIS,
)
from nba_precompute.warehouse.base import (
    PartitionWrite,
    WarehouseError,
)
from nba_precompute.warehouse.bigquery_warehouse import (
    BigQuerySettings,
    BigQueryWarehouse,
    make_client,
)
from nba_precompute_tests.conftest import (
    DEC_END,
    DEC_START,
    HISTORY_START,
    PHASE4_SELECTION,
)
from nba_precompute_tests.warehouse.bqemulator import emulator_venv, running_emulator

PROJECT = "nba-contract"
REMAT_DAY = dt.date(2022, 12, 13)
VOLATILE = {"processed_at", "created_at", "run_id"}


@pytest.fixture(scope="session")
def bq_endpoint(tmp_path_factory):
    venv = emulator_venv()
    if venv is None:
        msg = ("BigQuery emulator not installed: run `.ci/setup-bqemulator` (creates .bqemu-venv) or set "
               "NBA_PRECOMPUTE_BQEMULATOR_VENV")
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    log = tmp_path_factory.mktemp("bqemulator") / "bqemulator.log"
    with running_emulator(venv, log, project=PROJECT) as url:
        yield url


def bq_resource(endpoint: str, **kwargs) -> WarehouseResource:
    return WarehouseResource(kind="bigquery", bq_project=kwargs.pop("bq_project", PROJECT),
                             bq_api_endpoint=endpoint, **kwargs)


def _run_ids(wh, table, start, end) -> dict[dt.date, str]:
    return dict(wh.partition_log(table, start, end).select("partition_date", "run_id").iter_rows())


@pytest.fixture(scope="module")
def bq_december(bq_endpoint, raw_data_dir):
    """The conftest's December build (Phase 3 from opening night, Phase 4 over the week), through Dagster
    into the emulator; then a stale row is planted in REMAT_DAY and that day of every asset is
    rematerialised."""
    resource = bq_resource(bq_endpoint)
    wh = resource.get()
    wh.create_datasets()
    instance = DagsterInstance.ephemeral()
    runs = [
        materialize_range(HISTORY_START, DEC_END, raw_dir=str(raw_data_dir), warehouse=resource,
                          selection="group:phase3_analytics", instance=instance),
        materialize_range(DEC_START, DEC_END, raw_dir=str(raw_data_dir), warehouse=resource,
                          selection=PHASE4_SELECTION, instance=instance),
    ]
    first_run_ids = {t.name: _run_ids(wh, t, DEC_START, DEC_END)
                     for t in (PLAYER_GAME_SUMMARY, PLAYER_SHOT_ZONE_ANALYSIS)}
    rows_before = wh.read(PLAYER_SHOT_ZONE_ANALYSIS, REMAT_DAY, REMAT_DAY)
    # A stale row that a correct replace must remove: a copy of a real PSZA row under an unknown player.
    stale = rows_before.head(1).with_columns(pl.lit(-1, pl.Int64).alias("player_id"))
    wh.client.insert_rows(wh.client.get_table(wh.table_id(PLAYER_SHOT_ZONE_ANALYSIS)),
                          stale.to_dicts())
    planted = wh.read(PLAYER_SHOT_ZONE_ANALYSIS, REMAT_DAY, REMAT_DAY).height
    runs.append(materialize_range(REMAT_DAY.isoformat(), REMAT_DAY.isoformat(), raw_dir=str(raw_data_dir),
                                  warehouse=resource, selection="*", instance=instance))
    return {"resource": resource, "wh": wh, "runs": runs, "first_run_ids": first_run_ids,
            "rows_before": rows_before.height, "planted": planted}


def _normalise(df: pl.DataFrame, table) -> pl.DataFrame:
    keep = [c for c in df.columns if c not in VOLATILE]
    lists = [c.name for c in table.columns if c.type == "STRING_LIST" and c.name in keep]
    # BigQuery has no NULL array: a NULL list is stored as [] (documented in schemas.py).
    return df.select(keep).with_columns(
        [pl.col(c).fill_null(pl.lit([], pl.List(pl.String))) for c in lists]).sort(list(table.key))


def test_runs_succeed(bq_december):
    assert all(r.success for r in bq_december["runs"])


def test_tables_follow_the_declarations(bq_december):
    wh = bq_december["wh"]
    for spec in (*schemas.ALL_TABLES, *schemas.BOOKKEEPING_TABLES):
        table = wh.client.get_table(wh.table_id(spec))
        assert table.time_partitioning.type_ == "DAY"
        assert table.time_partitioning.field == spec.partition_column
        assert table.clustering_fields == (list(spec.cluster_by) or None)
        assert [(f.name, f.field_type, f.mode) for f in table.schema] == [
            (c.name, c.bigquery_type, c.bigquery_mode) for c in spec.columns]
        assert [f.description for f in table.schema] == [c.full_description for c in spec.columns]


@pytest.mark.parametrize("table", (*schemas.ALL_TABLES, schemas.INPUT_VERSIONS), ids=lambda t: t.name)
def test_same_rows_as_duckdb(bq_december, december_warehouse, table):
    """Every table equals the DuckDB build row for row (except write timestamps and run ids)."""
    start = dt.date.fromisoformat(HISTORY_START)
    end = dt.date.fromisoformat(DEC_END)
    bq = bq_december["wh"].read(table, start, end)
    duck = december_warehouse.warehouse.read(table, start, end)
    assert bq.height > 0
    assert_frame_equal(_normalise(bq, table), _normalise(duck, table), check_exact=False, rel_tol=1e-12)


@pytest.mark.parametrize("table", schemas.ALL_TABLES, ids=lambda t: t.name)
def test_no_duplicate_keys(bq_december, table):
    wh = bq_december["wh"]
    key = ", ".join(f"`{k}`" for k in table.key)
    dups = wh.query(f"SELECT {key}, COUNT(*) AS n FROM {wh.table_ref(table)} GROUP BY {key} HAVING COUNT(*) > 1")
    assert dups.height == 0


def test_rematerialised_day_replaced_without_stale_rows(bq_december):
    wh = bq_december["wh"]
    assert bq_december["planted"] == bq_december["rows_before"] + 1  # the stale row was really there
    after = wh.read(PLAYER_SHOT_ZONE_ANALYSIS, REMAT_DAY, REMAT_DAY)
    assert after.height == bq_december["rows_before"]
    assert after.filter(pl.col("player_id") == -1).height == 0
    # The day carries the new run everywhere; the other days keep the first run.
    for spec in (PLAYER_GAME_SUMMARY, PLAYER_SHOT_ZONE_ANALYSIS):
        first = bq_december["first_run_ids"][spec.name]
        now = _run_ids(wh, spec, dt.date.fromisoformat(DEC_START), dt.date.fromisoformat(DEC_END))
        assert now[REMAT_DAY] != first[REMAT_DAY]
        assert {d: r for d, r in now.items() if d != REMAT_DAY} == {d: r for d, r in first.items() if d != REMAT_DAY}
    failures = wh.read(PRECOMPUTE_FAILURES, REMAT_DAY, REMAT_DAY)
    assert failures.get_column("run_id").n_unique() == 1
    assert failures.get_column("run_id")[0] == _run_ids(wh, PLAYER_SHOT_ZONE_ANALYSIS, REMAT_DAY, REMAT_DAY)[REMAT_DAY]
    # No staging tables are left behind.
    staging = [t.table_id for t in wh.client.list_tables(".".join(wh.settings.staging()))]
    assert not [t for t in staging if t.startswith("_stage_")]


def test_read_pushes_the_window_down(bq_december):
    wh = bq_december["wh"]
    sql, params = wh._read_sql(PLAYER_GAME_SUMMARY, REMAT_DAY, REMAT_DAY, ["game_id", "player_id"])
    assert "WHERE `game_date` >= @start AND `game_date` <= @end" in sql
    assert [(p.name, p.value) for p in params] == [("start", REMAT_DAY), ("end", REMAT_DAY)]
    df = wh.read(PLAYER_GAME_SUMMARY, REMAT_DAY, REMAT_DAY, ["game_id", "player_id"])
    assert df.columns == ["game_id", "player_id"] and df.height > 0
    assert wh.read_bytes(PLAYER_GAME_SUMMARY, REMAT_DAY, REMAT_DAY) >= 0  # dry run accepted (0 on the emulator)


def test_failed_transaction_leaves_partitions_unchanged(bq_december, monkeypatch):
    wh = BigQueryWarehouse(bq_december["wh"].settings, bq_december["wh"].client)
    before = wh.read(TEAM_DEFENSE_ZONE_ANALYSIS, REMAT_DAY, REMAT_DAY)
    original = wh.swap_script
    # Fail after the DELETE and INSERT statements, before COMMIT.
    monkeypatch.setattr(wh, "swap_script", lambda *a: original(*a).replace(
        "COMMIT TRANSACTION;", "SELECT ERROR('injected failure');\nCOMMIT TRANSACTION;"))
    with pytest.raises(WarehouseError, match="not committed.*injected failure"):
        wh.replace_partitions([PartitionWrite(TEAM_DEFENSE_ZONE_ANALYSIS, before.head(3))], REMAT_DAY, REMAT_DAY)
    assert_frame_equal(wh.read(TEAM_DEFENSE_ZONE_ANALYSIS, REMAT_DAY, REMAT_DAY).sort("team_abbr"),
                       before.sort("team_abbr"))


def test_external_phase3_tables_are_read_not_written(bq_december):
    """Pointing nba_analytics at tables maintained elsewhere (here: the ones written above)."""
    own = bq_december["wh"]
    ext = bq_resource(own.settings.api_endpoint, bq_datasets={"nba_analytics": f"{PROJECT}.nba_analytics"},
                      bq_external_schemas=["nba_analytics"], bq_dataset_prefix="unused_").get()
    assert ext.table_id(PLAYER_GAME_SUMMARY) == own.table_id(PLAYER_GAME_SUMMARY)
    start, end = dt.date(2022, 12, 10), dt.date(2022, 12, 16)
    assert_frame_equal(ext.read(PLAYER_GAME_SUMMARY, start, end).sort("game_id", "player_id"),
                       own.read(PLAYER_GAME_SUMMARY, start, end).sort("game_id", "player_id"))
    derived = ext.partition_log(PLAYER_GAME_SUMMARY, start, end)
    written = own.partition_log(PLAYER_GAME_SUMMARY, start, end)
    assert derived.select("partition_date", "row_count").equals(written.select("partition_date", "row_count"))
    with pytest.raises(WarehouseError, match="external"):
        ext.replace_partitions([PartitionWrite(PLAYER_GAME_SUMMARY, PLAYER_GAME_SUMMARY.empty_frame())], start, end)


def _bq_env(monkeypatch, endpoint: str, **extra: str) -> None:
    monkeypatch.setenv("NBA_PRECOMPUTE_WAREHOUSE", "bigquery")
    monkeypatch.setenv("NBA_PRECOMPUTE_BQ_PROJECT", PROJECT)
    monkeypatch.setenv("NBA_PRECOMPUTE_BQ_API_ENDPOINT", endpoint)
    for var in ("NBA_PRECOMPUTE_BQ_DATASET_PREFIX", "NBA_PRECOMPUTE_BQ_DATASETS", "NBA_PRECOMPUTE_BQ_EXTERNAL_SCHEMAS"):
        monkeypatch.delenv(var, raising=False)
    for var, value in extra.items():
        monkeypatch.setenv(var, value)


def test_validation_report_on_bigquery_equals_duckdb(bq_december, december_warehouse, monkeypatch, capsys):
    """``nba-precompute validate`` with NBA_PRECOMPUTE_WAREHOUSE=bigquery reads the emulator through the
    Warehouse interface and reports exactly what it reports for the same build in DuckDB."""
    days = [d for d in game_calendar().game_dates
            if dt.date.fromisoformat(DEC_START) <= d <= dt.date.fromisoformat(DEC_END)]
    seasons = game_calendar().seasons
    on_bq = build_report(bq_december["wh"], days, seasons)
    on_duck = build_report(december_warehouse.warehouse, days, seasons)
    for key in ("phase4", "phase3", "seasons"):
        assert_frame_equal(on_bq[key], on_duck[key])
    assert on_bq["summary"] == on_duck["summary"] and on_bq["summary"]["ok"]
    _bq_env(monkeypatch, bq_december["wh"].settings.api_endpoint)
    assert cli_main(["validate", DEC_START, DEC_END]) == 0
    assert f"warehouse: BigQuery project {PROJECT}, location US" in capsys.readouterr().out
    # datasets that do not exist: nothing can be validated -> exit 3, one line naming the fix
    _bq_env(monkeypatch, bq_december["wh"].settings.api_endpoint, NBA_PRECOMPUTE_BQ_DATASET_PREFIX="nosuch_")
    assert cli_main(["validate", DEC_START, DEC_END]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nosuch_nba_analytics" in err and "bq mk" in err


# --------------------------------------------------------------------------- misconfiguration


def _psza_rows() -> pl.DataFrame:
    return PLAYER_SHOT_ZONE_ANALYSIS.empty_frame()


def test_no_project_fails_clearly(raw_data_dir, monkeypatch):
    monkeypatch.setenv("NBA_PRECOMPUTE_WAREHOUSE", "bigquery")
    monkeypatch.delenv("NBA_PRECOMPUTE_BQ_PROJECT", raising=False)
    resource = warehouse_from_env()
    with pytest.raises(WarehouseError, match="no project is configured.*NBA_PRECOMPUTE_BQ_PROJECT"):
        resource.get()
    result = materialize_range(REMAT_DAY.isoformat(), REMAT_DAY.isoformat(), raw_dir=str(raw_data_dir),
                               warehouse=resource, selection="nba_analytics/nba_schedule",
                               instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    assert "no project is configured" in str(result.all_events)


def test_missing_dataset_fails_before_writing(bq_endpoint):
    wh = bq_resource(bq_endpoint, bq_project="nba-missing").get()
    wh.client.create_dataset(bigquery.Dataset("nba-missing.nba_precompute"))  # nba_processing is missing
    with pytest.raises(WarehouseError, match=r"dataset nba-missing\.nba_processing .*does not exist.*bq mk"):
        wh.replace_partitions([PartitionWrite(PLAYER_SHOT_ZONE_ANALYSIS, _psza_rows())], REMAT_DAY, REMAT_DAY)
    assert list(wh.client.list_tables("nba-missing.nba_precompute")) == []


def test_wrong_location_fails_clearly(bq_endpoint):
    wh = bq_resource(bq_endpoint, bq_project="nba-location", bq_location="EU").get()
    dataset = bigquery.Dataset("nba-location.nba_precompute")
    dataset.location = "US"
    wh.client.create_dataset(dataset)
    with pytest.raises(WarehouseError, match="is in location US.*configured for EU"):
        wh.read(PLAYER_SHOT_ZONE_ANALYSIS, REMAT_DAY, REMAT_DAY)


class _DenyingClient:
    """Delegates to a real client, records the calls that would write, and answers 403 (as BigQuery
    does without the role) to ``get_dataset`` or to query jobs, as named in ``deny``."""

    WRITES: ClassVar[set[str]] = {"create_table", "load_table_from_file", "insert_rows", "delete_table", "create_dataset"}

    def __init__(self, inner, deny: str):
        self.inner, self.deny, self.writes = inner, deny, []

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name in self.WRITES:
            self.writes.append(name)
        if name == self.deny == "get_dataset":
            def refuse(*args, **kwargs):
                raise gexc.Forbidden("Access Denied: Dataset nba-denied:nba_precompute: Permission "
                                     "bigquery.datasets.get denied (simulated)")
            return refuse
        if name == "query" and self.deny == "jobs":
            def refuse_job(*args, **kwargs):
                raise gexc.Forbidden("Access Denied: Project nba-denied: User does not have "
                                     "bigquery.jobs.create permission (simulated)")
            return refuse_job
        return attr


@pytest.mark.parametrize("deny, needle", [
    ("get_dataset", "reading dataset nba-denied.nba_p"),
    ("jobs", "running a query job in project nba-denied"),
])
def test_permission_denied_fails_before_writing(bq_endpoint, deny, needle):
    settings = BigQuerySettings(project="nba-denied", api_endpoint=bq_endpoint)
    real = make_client(settings)
    for s in ("nba_precompute", "nba_processing"):
        real.create_dataset(bigquery.Dataset(f"nba-denied.{s}"), exists_ok=True)
    client = _DenyingClient(real, deny)
    wh = BigQueryWarehouse(settings, client)
    with pytest.raises(WarehouseError, match=f"refused {needle}.*permission denied.*roles/bigquery.jobUser"):
        wh.replace_partitions([PartitionWrite(PLAYER_SHOT_ZONE_ANALYSIS, _psza_rows())], REMAT_DAY, REMAT_DAY)
    assert client.writes == []
    assert list(real.list_tables("nba-denied.nba_precompute")) == []


def test_schema_mismatch_of_an_existing_table_is_named(bq_endpoint):
    wh = bq_resource(bq_endpoint, bq_project="nba-legacy").get()
    wh.create_datasets()
    legacy = bigquery.Table(wh.table_id(PLAYER_GAME_SUMMARY),
                            schema=[bigquery.SchemaField("game_id", "STRING"), bigquery.SchemaField("game_date", "DATE")])
    wh.client.create_table(legacy)
    with pytest.raises(WarehouseError, match="does not match the declaration.*missing column player_id"):
        wh.read(PLAYER_GAME_SUMMARY, REMAT_DAY, REMAT_DAY)


# --------------------------------------------------------------------------- units without the emulator


def test_bigquery_types_from_the_declarations():
    col = {c.name: c for c in PLAYER_GAME_SUMMARY.columns}
    assert (col["data_quality_issues"].bigquery_type, col["data_quality_issues"].bigquery_mode) == ("STRING", "REPEATED")
    assert (col["game_id"].bigquery_type, col["game_id"].bigquery_mode) == ("STRING", "REQUIRED")
    table = PLAYER_GAME_SUMMARY.bigquery_table("p.d.player_game_summary")
    assert table.time_partitioning.field == "game_date"
    assert table.clustering_fields == ["player_id", "team_abbr"]


def test_logical_bytes_follow_bigquery_size_rules():
    df = pl.DataFrame({"i": [1, None], "f": [0.5, 1.0], "b": [True, None], "s": ["ab", "é"],
                       "d": [dt.date(2022, 1, 1), None], "l": [["x", "yz"], None]})
    # i 8; f 16; b 1; s (2+2)+(2+2); d 8; l (2+1)+(2+2)
    assert logical_bytes(df) == 8 + 16 + 1 + 8 + 8 + 7


def test_configuration_defaults_to_duckdb_and_parses_bigquery_settings(monkeypatch):
    for var in ("NBA_PRECOMPUTE_WAREHOUSE", "NBA_PRECOMPUTE_BQ_DATASETS", "NBA_PRECOMPUTE_BQ_EXTERNAL_SCHEMAS"):
        monkeypatch.delenv(var, raising=False)
    assert warehouse_from_env().kind == "duckdb"
    monkeypatch.setenv("NBA_PRECOMPUTE_WAREHOUSE", "bigquery")
    monkeypatch.setenv("NBA_PRECOMPUTE_BQ_PROJECT", "p")
    monkeypatch.setenv("NBA_PRECOMPUTE_BQ_DATASET_PREFIX", "dev_")
    monkeypatch.setenv("NBA_PRECOMPUTE_BQ_DATASETS", "nba_analytics=legacy.nba_analytics")
    monkeypatch.setenv("NBA_PRECOMPUTE_BQ_EXTERNAL_SCHEMAS", "nba_analytics")
    settings = warehouse_from_env().bigquery_settings()
    assert settings.dataset("nba_analytics") == ("legacy", "nba_analytics")
    assert settings.dataset("nba_precompute") == ("p", "dev_nba_precompute")
    assert settings.staging() == ("p", "dev_nba_processing")
    assert settings.external_schemas == ("nba_analytics",)
    monkeypatch.setenv("NBA_PRECOMPUTE_BQ_DATASETS", "nba_analytics")
    with pytest.raises(ValueError, match="expected schema=dataset"):
        warehouse_from_env()


# --------------------------------------------------------------------------- corrections (issue 18)


def test_refresh_on_bigquery_rewrites_exactly_the_stale_partitions(bq_endpoint, raw_data_dir, tmp_path):
    """A correction on BigQuery: the refresh plan reads the stored versions from the emulator, the refresh
    job rewrites exactly the stale partitions in one run, and every data table then equals a clean DuckDB
    rebuild on the corrected files (a copy of the first days of 2025-26; own datasets)."""
    from nba_precompute import refresh
    from nba_precompute.pipeline import refresh_in_process
    from nba_precompute.raw.versions import BOX_VERSION_TABLES, PRE_GAME_TABLES
    from nba_precompute_tests.raw_copies import correct_made_two, season_copy

    raw = tmp_path / "raw"
    season_copy(raw_data_dir, raw, 2025, dt.date(2025, 11, 1))
    phase3, phase4, night = ("2025-10-21", "2025-10-31"), ("2025-10-29", "2025-10-31"), dt.date(2025, 10, 29)
    resource = bq_resource(bq_endpoint, bq_dataset_prefix="refresh_")
    wh = resource.get()
    wh.create_datasets()
    duck = tmp_path / "clean.duckdb"

    def build(**target) -> None:
        instance = DagsterInstance.ephemeral()
        for (first, last), selection in ((phase3, "group:phase3_analytics"), (phase4, PHASE4_SELECTION)):
            assert materialize_range(first, last, raw_dir=str(raw), selection=selection, instance=instance,
                                     **target).success

    build(warehouse=resource)
    calendar = game_calendar(raw)
    assert refresh.plan_refresh(wh, raw, calendar).up_to_date
    log_before = wh.query(f"SELECT table_name, partition_date, run_id FROM `{wh.table_id(schemas.PARTITION_LOG)}`")
    correct_made_two(raw, night)
    plan = refresh.plan_refresh(wh, raw, calendar)
    stale = {(t, d) for t, d in plan.stale.select("table_name", "partition_date").iter_rows()}
    assert stale == ({(t, night) for t in BOX_VERSION_TABLES}
                     | {(t, dt.date(2025, 10, 30) + dt.timedelta(days=i)) for t in PRE_GAME_TABLES for i in range(2)})
    result = refresh_in_process(refresh.run_config(plan.runs), raw_dir=str(raw), warehouse=resource)
    assert result.success and refresh.plan_refresh(wh, raw, calendar).up_to_date
    log_after = wh.query(f"SELECT table_name, partition_date, run_id FROM `{wh.table_id(schemas.PARTITION_LOG)}`")
    rewritten = log_after.join(log_before, on=list(log_after.columns), how="anti")
    assert set(rewritten.get_column("run_id").to_list()) == {result.run_id}
    data_tables = rewritten.filter(pl.col("table_name").is_in(list(refresh.SPECS)))  # not their side tables
    assert {(t, d) for t, d in data_tables.select("table_name", "partition_date").iter_rows()} == stale
    build(duckdb_path=str(duck))
    from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse

    clean = DuckDBWarehouse(str(duck))
    for table in (*schemas.PHASE3_TABLES, *schemas.PHASE4_TABLES, PRECOMPUTE_FAILURES):
        assert_frame_equal(_normalise(wh.read(table), table), _normalise(clean.read(table), table),
                           check_column_order=False), table.qualified_name
