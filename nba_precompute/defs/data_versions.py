"""Dagster knows the raw data's versions (issue 18): the UI shows which partitions are stale and why.

Four external assets, one per kind of input version (:data:`nba_precompute.raw.versions.VERSION_KINDS`:
the tables of a kind read the same raw nights, ``raw.versions.read_windows``), partitioned like the
tables (one partition per day, the same partitions definition):

* ``raw/box_score_inputs``: partition D's version is D's own raw rows (schedule, box scores, team logs,
  shots); the box-score tables and ``nba_schedule`` of D depend on it;
* ``raw/season_inputs``: D's schedule and every earlier night of the season (upcoming team context,
  TDZA, PSZA);
* ``raw/cross_season_inputs``: those, and the previous season's nights while some team of D's season has
  not played yet (its roster; upcoming player context, PCF, PDC);
* ``raw/opponent_window_inputs``: those, and every night of the 365 days before D (MLFS).

Every table asset depends on the partition D of its kind's asset (identity partition mapping). The
versions are recorded as ``AssetObservation`` events carrying Dagster's data-version tag (one per
partition whose version differs from the last one observed, in one batch) by ``nba-precompute refresh``
and by the morning sensor, before they launch runs. A materialisation records, as Dagster does for every input,
the version asset's latest event at its start; when a later observation of partition D carries another
version, Dagster's stale-status resolver (``CachingStaleStatusResolver._is_dep_updated``) marks the table
partitions of D materialised before it stale: the UI's partition view shows them "Unsynced", cause "has a
new dependency data version" of ``raw/<kind>_inputs`` D (GraphQL ``staleStatus(partition:)``,
``staleCauses(partition:)``).

Only the identity edges are compared: Dagster skips a dependency edge mapping to 100 or more upstream
partitions (``SKIP_PARTITION_DATA_VERSION_DEPENDENCY_THRESHOLD``), which is every history window
between the tables; the version assets carry the whole window in one partition instead.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import polars as pl
from dagster import (
    AssetDep,
    AssetKey,
    AssetObservation,
    AssetSpec,
    DagsterInstance,
    Definitions,
    PartitionsDefinition,
    definitions,
)

from nba_precompute.dagster_storage import (
    data_version_tags,
    latest_observed_data_versions,
    store_runless_observations,
)
from nba_precompute.partitions import daily_partitions
from nba_precompute.raw.versions import (
    BOX_SCORE,
    CROSS_SEASON,
    KIND_OF_TABLE,
    OPPONENT_WINDOW,
    SEASON_PRE_GAME,
    VERSION_KINDS,
)

if TYPE_CHECKING:
    from nba_precompute.refresh import RefreshPlan

VERSION_KEYS = {BOX_SCORE: AssetKey(["raw", "box_score_inputs"]),
                SEASON_PRE_GAME: AssetKey(["raw", "season_inputs"]),
                CROSS_SEASON: AssetKey(["raw", "cross_season_inputs"]),
                OPPONENT_WINDOW: AssetKey(["raw", "opponent_window_inputs"])}
WINDOW_TEXT = {
    BOX_SCORE: "each night's own raw rows (schedule, player box scores, team game logs, shots of D's games)",
    SEASON_PRE_GAME: "D's schedule and every earlier night of the season",
    CROSS_SEASON: "D's schedule, every earlier night of the season and, until every team has played a game "
                  "of the season, the previous season's nights (its rosters; shot charts excepted)",
    OPPONENT_WINDOW: "those of the roster tables and every night of the 365 days before D, whichever season "
                     "(shot charts excepted)",
}


def description(kind: str) -> str:
    """The version asset's description: the nights it fingerprints and the tables computed from them."""
    tables = ", ".join(t.split(".")[1] for t in VERSION_KINDS[kind])
    return f"Data version of the raw nights partition D of {tables} reads: {WINDOW_TEXT[kind]}."


def version_specs(partitions_def: PartitionsDefinition) -> list[AssetSpec]:
    """The four version assets (external, observed by ``refresh`` and the morning sensor)."""
    return [AssetSpec(key=key, group_name="raw", partitions_def=partitions_def, description=description(kind),
                      metadata={"tables": ", ".join(VERSION_KINDS[kind])})
            for kind, key in VERSION_KEYS.items()]


def version_deps(table_name: str) -> list[AssetDep]:
    """The dependency of a table asset on its kind's version asset (partition D on D), or none for a
    table without input versions."""
    kind = KIND_OF_TABLE.get(table_name)
    return [AssetDep(VERSION_KEYS[kind])] if kind else []


def pending_observations(instance: DagsterInstance, versions: pl.DataFrame,
                         days: Collection[dt.date]) -> list[AssetObservation]:
    """One ``AssetObservation`` per (version asset, day of ``days``) whose version in ``versions``
    (``table_name``, ``partition_date``, ``input_version``: ``nba_precompute.raw.versions.
    partition_versions``) differs from the latest one the instance holds (or that was never observed).
    One query per asset (the latest data-version tag per partition:
    :func:`nba_precompute.dagster_storage.latest_observed_data_versions`)."""
    in_days = pl.Series(sorted(days), dtype=pl.Date).implode()
    out: list[AssetObservation] = []
    for kind, key in VERSION_KEYS.items():
        latest = latest_observed_data_versions(instance, key)
        observed = pl.DataFrame({"partition": list(latest), "observed": list(latest.values())},
                                schema={"partition": pl.String, "observed": pl.String})
        mine = versions.filter(pl.col("table_name") == VERSION_KINDS[kind][0],
                               pl.col("partition_date").is_in(in_days)).select(
            pl.col("partition_date").dt.to_string("%Y-%m-%d").alias("partition"), "input_version")
        new = mine.join(observed, on="partition", how="left").filter(
            pl.col("observed").is_null() | (pl.col("observed") != pl.col("input_version"))).sort("partition")
        out.extend(AssetObservation(asset_key=key, partition=partition,  # Dagster events: one per changed day
                                    tags=data_version_tags(version))
                   for partition, version in new.select("partition", "input_version").iter_rows())
    return out


def report(instance: DagsterInstance, observations: Sequence[AssetObservation]) -> None:
    """Record ``observations`` in the instance: the runless events ``instance.report_runless_asset_event``
    stores, in one batch (:func:`nba_precompute.dagster_storage.store_runless_observations`)."""
    store_runless_observations(instance, observations)


def describe_observations(observations: Sequence[AssetObservation]) -> str:
    """One line: how many partitions of each version asset got a new version."""
    if not observations:
        return "data versions: Dagster already has the raw data's versions"
    counts = {key: sum(1 for o in observations if o.asset_key == key) for key in VERSION_KEYS.values()}
    return "data versions recorded in Dagster: " + ", ".join(
        f"{key.to_user_string()} {n} partition(s)" for key, n in counts.items() if n)


@definitions
def data_version_definitions() -> Definitions:
    """The four version assets."""
    return Definitions(assets=version_specs(daily_partitions()))


def observe(plan: RefreshPlan, dagster_home: str | None) -> str:
    """Record the plan's versions in the Dagster instance at ``dagster_home`` (the partitions whose
    version changed since the last observation: ``defs/data_versions.py``), so that the UI shows the
    stale partitions; before the refresh runs start, so that they record the new versions as their
    inputs. Returns one line saying what was recorded (or why nothing: no instance)."""
    if not dagster_home:
        return "data versions: no Dagster instance (DAGSTER_HOME unset, no ./.dagster_home): not recorded"
    if plan.versions is None:
        return "data versions: none computed (no partition)"
    # the instance's configuration reads DAGSTER_HOME (the project's event-log storage locates its files
    # through it); the CLI's default instance is in the launched runs' environment only
    os.environ.setdefault("DAGSTER_HOME", dagster_home)
    with DagsterInstance.from_config(dagster_home) as instance:
        observations = pending_observations(instance, plan.versions,
                                            set(plan.versions.get_column("partition_date").to_list()))
        report(instance, observations)
    return describe_observations(observations)
