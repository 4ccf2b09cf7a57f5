"""Mornings that run themselves: one Dagster sensor keeps the warehouse up to the raw data.

``morning_slate_sensor`` ticks every :data:`TICK_SECONDS` seconds (the Dagster daemon runs it: ``dg dev`` /
``nba-precompute ui``, or ``dagster-daemon run`` beside a code server). Each tick:

1. reads the raw calendar (:func:`nba_precompute.partitions.game_calendar`: re-read only when a raw file
   changed, so a new night's box scores or a new season's schedule are seen without a reload);
2. asks the instance which partitions of every table asset are materialised
   (``DagsterInstance.get_materialized_partitions``);
3. requests, oldest first, one run per contiguous range of missing nights (every asset missing a
   partition there, over that range: the nights whose box scores are in), the run of ``nba-precompute
   refresh`` (one run of the refresh job ``nba_refresh``: partitions whose raw inputs changed since they
   were written, a corrected night's box-score tables, then the later pre-game partitions of its season;
   issue 18) and, when nothing else is due, one run for tonight's slate (the pre-game tables, without the
   box-score tables, which wait for tonight's box scores); a partition that reads a raw row breaking a
   domain rule (the quarantine, computed when something is due, once per raw-file fingerprint) is left out
   of them, and the tick logs it as an error (and gives it in its skip reason when nothing else is due);
4. records the raw data's versions that changed in Dagster (runless ``AssetObservation`` events, stored
   before the tick returns its runs: ``defs/data_versions.py``), so that the UI shows stale partitions.
   The runs queue behind one another (the instance runs one run of the code location at a time), so
   last night's box-score run finishes before tonight's slate reads it.

Nothing is remembered between ticks but the instance's own records: a night that could not run (files
half-arrived, a run that failed or whose process died - Dagster's run monitoring marks it failed) is
still missing on the next tick and is requested again, however late. A failed run is retried after
:data:`RETRY_MINUTES` minutes, or at once when a raw file changes. While a run of the sensor is queued
or in progress the tick waits. Every skipped tick says why in the UI (Automation -> the sensor -> its
ticks).

``NBA_PRECOMPUTE_TODAY`` (ISO date; default: today in US Eastern time, :func:`nba_precompute.config.today`)
is the product's "today": a tick words tonight by it (a slate of today or later, or box scores that are
late); what runs follows from the raw data alone.

The sensor is created STOPPED (a UI opened for exploring should not start a catch-up of every season):
start it once with ``dagster sensor start morning_slate_sensor -w workspace.yaml`` or in the UI; the
instance keeps it running across restarts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass

import polars as pl
from dagster import (
    AssetKey,
    AssetSelection,
    DagsterRunStatus,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    definitions,
    sensor,
)

from nba_precompute import config
from nba_precompute.defs.refresh_job import refresh_job
from nba_precompute.defs.resources import RawDataResource, WarehouseResource
from nba_precompute.partitions import BOX_SCORE_TABLES, LOOKAHEAD_DAYS, GameCalendar, contiguous_spans
from nba_precompute.raw.inputs import RawInputs
from nba_precompute.raw.quarantine import BLOCKED_SCHEMA, Quarantine, plan_around
from nba_precompute.raw.readers import RawDataError
from nba_precompute.raw.sources import raw_fingerprint
from nba_precompute.runs import same_day_upstream

SENSOR_NAME = "morning_slate_sensor"
TICK_SECONDS = 15
RETRY_MINUTES = 15
TRIGGER_TAG = "nba_precompute/trigger"
FINGERPRINT_TAG = "nba_precompute/raw_fingerprint"
RANGE_START_TAG = "dagster/asset_partition_range_start"  # Dagster's public tags of a partition-range run
RANGE_END_TAG = "dagster/asset_partition_range_end"
ACTIVE = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
          DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]

slate_job = define_asset_job(
    "slate_job",
    selection=AssetSelection.all(),
    description="Every table asset (Phase 3, Phase 4, MLFS) with its checks; the morning sensor runs it over "
                "the nights that arrived and tonight's slate.",
)


def plan(calendar: GameCalendar, materialized: dict[str, set[str]], refreshing: bool = False,
         quarantine: Quarantine | None = None) -> list[tuple[list[str], list[dt.date]]]:
    """The asset runs that bring the warehouse up to the raw data, oldest first: ``(asset keys, days)``.

    ``materialized``: per table asset (``"schema/table"``), its materialised partition keys. Every day
    that may be materialised (:attr:`GameCalendar.partition_days`) and is missing for some asset is due;
    tonight's slate only for the assets that are not box-score tables. Nights are grouped into
    contiguous ranges; each range's run holds the assets missing a day of it.

    ``refreshing``: a refresh run (partitions whose raw inputs changed, ``nba_precompute.refresh``) is
    requested after these runs on this tick.

    ``quarantine``: the partitions that read a quarantined raw row (:func:`blocked_nights`) are not due,
    and no run holds one: a range is split where its blocked assets change
    (``raw.quarantine.plan_around``), and a run leaves out the assets blocked on its days.

    Tonight's slate is requested only when nothing else is due (no missing night, no refresh): it reads
    every earlier night, so it waits for a tick on which they are all in the warehouse (were it queued
    behind a run that fails, it would be written over a hole; a blocked night blocks the partitions of
    tonight that read it). And only when tonight is already a partition of Dagster's calendar (at most
    ``LOOKAHEAD_DAYS`` after today).
    """
    blocked = blocked_nights(calendar, materialized, quarantine)
    off = {(k.replace(".", "/"), d) for k, d in blocked.select("table_name", "partition_date").iter_rows()}
    every = [d for d in calendar.partition_days if d != calendar.tonight]
    missing = {key: [d for d in every if d.isoformat() not in parts and (key, d) not in off]
               for key, parts in materialized.items()}
    runs = []
    for span in contiguous_spans({d for days in missing.values() for d in days}):
        inside = set(span)
        keys = sorted(k for k, days in missing.items() if inside & set(days))
        runs.extend(_around(quarantine, keys, span))
    if not runs and not refreshing and calendar.tonight is not None and calendar.tonight in set(calendar.partition_days):
        tonight = calendar.tonight.isoformat()
        keys = sorted(k for k, parts in materialized.items()
                      if k not in BOX_SCORE_TABLES and tonight not in parts and (k, calendar.tonight) not in off)
        if keys:
            runs.append((keys, [calendar.tonight]))
    return runs


def _around(quarantine: Quarantine | None, keys: list[str], span: list[dt.date]) -> list[tuple[list[str], list[dt.date]]]:
    """The runs of ``keys`` (``"schema/table"``) over ``span`` around the quarantine (:func:`refresh_around`)."""
    kept, _ = refresh_around([([k.replace("/", ".") for k in keys], span)], quarantine)
    return [([t.replace(".", "/") for t in tables], days) for tables, days in kept]


def blocked_nights(calendar: GameCalendar, materialized: dict[str, set[str]],
                   quarantine: Quarantine | None) -> pl.DataFrame:
    """The partitions the sensor would request but a quarantined raw row blocks (rows of
    ``Quarantine.blocked``, a partition reading a blocked partition of its own day included:
    ``nba_precompute.runs.same_day_upstream``): among the partitions not materialised of every day that may
    be (tonight's: not of the box-score tables). Empty without a quarantine."""
    if quarantine is None or quarantine.blocked.is_empty():
        return pl.DataFrame(schema=BLOCKED_SCHEMA)
    hit = plan_around(quarantine, [k.replace("/", ".") for k in materialized], calendar.partition_days,
                      same_day_upstream()).blocked
    pairs = hit.with_columns(pl.col("table_name").str.replace(".", "/", literal=True).alias("__key"))
    done = pl.DataFrame([(k, dt.date.fromisoformat(p)) for k, parts in materialized.items() for p in parts],
                        schema={"__key": pl.String, "partition_date": pl.Date}, orient="row")
    tonight_box = (pl.col("partition_date") == calendar.tonight) & pl.col("__key").is_in(list(BOX_SCORE_TABLES))
    return (pairs.join(done, on=["__key", "partition_date"], how="anti")
            .filter(~tonight_box if calendar.tonight is not None else pl.lit(True)).drop("__key"))


def refresh_around(steps: list[tuple[list[str], list[dt.date]]],
                   quarantine: Quarantine | None) -> tuple[list[tuple[list[str], list[dt.date]]], pl.DataFrame]:
    """The refresh run's steps (``(tables, days)``, in order) without the stale partitions that read a
    quarantined raw row (``raw.quarantine.plan_around``, a partition reading a blocked partition of its
    own day included), and those blocked partitions (rows of ``Quarantine.blocked``). Unchanged, and
    nothing blocked, without a quarantine."""
    if quarantine is None or quarantine.blocked.is_empty() or not steps:
        return steps, pl.DataFrame(schema=BLOCKED_SCHEMA)
    kept, hits = [], [pl.DataFrame(schema=BLOCKED_SCHEMA)]
    upstream = same_day_upstream()
    for tables, days in steps:  # a few steps; each split where the blocked tables change
        around = plan_around(quarantine, tables, days, upstream)
        kept.extend((sorted(keep, key=list(tables).index), span) for keep, span in around.runs)
        hits.append(around.blocked)
    return kept, pl.concat(hits)


def _fingerprint(raw_dir: str) -> str:
    return hashlib.sha1(repr(raw_fingerprint(raw_dir)).encode()).hexdigest()[:16]


def describe_wait(calendar: GameCalendar, day: dt.date) -> str:
    """One line on what the automation waits for."""
    if calendar.tonight is None:
        return f"no scheduled game left in the raw data (last game date {calendar.horizon})"
    n = len(calendar.missing_games(calendar.tonight))
    if calendar.tonight not in set(calendar.partition_days):
        return (f"tonight's slate {calendar.tonight} is not a partition of Dagster's calendar yet (it ends "
                f"{calendar.calendar_end}); it runs from {calendar.tonight - dt.timedelta(days=LOOKAHEAD_DAYS)}")
    if calendar.tonight < day:
        return (f"the box scores of {calendar.tonight} ({n} game(s)) are late: not in the raw data "
                f"{(day - calendar.tonight).days} day(s) after (today {day})")
    return f"tonight's slate {calendar.tonight} is up to date; its {n} game(s) are not in the raw box scores yet"


@sensor(
    name=SENSOR_NAME,
    jobs=[slate_job, refresh_job],
    minimum_interval_seconds=TICK_SECONDS,
    default_status=DefaultSensorStatus.STOPPED,
    description="Materialises every night whose box scores are in and tonight's slate, as the raw data "
                "arrives (new nights, late files, a new season's schedule); retries what failed.",
)
def morning_slate_sensor(context: SensorEvaluationContext, raw_data: RawDataResource, warehouse: WarehouseResource):
    instance = context.instance
    active = instance.get_run_records(RunsFilter(tags={TRIGGER_TAG: SENSOR_NAME}, statuses=ACTIVE), limit=1)
    if active:
        return SkipReason(f"run {active[0].dagster_run.run_id[:8]} of this sensor is "
                          f"{active[0].dagster_run.status.value.lower()}: waiting for it")
    try:
        calendar = raw_data.calendar()
    except RawDataError as exc:
        return SkipReason(f"the raw data cannot be read: {exc}")
    fingerprint = _fingerprint(str(raw_data.path))
    last = instance.get_run_records(RunsFilter(tags={TRIGGER_TAG: SENSOR_NAME}), limit=1)
    if last and last[0].dagster_run.status in (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED):
        run = last[0]
        ended = run.end_time or time.time()
        retry_at = ended + RETRY_MINUTES * 60
        if run.dagster_run.tags.get(FINGERPRINT_TAG) == fingerprint and time.time() < retry_at:
            return SkipReason(
                f"run {run.dagster_run.run_id[:8]} failed (see its logs); retrying at "
                f"{dt.datetime.fromtimestamp(retry_at, dt.timezone.utc):%H:%M} UTC or as soon as a raw file changes")
    keys = [AssetKey(list(k.asset_key_path)) for k in _table_assets()]
    materialized = {k.to_user_string(): set(instance.get_materialized_partitions(k)) for k in keys}
    stale_plan = stale_runs(calendar, raw_data, warehouse, instance, fingerprint)
    stale, stale_note = stale_plan.steps, stale_plan.note
    if stale_note:
        context.log.error(stale_note)
    # the raw data's versions into Dagster (defs/data_versions.py), stored before the requested runs start
    recorded = record_versions(instance, stale_plan)
    if recorded:
        context.log.info(f"data versions: {recorded} partition(s) of the raw/*_inputs assets have a new version")
    runs = plan(calendar, materialized, refreshing=bool(stale))
    blocked_note = ""
    if runs or stale:  # something is due: leave out the partitions that read a quarantined raw row (issue 18)
        quarantine, blocked_note = quarantined(raw_data, calendar, fingerprint)
        stale, held = refresh_around(stale, quarantine)
        blocked = pl.concat([blocked_nights(calendar, materialized, quarantine), held]).unique()
        if blocked.height:
            runs = plan(calendar, materialized, refreshing=bool(stale), quarantine=quarantine)
            n = blocked.select("table_name", "partition_date").unique().height
            blocked_note = (f"{n} partition(s) not requested: they read raw rows that break a domain rule "
                            f"(quarantined): {quarantine.partitions(blocked)}: " + " | ".join(quarantine.lines(blocked))
                            + "; correct the raw row(s): they are requested on the tick after")
        if blocked_note:
            context.log.error(blocked_note)
    day = config.today()
    if not runs and not stale:
        skip = ((f"{stale_note}; " if stale_note else "") + (f"{blocked_note}; " if blocked_note else "")
                + f"up to date through {calendar.horizon}: {describe_wait(calendar, day)}")
        return SkipReason(skip)
    tags = {TRIGGER_TAG: SENSOR_NAME, FINGERPRINT_TAG: fingerprint}
    requests = [RunRequest(
        job_name=slate_job.name,
        asset_selection=[AssetKey.from_user_string(k) for k in asset_keys],
        tags={**tags, RANGE_START_TAG: days[0].isoformat(), RANGE_END_TAG: days[-1].isoformat(),
              "nba_precompute/what": "tonight's slate (pre-game tables)" if days == [calendar.tonight]
              else "nights in the raw data"},
    ) for asset_keys, days in runs]
    if stale:  # one run of the refresh job, after the missing nights (``defs/refresh_job.py``)
        from nba_precompute.refresh import run_config

        requests.append(RunRequest(job_name=refresh_job.name, run_config=run_config(stale),
                                   tags={**tags, "nba_precompute/what": "refresh: raw inputs changed (corrections)"}))
    context.log.info("; ".join([*(f"{'slate' if d == [calendar.tonight] else 'nights'} {d[0]}...{d[-1]}: "
                                  f"{len(k)} asset(s)" for k, d in runs),
                                *([f"refresh: {len(stale)} step(s), {sum(len(t) * len(d) for t, d in stale)} "
                                   "partition(s)"] if stale else [])]))
    return SensorResult(run_requests=requests)


# the quarantine of the last raw files seen (their fingerprint): parsed and checked again only when a file changed
_QUARANTINE_CACHE: dict[tuple, tuple[Quarantine | None, str]] = {}


def quarantined(raw_data: RawDataResource, calendar: GameCalendar, fingerprint: str) -> tuple[Quarantine | None, str]:
    """The quarantine of every partition of Dagster's calendar (``RawInputs.quarantine``: the hoopR files and
    shot charts parsed and checked against the domain rules, about 1 s a season), computed again only when
    a raw file changed; and a note (empty, or why it could not be computed: a raw file missing or corrupt,
    whose runs then fail naming it)."""
    days = calendar.partition_days
    key = (fingerprint, str(raw_data.path), days[0], days[-1])
    if key not in _QUARANTINE_CACHE:
        try:
            inputs = RawInputs(raw_data.path, calendar.seasons)
            result: tuple[Quarantine | None, str] = (inputs.quarantine(days[0], days[-1]), "")
        except RawDataError as exc:
            result = (None, f"quarantined raw rows not checked: {exc}")
        _QUARANTINE_CACHE.clear()
        _QUARANTINE_CACHE[key] = result
    return _QUARANTINE_CACHE[key]


@dataclass
class StalePlan:
    """What :func:`stale_runs` found: the refresh run's ``steps`` (``(tables, days)``, in order), a
    ``note`` (empty, or why stale partitions could not be compared) and the raw data's input ``versions``
    (``refresh.RefreshPlan.versions``) until a tick records them in Dagster (then ``None``)."""

    steps: list[tuple[list[str], list[dt.date]]]
    note: str = ""
    versions: pl.DataFrame | None = None


# the last stale plan, per (raw files, newest run of the instance): recomputed only when either changed
_STALE_CACHE: dict[tuple, StalePlan] = {}


def record_versions(instance, plan: StalePlan) -> int:
    """Record in the instance the data versions of ``plan`` that it does not have yet, as runless
    observations in one batch (``defs/data_versions.py``); each plan's versions are recorded once.
    Returns how many partitions got a new version."""
    from nba_precompute.defs.data_versions import pending_observations, report

    if plan.versions is None:
        return 0
    versions, plan.versions = plan.versions, None
    observations = pending_observations(instance, versions, set(versions.get_column("partition_date").to_list()))
    report(instance, observations)
    return len(observations)


def stale_runs(calendar: GameCalendar, raw_data: RawDataResource, warehouse: WarehouseResource, instance,
               fingerprint: str) -> StalePlan:
    """The steps of the refresh run (``nba_precompute.refresh.plan_refresh``: ``(tables, days)``), a note
    (empty, or why stale partitions could not be compared: the warehouse locked by another run, a raw
    night gone from the files, a raw file that breaks a rule) and the versions to record. Computed again
    only when a raw file changed, a run was started or ended, or Dagster's calendar gained a day since
    the last tick (the same :class:`StalePlan` otherwise, its versions recorded already)."""
    from nba_precompute import refresh
    from nba_precompute.warehouse.base import WarehouseError

    if instance.get_run_records(RunsFilter(statuses=ACTIVE), limit=1):
        # any run of the instance queued or in progress (a UI backfill, `nba-precompute launch`) may be
        # about to open the embedded warehouse for writing: do not hold it open for reading now
        return StalePlan([])
    newest = instance.get_run_records(limit=1)
    key = (fingerprint, str(raw_data.path), warehouse.kind, warehouse.duckdb_path,
           (newest[0].dagster_run.run_id, newest[0].dagster_run.status.value) if newest else None,
           calendar.calendar_end)  # a new partition day gets its data versions recorded before its runs
    if key not in _STALE_CACHE:
        try:
            # the domain rules are left to the runs (a Phase 3 run checks them before it writes): cheaper per tick
            p = refresh.plan_refresh(warehouse.get(), raw_data.path, calendar, validate_raw=False)
            result = StalePlan(p.runs, "", p.versions)
        except (RawDataError, refresh.MissingNightError, WarehouseError) as exc:
            result = StalePlan([], f"stale partitions not checked: {exc}")
        _STALE_CACHE.clear()
        _STALE_CACHE[key] = result
    return _STALE_CACHE[key]


def _table_assets():
    from nba_precompute.schemas import PHASE3_TABLES, PHASE4_TABLES

    return [*PHASE3_TABLES, *PHASE4_TABLES]


@definitions
def automation_definitions() -> Definitions:
    """The slate job and the morning sensor."""
    return Definitions(jobs=[slate_job], sensors=[morning_slate_sensor])
