"""Shared pieces of the real-data tests of the seasons after 2022-23 (issue 10): a few weeks of one
season built through Dagster, the invariants every season's Phase 4 tables must hold, the asset
checks' outcomes, and the raw files read again here with plain Polars (never the project's readers or
transforms) for the independent recomputations."""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from dagster import AssetCheckSeverity, AssetKey, DagsterInstance
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus as Status,
)

from nba_precompute.defs.phase4.checks import CHECK_NAMES, INCOMPLETE_RATE_WITHIN_BAND
from nba_precompute.defs.phase4.tables import PHASE4_TABLES
from nba_precompute.pipeline import materialize_range
from nba_precompute.schemas import FRACTION, PRECOMPUTE_FAILURES
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_precompute_tests.conftest import PHASE4_SELECTION
from nba_precompute_tests.dagster_helpers import evaluation, latest_by_partition

HOOPR = "boxscores/hoopr-nba-project"
PAINT_ZONES = ("Restricted Area", "In The Paint (Non-RA)")
PHASE4 = {t.spec.name: t for t in PHASE4_TABLES}  # the Phase 4 declarations by table name


@dataclass
class SeasonWarehouse:
    warehouse: DuckDBWarehouse
    instance: DagsterInstance
    phase4_days: list[dt.date]  # the Phase 4 partitions materialised
    results: list


def build_season(path: Path, raw_dir: Path, history: tuple[str, str],
                 phase4_ranges: list[tuple[str, str]]) -> SeasonWarehouse:
    """Phase 3 over ``history`` (opening night .. end) and Phase 4 over each of ``phase4_ranges``, each
    one Dagster run into the DuckDB file ``path``; asserts that every run succeeded."""
    db = str(path)
    instance = DagsterInstance.ephemeral()
    results = [materialize_range(*history, duckdb_path=db, raw_dir=str(raw_dir), selection="group:phase3_analytics",
                                 instance=instance)]
    for first, last in phase4_ranges:
        results.append(materialize_range(first, last, duckdb_path=db, raw_dir=str(raw_dir),
                                         selection=PHASE4_SELECTION, instance=instance))
    assert all(r.success for r in results)
    wh = DuckDBWarehouse(db)
    days = sorted(wh.query("SELECT DISTINCT partition_date AS d FROM nba_processing.partition_log WHERE table_name = ?",
                           [PHASE4_TABLES[0].spec.qualified_name]).get_column("d").to_list())
    return SeasonWarehouse(wh, instance, days, results)


# ------------------------------------------------------------------ invariants shared by every season


def assert_phase4_invariants(built: SeasonWarehouse) -> dict[str, pl.DataFrame]:
    """Keys unique and non-NULL, every fraction in [0, 1], PSZA rates summing to 1, rows at or above
    each table's minimum and INCOMPLETE_DATA rows below it, no true failure, rows only on the Phase 4
    partitions. Returns the tables read (by table name, plus ``failures``)."""
    wh = built.warehouse
    out: dict[str, pl.DataFrame] = {}
    days = set(built.phase4_days)
    for name, table in PHASE4.items():
        df = wh.read(table.spec)
        out[name] = df
        assert df.height > 0, name
        key = list(table.spec.key)
        assert df.select(key).null_count().sum_horizontal().item() == 0, name
        assert not df.select(key).is_duplicated().any(), name
        assert set(df.get_column(table.spec.partition_column).unique().to_list()) <= days, name
        for c in table.spec.columns:
            if c.unit == FRACTION:
                s = df.get_column(c.name).drop_nulls()
                assert ((s >= 0) & (s <= 1)).all(), f"{name}.{c.name} outside [0, 1]"
    failures = wh.read(PRECOMPUTE_FAILURES)
    out["failures"] = failures
    assert not failures.select(PRECOMPUTE_FAILURES.key).is_duplicated().any()
    assert failures.filter(pl.col("is_failure")).is_empty(), failures.filter(pl.col("is_failure")).head(5)

    psza = out["player_shot_zone_analysis"]
    rates = psza.select(pl.sum_horizontal("paint_rate_last_10", "mid_range_rate_last_10",
                                          "three_pt_rate_last_10").alias("s"),
                        pl.col("paint_rate_last_10").is_not_null().alias("split"))
    # with a zone split the three rates sum to 1; without one only the three-point share exists
    split = rates.filter(pl.col("split")).get_column("s")
    assert split.is_empty() or (split - 1).abs().max() < 1e-12
    assert set(psza.get_column("games_in_sample_10").to_list()) == {10}
    assert set(out["team_defense_zone_analysis"].get_column("games_in_sample").to_list()) == {15}
    assert out["player_daily_cache"].get_column("games_played_season").min() >= 3
    assert (out["player_daily_cache"].get_column("last_played_game_date")
            < out["player_daily_cache"].get_column("cache_date")).all()
    for name, table in PHASE4.items():
        below = failures.filter((pl.col("processor") == name) & (pl.col("failure_category") == "INCOMPLETE_DATA"))
        if table.minimum_games is not None and below.height:
            assert below.get_column("games_found").max() < table.minimum_games, name
    return out


def assert_checks_pass(built: SeasonWarehouse) -> None:
    """Every check of every Phase 4 asset has one evaluation per Phase 4 partition; minimum_games and the
    blocking checks (upstream_complete, valid_values) passed; incomplete_rate_within_band never reported
    an ERROR (a WARN, an incomplete rate above the week's expected band, is allowed)."""
    keys = sorted(d.isoformat() for d in built.phase4_days)
    for table in PHASE4_TABLES:
        for name in CHECK_NAMES:
            latest = latest_by_partition(built.instance, AssetKey(table.spec.asset_key_path), name)
            assert sorted(latest) == keys, (table.spec.name, name)
            for rec in latest.values():
                ev = evaluation(rec)
                if name == INCOMPLETE_RATE_WITHIN_BAND:
                    # never an ERROR, never blocking; a WARN (rate above the week's band) is allowed
                    assert ev.severity == AssetCheckSeverity.WARN and not ev.blocking
                    assert rec.status in (Status.SUCCEEDED, Status.FAILED)
                else:
                    assert rec.status == Status.SUCCEEDED, (table.spec.name, name, rec.partition)
                    assert ev.passed, (table.spec.name, name, rec.partition, ev.description)


# ------------------------------------------------------------------ the raw files, read again with plain Polars


def _seconds(col: str) -> pl.Expr:
    mm = pl.col(col).str.extract(r"^(\d+):(\d+)$", 1).cast(pl.Int64)
    ss = pl.col(col).str.extract(r"^(\d+):(\d+)$", 2).cast(pl.Int64)
    return (mm * 60 + ss).fill_null(0)


def raw_hoopr_games(raw_dir: Path, season_year: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(player-games, team-games) of one hoopR season's regular-season games (ids ``002yy``).

    Player-games: ``player_id``, ``team_id``, ``team``, ``game_id``, ``game_date``, ``played``
    (minutes > 0), ``points``, ``fga``, ``fg3a``, ``fg3m``. Team-games: ``team_id``, ``game_id``,
    ``game_date``, ``pts``, ``fga``, ``fta``, ``tov``, ``oreb``, ``fg3a``, ``fg3m``, ``minutes``, with
    the opponent's values prefixed ``opp_``."""
    prefix = f"002{season_year % 100:02d}"
    sched = pl.read_csv(raw_dir / HOOPR / "schedule.csv.gz", infer_schema_length=0).select(
        pl.col("game_id_nba").str.zfill(10).alias("game_id"),
        pl.col("game_date").str.to_date("%Y-%m-%d"))
    sched = sched.filter(pl.col("game_id").str.starts_with(prefix))
    box = pl.read_csv(raw_dir / HOOPR / "player_game_logs1.csv.gz", infer_schema_length=0).with_columns(
        pl.col("game_id_nba").str.zfill(10).alias("game_id"))
    box = box.filter(pl.col("game_id").str.starts_with(prefix)).join(sched, on="game_id").select(
        pl.col("person_id").cast(pl.Int64).alias("player_id"), pl.col("team_id").cast(pl.Int64),
        pl.col("team_tricode").alias("team"), "game_id", "game_date",
        (_seconds("minutes") > 0).alias("played"),
        *[pl.col(c).cast(pl.Float64).cast(pl.Int64).alias(a) for c, a in (
            ("points", "points"), ("field_goals_attempted", "fga"), ("three_pointers_attempted", "fg3a"),
            ("three_pointers_made", "fg3m"))])
    logs = pl.read_csv(raw_dir / HOOPR / "team_game_logs.csv.gz", infer_schema_length=0).with_columns(
        pl.col("game_id").str.zfill(10)).drop("game_date")  # dated by the schedule, as the box scores
    logs = logs.filter(pl.col("game_id").str.starts_with(prefix)).join(sched, on="game_id").select(
        pl.col("team_id").cast(pl.Int64), "game_id", "game_date",
        *[pl.col(c).cast(pl.Float64).alias(c) for c in ("pts", "fga", "fta", "tov", "oreb", "fg3a", "fg3m")],
        pl.col("min").cast(pl.Float64).alias("minutes"))
    opp = logs.select("game_id", pl.col("team_id").alias("opp_team_id"),
                      *[pl.col(c).alias(f"opp_{c}") for c in ("pts", "fga", "fta", "tov", "oreb", "fg3a", "fg3m")])
    teams = logs.join(opp, on="game_id").filter(pl.col("team_id") != pl.col("opp_team_id"))
    return box, teams


def raw_shots(raw_dir: Path, end_year: int) -> pl.DataFrame:
    """Every field-goal attempt of one season's shot chart: ``player_id``, ``team_id``, ``game_id``
    (10 chars), ``game_date``, ``zone`` (paint / mid_range / three_pt), ``made``."""
    name = f"NBA_{end_year}_Shots.csv"
    with zipfile.ZipFile(raw_dir / "shots" / f"{name}.zip") as zf:
        data = zf.read(name)
    shots = pl.read_csv(data, infer_schema_length=0)
    return shots.select(
        pl.col("PLAYER_ID").cast(pl.Int64).alias("player_id"), pl.col("TEAM_ID").cast(pl.Int64).alias("team_id"),
        pl.col("GAME_ID").str.zfill(10).alias("game_id"),
        pl.col("GAME_DATE").str.to_date("%m-%d-%Y").alias("game_date"),
        pl.when(pl.col("SHOT_TYPE") == "3PT Field Goal").then(pl.lit("three_pt"))
        .when(pl.col("BASIC_ZONE").is_in(PAINT_ZONES)).then(pl.lit("paint"))
        .otherwise(pl.lit("mid_range")).alias("zone"),
        (pl.col("SHOT_MADE").str.to_uppercase() == "TRUE").alias("made"),
    )


def last_games(games: pl.DataFrame, keys: pl.DataFrame, n: int | None, by: str = "player_id") -> pl.DataFrame:
    """For each (``by``, ``analysis_date``) of ``keys``: its last ``n`` games of ``games`` strictly
    before the date (every game before it when ``n`` is None), one row per game."""
    j = keys.select(by, "analysis_date").unique().join(games, on=by).filter(pl.col("game_date") < pl.col("analysis_date"))
    j = j.sort(by, "analysis_date", "game_date", descending=[False, False, True])
    return j if n is None else j.group_by(by, "analysis_date", maintain_order=True).head(n)


def zone_totals(window: pl.DataFrame, shots: pl.DataFrame) -> pl.DataFrame:
    """Zone attempts and makes of each player over the games of his window (rows ``player_id``,
    ``analysis_date``, ``game_id``): ``<zone>_att`` and ``<zone>_made`` per (player, date)."""
    j = window.select("player_id", "analysis_date", "game_id").join(
        shots.select("player_id", "game_id", "zone", "made"), on=["player_id", "game_id"])
    return j.group_by("player_id", "analysis_date").agg(
        *[(pl.col("zone") == z).sum().alias(f"{z}_att") for z in ("paint", "mid_range", "three_pt")],
        *[((pl.col("zone") == z) & pl.col("made")).sum().alias(f"{z}_made") for z in ("paint", "mid_range", "three_pt")],
    )
