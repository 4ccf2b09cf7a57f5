"""``nba-precompute refresh [--dry-run] [--season S]``: rematerialise exactly the partitions whose raw
inputs changed since they were written (issue 18: stat corrections and late box scores).

Every table partition is written with the data version of the raw rows it depends on
(``nba_processing.input_versions``, :mod:`nba_precompute.raw.versions`). :func:`plan_refresh` compares,
for every partition the partition log says was materialised, the version stored with it and the
version the raw data has now:

* a **changed night** D: a box-score table or ``nba_schedule`` of D whose version differs (D's box
  scores, team logs, shots or schedule rows changed). Its box-score tables and ``nba_schedule`` are
  rematerialised first, then the pre-game tables (upcoming contexts, Phase 4, MLFS) of every later
  materialised day whose version covers D: every later day of D's season, and for the cross-season
  tables (upcoming player context, PCF, PDC, MLFS) every day of the next season too when D lies in the
  366 days before its opening night (:mod:`nba_precompute.raw.versions`);
* a partition without a stored version was written before data versions existed: it is listed as
  such and rematerialised (once; afterwards it carries its version);
* partitions whose inputs did not change are not rewritten: their rows and partition-log entries stay.

Refused, with nothing written: raw files that do not parse or break a domain rule (the readers' and
``nba_precompute.raw.domain``'s message: file, line, value); a night materialised with rows whose games
are no longer in the raw data (``MISSING_DEPENDENCY``: :class:`MissingNightError`, never a silent
deletion).

The refresh is one Dagster run of the op job ``nba_refresh`` (``defs/refresh_job.py``), launched with
``dg launch --job nba_refresh --config-json ...`` (:func:`job_command`); its run config
(:func:`run_config`) is the plan's steps, in order: each a set of tables on one contiguous range of
days (box-score tables first, then the pre-game tables). Before it, ``defs.data_versions.observe``
records the raw data's versions in Dagster (``defs/data_versions.py``: the UI's stale partitions). The
morning sensor (``defs/automation.py``) requests the same run and ``nba-precompute validate`` lists the
same stale partitions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from nba_precompute.partitions import GameCalendar, contiguous_spans
from nba_precompute.raw.inputs import RawInputs
from nba_precompute.raw.versions import BOX_VERSION_TABLES, PRE_GAME_TABLES, VERSIONED_TABLES
from nba_precompute.schemas import (
    INPUT_VERSIONS,
    PHASE3_TABLES,
    PHASE4_TABLES,
    PLAYER_GAME_SUMMARY,
    TEAM_DEFENSE_GAME_SUMMARY,
    TEAM_OFFENSE_GAME_SUMMARY,
    TableSpec,
)
from nba_precompute.warehouse.base import Warehouse

SPECS: dict[str, TableSpec] = {t.qualified_name: t for t in (*PHASE3_TABLES, *PHASE4_TABLES)}
CHANGED, UNVERSIONED, DOWNSTREAM = "changed", "unversioned", "downstream"
STALE_SCHEMA = {"table_name": pl.String, "partition_date": pl.Date, "reason": pl.String, "night": pl.Date}


class MissingNightError(RuntimeError):
    """A night materialised with rows whose games are no longer in the raw data (MISSING_DEPENDENCY)."""


@dataclass
class RefreshPlan:
    """What :func:`plan_refresh` found.

    ``stale``: one row per partition to rematerialise: ``table_name``, ``partition_date``, ``reason``
    (:data:`CHANGED`: its own inputs changed; :data:`UNVERSIONED`: written before data versions; or
    :data:`DOWNSTREAM`: a pre-game partition after a changed night of its season) and ``night`` (the
    changed night it depends on, NULL for an unversioned partition).
    ``runs``: the steps of the refresh run, ``(table names, days)`` in order: box-score tables first,
    then the pre-game tables; each step one contiguous range of days.
    ``materialised``: how many versioned partitions were compared.
    ``versions``: the raw data's input version of every versioned table on every day compared
    (``table_name``, ``partition_date``, ``input_version``; what ``defs.data_versions.observe`` records in Dagster).
    """

    stale: pl.DataFrame
    runs: list[tuple[list[str], list[dt.date]]] = field(default_factory=list)
    materialised: int = 0
    versions: pl.DataFrame | None = None

    @property
    def up_to_date(self) -> bool:
        return self.stale.is_empty()

    def changed_nights(self) -> list[dt.date]:
        """The nights whose raw rows changed, ascending."""
        return sorted(self.stale.filter(pl.col("reason") == CHANGED, pl.col("table_name").is_in(BOX_VERSION_TABLES))
                      .get_column("partition_date").unique().to_list())


def short_name(table_name: str) -> str:
    return table_name.split(".")[-1]


def _ranges(days: Sequence[dt.date]) -> str:
    return ", ".join(f"{s[0]}" if len(s) == 1 else f"{s[0]}..{s[-1]}" for s in contiguous_spans(days))


def plan_runs(stale: pl.DataFrame) -> list[tuple[list[str], list[dt.date]]]:
    """The runs of a stale set: box-score tables (and ``nba_schedule``) first, then the pre-game tables;
    in each, one run per contiguous range of days with the same set of tables."""
    runs: list[tuple[list[str], list[dt.date]]] = []
    for group in (BOX_VERSION_TABLES, PRE_GAME_TABLES):
        part = stale.filter(pl.col("table_name").is_in(group))
        per_day = {d: tuple(sorted(t, key=VERSIONED_TABLES.index)) for d, t in part.group_by("partition_date").agg(
            pl.col("table_name").unique()).iter_rows()}
        first = len(runs)  # a run of this group extends only a run of this group
        for day in sorted(per_day):
            last = runs[-1] if len(runs) > first else None
            if last and last[0] == list(per_day[day]) and last[1][-1] + dt.timedelta(days=1) == day:
                last[1].append(day)
            else:
                runs.append((list(per_day[day]), [day]))
    return runs


def _materialised(warehouse: Warehouse, start: dt.date, end: dt.date) -> pl.DataFrame:
    frames = [warehouse.partition_log(SPECS[name], start, end).select(
        pl.lit(name).alias("table_name"), "partition_date", "row_count") for name in VERSIONED_TABLES]
    return pl.concat(frames)


def check_nights_present(warehouse: Warehouse, raw_data, start: dt.date, end: dt.date, with_2020: bool) -> None:
    """Refuse when a game the box-score tables hold for [start, end] is no longer in the raw team game logs
    and player box scores (files removed or truncated).

    Raises:
        MissingNightError: naming each such night and its games, and saying that nothing was written.
    """
    held = pl.concat([warehouse.read(t, start, end, columns=["game_id", "game_date"]).unique()
                      for t in (PLAYER_GAME_SUMMARY, TEAM_OFFENSE_GAME_SUMMARY, TEAM_DEFENSE_GAME_SUMMARY)]).unique()
    if held.is_empty():
        return
    src = raw_data.sources
    in_raw = (set(src.team_game_logs(with_2020).get_column("game_id").to_list())
              & set(src.player_boxscores(with_2020).get_column("game_id").to_list()))
    gone = held.filter(~pl.col("game_id").is_in(list(in_raw))).group_by("game_date").agg(
        pl.col("game_id").sort()).sort("game_date")
    if gone.height:
        nights = "; ".join(f"{r['game_date']}: {len(r['game_id'])} game(s) {', '.join(r['game_id'][:6])}"
                           + (" ..." if len(r["game_id"]) > 6 else "") for r in gone.iter_rows(named=True))
        raise MissingNightError(
            f"MISSING_DEPENDENCY: {gone.height} night(s) materialised with rows are no longer in the raw data "
            f"(team game logs / player box scores under {src.path}: files removed or truncated?): {nights}. "
            "Nothing was refreshed or deleted: restore the raw files, then run nba-precompute refresh again")


def plan_refresh(warehouse: Warehouse, raw_dir: str | Path, calendar: GameCalendar,
                 days: Sequence[dt.date] | None = None, validate_raw: bool = True) -> RefreshPlan:
    """The partitions to rematerialise among those materialised on ``days`` (default: every partition
    of the calendar), and their runs (see the module docstring).

    ``validate_raw``: check the raw files against the domain rules first (as a Phase 3 run does).

    Raises:
        RawDataError: a raw file is missing, does not parse, or breaks a domain rule (file, line, value).
        MissingNightError: a materialised night's games are no longer in the raw data.
        WarehouseError: the warehouse cannot be read.
    """
    requested = sorted(days if days is not None else calendar.partition_days)
    empty = RefreshPlan(pl.DataFrame(schema=STALE_SCHEMA))
    if not requested:
        return empty
    raw = RawInputs(raw_dir, calendar.seasons)
    # the earlier partition days the requested ones read (another season's rosters, MLFS's 365 days): their
    # box-score tables are compared too, and a changed night among them is refreshed with them (the
    # pre-game tables read it from the warehouse); nothing else outside ``requested`` is
    read_before = _earlier_nights(raw, calendar, requested)
    days = sorted([*read_before, *requested])
    seasons = calendar.seasons.filter(pl.col("season_year").is_in(calendar.seasons_between(days[0], days[-1])))
    # the whole of the seasons concerned: a night truncated from the files moves the horizon back
    start, end = seasons.get_column("season_start_date").min(), seasons.get_column("span_end").max()
    log = _materialised(warehouse, start, end)
    in_days = pl.Series(days, dtype=pl.Date).implode()
    if log.is_empty():  # nothing to compare; the versions still go to Dagster (observe) before the first runs
        return RefreshPlan(empty.stale, versions=raw.input_versions(days[0], days[-1]).filter(
            pl.col("partition_date").is_in(in_days)))
    with_2020 = 2020 in seasons.get_column("season_year").to_list()
    if validate_raw:
        raw.require_valid(days[0], days[-1])  # every raw input read and checked: RawDataError names file/line
    check_nights_present(warehouse, raw, start, end, with_2020)
    expected = raw.input_versions(days[0], days[-1])
    stored = warehouse.read(INPUT_VERSIONS, start, end, columns=["table_name", "partition_date", "input_version"])
    compared = log.filter(pl.col("partition_date").is_in(in_days)).join(
        expected, on=["table_name", "partition_date"], how="left").join(
        stored.rename({"input_version": "stored"}), on=["table_name", "partition_date"], how="left")
    direct = compared.filter(pl.col("input_version").is_not_null()
                             & (pl.col("stored").is_null() | (pl.col("stored") != pl.col("input_version"))))
    direct = direct.select("table_name", "partition_date", pl.when(pl.col("stored").is_null()).then(pl.lit(UNVERSIONED))
                           .otherwise(pl.lit(CHANGED)).alias("reason"))
    # the changed nights (a box-score partition whose own raw rows changed) and, per season, every later
    # materialised pre-game partition (its window reads the night)
    compared = _with_season(compared, seasons)
    direct = _with_season(direct, seasons)
    nights = (direct.filter(pl.col("reason") == CHANGED, pl.col("table_name").is_in(BOX_VERSION_TABLES))
              .select("season_year", pl.col("partition_date").alias("night")).unique().sort("night"))
    first_night = nights.group_by("season_year").agg(pl.col("night").min().alias("first_night"))
    later = (compared.filter(pl.col("table_name").is_in(PRE_GAME_TABLES))
             .join(first_night, on="season_year").filter(pl.col("partition_date") > pl.col("first_night")))
    stale = pl.concat([direct.select("table_name", "partition_date", "season_year", "reason"),
                       later.select("table_name", "partition_date", "season_year", pl.lit(DOWNSTREAM).alias("reason"))])
    stale = stale.group_by("table_name", "partition_date", "season_year").agg(pl.col("reason").min())
    # the night each stale partition depends on: its own day (box-score tables, or a pre-game partition
    # whose day's schedule changed), else the latest changed night its window reads
    # (raw/versions.read_windows: the season before D, the previous season's rosters, MLFS's 365 days)
    windows = raw.windows(days[0], days[-1]).select("table_name", "partition_date", "first_night", "last_night")
    changed = nights.select(pl.col("night").alias("__on"), "night").unique().sort("__on")
    read = stale.join(windows, on=["table_name", "partition_date"], how="left").sort("last_night").join_asof(
        changed, left_on="last_night", right_on="__on", strategy="backward", check_sortedness=False)
    earlier = pl.when(pl.col("night") >= pl.col("first_night")).then(pl.col("night"))
    own = pl.col("partition_date").is_in(changed.get_column("night").implode())
    stale = read.with_columns(
        pl.when(pl.col("reason") == UNVERSIONED).then(pl.lit(None, pl.Date))
        .when(pl.col("table_name").is_in(BOX_VERSION_TABLES) | (own & earlier.is_null()))
        .then(pl.col("partition_date")).otherwise(earlier).alias("night"),
    ).select(list(STALE_SCHEMA)).cast(STALE_SCHEMA).sort("partition_date", "table_name")
    if read_before:  # of the earlier days, only the box-score tables of a changed night a requested partition reads
        asked = pl.col("partition_date").is_in(pl.Series(requested, dtype=pl.Date).implode())
        read = stale.filter(asked).get_column("night").drop_nulls().unique().implode()
        stale = stale.filter(asked | (pl.col("table_name").is_in(BOX_VERSION_TABLES)
                                      & pl.col("partition_date").is_in(read)))
    return RefreshPlan(stale, plan_runs(stale), compared.height,
                       expected.filter(pl.col("partition_date").is_in(in_days)))


def _earlier_nights(raw: RawInputs, calendar: GameCalendar, days: Sequence[dt.date]) -> list[dt.date]:
    """The partition days before ``days[0]`` that a partition of ``days`` reads (``raw/versions.read_windows``:
    the previous season's nights while a team has not played, MLFS's 365 days); empty when ``days``
    starts at the calendar's first day."""
    first = raw.windows(days[0], days[-1]).filter(
        pl.col("partition_date").is_between(days[0], days[-1])).get_column("first_night").min()
    if first is None or first >= days[0]:
        return []
    return [d for d in calendar.partition_days if first <= d < days[0]]


def _with_season(frame: pl.DataFrame, seasons: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the ``season_year`` whose [opening night, span end] holds its ``partition_date``."""
    cal = seasons.select("season_year", "season_start_date", "span_end").sort("season_start_date")
    return frame.sort("partition_date").join_asof(cal, left_on="partition_date", right_on="season_start_date",
                                                  strategy="backward").drop("season_start_date", "span_end")


def _names(stale: pl.DataFrame) -> str:
    return ", ".join(short_name(t) for t in VERSIONED_TABLES if t in set(stale.get_column("table_name").to_list()))


def describe(plan: RefreshPlan) -> list[str]:
    """What the plan refreshes and why, one line per changed night (and one for the unversioned
    partitions): the night, the tables and the date ranges."""
    if plan.up_to_date:
        return [f"up to date: the {plan.materialised:,} materialised partition(s) compared have the input "
                "versions of the raw data; nothing to refresh"]
    stale = plan.stale
    lines = [f"{stale.height:,} stale partition(s) of {plan.materialised:,} materialised, refreshed in one run "
             f"of {len(plan.runs)} step(s):"]
    for night in plan.changed_nights():
        mine = stale.filter(pl.col("night") == night)
        box = mine.filter(pl.col("table_name").is_in(BOX_VERSION_TABLES))
        pre = mine.filter(pl.col("table_name").is_in(PRE_GAME_TABLES))
        text = (f"  night {night}: its raw rows changed (box scores, team logs, shots or schedule) -> "
                f"box-score tables {_names(box)} "
                f"on {night}")
        if pre.height:
            text += (f"; pre-game tables {_names(pre)}"
                     f" on {_ranges(pre.get_column('partition_date').unique().to_list())} (their windows read {night})")
        lines.append(text)
    orphan = stale.filter(pl.col("night").is_null() & (pl.col("reason") != UNVERSIONED))
    if orphan.height:
        lines.append(f"  {orphan.height} pre-game partition(s) of {_names(orphan)} whose inputs changed since they were "
                     "written (a night before them whose box-score tables are already refreshed, e.g. after a failed "
                     f"refresh run, or their day's schedule) on {_ranges(orphan.get_column('partition_date').unique().to_list())}")
    old = stale.filter(pl.col("reason") == UNVERSIONED)
    if old.height:
        lines.append(f"  {old.height:,} partition(s) written before data versions existed (no stored input version), "
                     f"of {old.get_column('table_name').n_unique()} table(s) on "
                     f"{_ranges(old.get_column('partition_date').unique().to_list())}: rematerialised once to record it")
    return lines


REFRESH_JOB, REFRESH_OP = "nba_refresh", "refresh_partitions"  # the job and op of defs/refresh_job.py


def run_config(steps: Sequence[tuple[Sequence[str], Sequence[dt.date]]]) -> dict:
    """The run config of the refresh job (``defs/refresh_job.py``, job ``nba_refresh``) for a plan's
    steps (:attr:`RefreshPlan.runs`), in order: each a set of tables (qualified names) and one
    contiguous range of days."""
    return {"ops": {REFRESH_OP: {"config": {"steps": [
        {"tables": list(tables), "first_day": days[0].isoformat(), "last_day": days[-1].isoformat()}
        for tables, days in steps]}}}}


def step_lines(plan: RefreshPlan) -> list[str]:
    """One line per step of the refresh run: the tables and the days."""
    return [f"  step {n}: {len(tables)} table(s) x {len(days)} partition(s): "
            f"{', '.join(short_name(t) for t in tables)} on {_ranges(days)}"
            for n, (tables, days) in enumerate(plan.runs, 1)]


def job_command(plan: RefreshPlan) -> list[str]:
    """``dg launch --job nba_refresh --config-json ...``: the refresh as one run."""
    import json

    from nba_precompute.runs import dg_executable

    return [dg_executable(), "launch", "--job", REFRESH_JOB, "--config-json",
            json.dumps(run_config(plan.runs), separators=(",", ":"))]


def stale_summary_lines(plan: RefreshPlan) -> list[str]:
    """The validation report's lines on stale partitions (empty when there are none)."""
    if plan.up_to_date:
        return []
    return ["Stale partitions (their raw inputs changed since they were written; fix: nba-precompute refresh):",
            *describe(plan)[1:]]


def season_days(calendar: GameCalendar, season: str | None) -> list[dt.date]:
    """Every partition of the calendar, or of one season (``--season 2023-24``).

    Raises:
        ValueError: an unknown season or a malformed label.
    """
    if season is None:
        return list(calendar.partition_days)
    return list(calendar.select(None, None, season)[0])


__all__ = ["MissingNightError", "RefreshPlan", "describe", "plan_refresh"]
