"""Quarantine: the raw rows that break a domain rule, and the partitions they block (issue 18, "a bad
row blocks only what reads it").

Pure Polars, no Dagster. The domain rules (``nba_precompute.raw.domain.phase3_violations``) list every
offending row; this module places each row in time and lists the partitions that read it, with the one
statement of "which partition reads which nights" (``nba_precompute.raw.versions.read_windows``). A
run refuses exactly those partitions (one line per row: file, line, rule, value, partitions blocked);
every other partition runs, computed from rows that all pass.

Where a row is placed (:func:`locate`), first rule that applies:

* its game is in the schedule (by ``game_id``; a schedule row: its own game): the night the game is
  dated (played) on, in that game's season. A row of the schedule is read by the pre-game partitions of
  its own night too (D's schedule is part of D's pre-game inputs); a row of the box scores, team logs
  or shots is not;
* else its own ``game_date`` (a team log, shot or schedule row): that night, in the season whose days
  hold it;
* else its season (``season_year``, or the season of its game id, or a rule about a whole season such
  as the regular season's length): every day of that season, i.e. every partition reading any of them;
* else (no game, date or season to go by, e.g. an empty ``game_id``): the whole file, i.e. every
  partition considered.

One exception to the windows: the cross-season reads (previous-season rosters, MLFS 29/30) read
players, teams, minutes and points, never the shot chart, so a shot-chart row blocks the partitions of
its own season only (and a run checks the shot charts of its own seasons only).

A whole-file problem (the file is missing, does not parse, lacks a column) is the readers'
``RawDataError`` and refuses everything that reads the file; the 2020-21 source's reader checks its
own files the same way (a broken row there refuses every run touching 2020-21).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from nba_precompute.raw.domain import VIOLATIONS_SCHEMA, Phase3Sources
from nba_precompute.raw.versions import partitions_reading, season_days

NIGHT, SEASON, FILE = "night", "season", "file"
ROWS_SCHEMA = {"row": pl.Int64, **VIOLATIONS_SCHEMA, "night": pl.Date, "schedule_row": pl.Boolean,
               "shot_row": pl.Boolean, "scope": pl.String}
BLOCKED_SCHEMA = {"row": pl.Int64, "file": pl.String, "line": pl.Int64, "rule": pl.String, "value": pl.String,
                  "table_name": pl.String, "partition_date": pl.Date}


def locate(violations: pl.DataFrame, schedule: pl.DataFrame, seasons: pl.DataFrame,
           sources: Phase3Sources) -> pl.DataFrame:
    """Each violation (``domain.VIOLATIONS_SCHEMA``) placed in time (see the module docstring):
    :data:`ROWS_SCHEMA` adds ``row`` (the violation's index: the quarantine's order), ``night`` (NULL
    unless the scope is a night), ``schedule_row`` / ``shot_row`` (the row is in the schedule file /
    a shot chart of ``sources``) and ``scope`` (:data:`NIGHT`, :data:`SEASON` or :data:`FILE`);
    ``season_year`` is the season placed in (NULL for :data:`FILE`). A row whose game id is listed
    twice in the schedule is placed on both nights.

    ``schedule``: the reconciled schedule (``game_id``, ``game_date``, ``season_year``); ``seasons``: the
    calendar's seasons (``season_year``, ``season_start_date``, ``span_end``)."""
    if violations.is_empty():
        return pl.DataFrame(schema=ROWS_SCHEMA)
    games = schedule.select("game_id", pl.col("game_date").alias("__night"),
                            pl.col("season_year").alias("__season")).unique()
    v = violations.with_row_index("__i").with_columns(pl.col("__i").cast(pl.Int64).alias("row")).join(
        games, on="game_id", how="left")
    span = seasons.select(pl.col("season_year").alias("__date_season"), "season_start_date", "span_end")
    dated = (v.select("__i", "game_date").drop_nulls().unique().join(span, how="cross")
             .filter(pl.col("game_date").is_between(pl.col("season_start_date"), pl.col("span_end")))
             .select("__i", "__date_season"))
    v = v.join(dated, on="__i", how="left")
    id_season = (2000 + pl.col("game_id").str.slice(3, 2).cast(pl.Int64, strict=False))
    by_game = pl.col("__night").is_not_null()
    by_date = pl.col("game_date").is_not_null() & pl.col("__date_season").is_not_null()
    season = pl.coalesce("season_year", id_season)
    out = v.with_columns(
        pl.when(by_game).then(pl.col("__night")).when(by_date).then(pl.col("game_date")).alias("night"),
        pl.when(by_game).then(pl.col("__season")).when(by_date).then(pl.col("__date_season"))
        .otherwise(season).alias("season_year"),
        (pl.col("file") == sources.schedule).alias("schedule_row"),
        ~pl.col("file").is_in([sources.schedule, sources.player_boxscores, sources.team_game_logs]).alias("shot_row"),
        pl.when(by_game | by_date).then(pl.lit(NIGHT)).when(season.is_not_null()).then(pl.lit(SEASON))
        .otherwise(pl.lit(FILE)).alias("scope"),
    )
    return out.sort("__i").select(list(ROWS_SCHEMA)).cast(ROWS_SCHEMA)


def blocked_partitions(rows: pl.DataFrame, windows: pl.DataFrame, seasons: pl.DataFrame) -> pl.DataFrame:
    """The partitions that read each located row (:func:`locate`), among ``windows``
    (``versions.read_windows`` of the partitions considered): :data:`BLOCKED_SCHEMA`, one row per
    (violation, partition). A :data:`SEASON` row blocks every partition reading a night of its season
    (or dated in it); a :data:`FILE` row every partition of ``windows``."""
    key = ["row", "file", "line", "rule", "value"]
    nights = rows.filter(pl.col("scope") == NIGHT).select(*key, "night", "schedule_row", "shot_row", "season_year")
    per_season = rows.filter(pl.col("scope") == SEASON).select(*key, "shot_row", "season_year").unique()
    if per_season.height:
        days = season_days(seasons.filter(pl.col("season_year").is_in(per_season.get_column("season_year")
                                                                        .implode())))
        nights = pl.concat([nights, per_season.join(days, on="season_year").select(
            *key, pl.col("day").alias("night"), pl.lit(True).alias("schedule_row"), "shot_row", "season_year")])
    hit = partitions_reading(nights, windows).filter(
        ~pl.col("shot_row") | (pl.col("partition_season") == pl.col("season_year"))).select(
        *key, "table_name", "partition_date")
    whole = rows.filter(pl.col("scope") == FILE).select(*key).unique()
    every = whole.join(windows.select("table_name", "partition_date"), how="cross")
    return (pl.concat([hit, every]).cast(BLOCKED_SCHEMA).unique()
            .sort("row", "partition_date", "table_name"))


def _ranges(days: Sequence[dt.date]) -> str:
    spans: list[list[dt.date]] = []
    for d in sorted(set(days)):
        if spans and spans[-1][-1] + dt.timedelta(days=1) == d:
            spans[-1].append(d)
        else:
            spans.append([d])
    return ", ".join(str(s[0]) if len(s) == 1 else f"{s[0]}..{s[-1]}" for s in spans)


def _short(table_name: str) -> str:
    return table_name.split(".")[-1]


@dataclass(frozen=True)
class Quarantine:
    """The quarantined rows of the raw inputs considered, and what they block.

    ``rows``: :data:`ROWS_SCHEMA`, one per (rule, offending row). ``blocked``: :data:`BLOCKED_SCHEMA`,
    one per (row, partition reading it), among the partitions considered."""

    rows: pl.DataFrame
    blocked: pl.DataFrame

    @classmethod
    def empty(cls) -> Quarantine:
        return cls(pl.DataFrame(schema=ROWS_SCHEMA), pl.DataFrame(schema=BLOCKED_SCHEMA))

    @property
    def is_empty(self) -> bool:
        return self.rows.is_empty()

    def blocking(self, table_name: str | None = None, days: Sequence[dt.date] | None = None) -> pl.DataFrame:
        """The rows of :attr:`blocked` of ``table_name`` (qualified, e.g. ``nba_analytics.nba_schedule``;
        default every table) on ``days`` (default every day)."""
        out = self.blocked
        if table_name is not None:
            out = out.filter(pl.col("table_name") == table_name)
        if days is not None:
            out = out.filter(pl.col("partition_date").is_in(pl.Series(list(days), dtype=pl.Date).implode()))
        return out

    def lines(self, of: pl.DataFrame | None = None, limit: int = 5) -> list[str]:
        """One line per quarantined row of ``of`` (rows of :attr:`blocked`; default: every row that blocks
        a partition): ``<file> line <L>: rule '<rule>': <value> -> blocks <tables> on <days>; ...``, with
        every partition the row blocks (at most ``limit`` rows, then how many more)."""
        rows = (self.blocked if of is None else of).get_column("row").unique().implode()
        blocked = self.blocked.filter(pl.col("row").is_in(rows))
        per_row = blocked.sort("row").group_by("row", "file", "line", "rule", "value", maintain_order=True).agg(
            pl.col("table_name"), pl.col("partition_date"))
        out = []
        for r in per_row.head(limit).iter_rows(named=True):  # a handful of lines of text
            tables: dict[str, list[dt.date]] = {}
            for t, d in zip(r["table_name"], r["partition_date"], strict=True):
                tables.setdefault(t, []).append(d)
            by_days: dict[str, list[str]] = {}
            for t, ds in tables.items():
                by_days.setdefault(_ranges(ds), []).append(_short(t))
            what = "; ".join(f"{', '.join(ts)} on {days}" for days, ts in by_days.items())
            out.append(f"{r['file']} line {r['line']}: rule '{r['rule']}': {r['value']} -> blocks {what}")
        if per_row.height > limit:
            out.append(f"... and {per_row.height - limit} more quarantined row(s) (nba-precompute validate lists them)")
        return out

    def partitions(self, of: pl.DataFrame) -> str:
        """The partitions of ``of`` (rows of :attr:`blocked`), grouped: ``<tables> on <days>; ...`` (days as
        ranges of consecutive days, tables without their schema)."""
        tables: dict[str, list[dt.date]] = {}
        for t, d in of.select("table_name", "partition_date").unique().sort("table_name").iter_rows():
            tables.setdefault(t, []).append(d)
        by_days: dict[str, list[str]] = {}
        for t, ds in tables.items():  # a few tables
            by_days.setdefault(_ranges(ds), []).append(_short(t))
        return "; ".join(f"{', '.join(ts)} on {days}" for days, ts in by_days.items())

    def refuse(self, table_name: str, days: Sequence[dt.date]) -> str | None:
        """``None`` when no partition of ``table_name`` on ``days`` reads a quarantined row; else the
        refusal: how many partitions, and each quarantined row they read (file, line, rule, value, the
        partitions it blocks)."""
        hit = self.blocking(table_name, days)
        if hit.is_empty():
            return None
        n = hit.get_column("partition_date").n_unique()
        return (f"{n} of the run's {len(days)} partition(s) of {_short(table_name)} read raw rows that break a "
                "domain rule (quarantined; nothing of this step was written, the other partitions are not "
                "affected): " + " | ".join(self.lines(hit)))


def quarantine(violations: pl.DataFrame, schedule: pl.DataFrame, seasons: pl.DataFrame, windows: pl.DataFrame,
               sources: Phase3Sources) -> Quarantine:
    """:class:`Quarantine` of ``violations`` (``domain.phase3_violations``) among the partitions of
    ``windows`` (see :func:`locate` and :func:`blocked_partitions` for the arguments)."""
    if violations.is_empty():
        return Quarantine.empty()
    rows = locate(violations, schedule, seasons, sources)
    return Quarantine(rows, blocked_partitions(rows, windows, seasons))


@dataclass(frozen=True)
class RunsAround:
    """The runs of a request that leave out the partitions a quarantined row blocks (:func:`plan_around`).

    ``runs``: ``(tables, days)`` in day order: ``tables`` the requested tables (sorted) that no
    quarantined row blocks on any of ``days``, ``days`` consecutive calendar days (ascending).
    ``blocked``: the rows of :attr:`Quarantine.blocked` on the requested (table, day) partitions
    (:data:`BLOCKED_SCHEMA`; empty when nothing requested is blocked)."""

    runs: list[tuple[list[str], list[dt.date]]]
    blocked: pl.DataFrame


def through_upstream(blocked: pl.DataFrame, same_day_upstream: Mapping[str, Collection[str]]) -> pl.DataFrame:
    """``blocked`` (:data:`BLOCKED_SCHEMA`) with every partition that reads a blocked partition of the same
    day from the warehouse: table T on D is blocked by each row that blocks an upstream of T
    (``same_day_upstream[T]``, qualified names) on D, transitively. (A partition reading an upstream's
    earlier days reads their raw nights too, so the quarantine's read windows block it already.)"""
    edges = pl.DataFrame([(u, t) for t, ups in same_day_upstream.items() for u in ups],
                         schema={"table_name": pl.String, "__down": pl.String}, orient="row")
    out = blocked
    while True:  # one pass per level of the table graph (a handful)
        more = (out.join(edges, on="table_name").drop("table_name").rename({"__down": "table_name"})
                .select(list(BLOCKED_SCHEMA)))
        grown = pl.concat([out, more]).unique()
        if grown.height == out.height:
            return out.sort("row", "partition_date", "table_name")
        out = grown


def plan_around(q: Quarantine, tables: Collection[str], days: Sequence[dt.date],
                same_day_upstream: Mapping[str, Collection[str]] | None = None) -> RunsAround:
    """The runs that compute the partitions ``tables`` x ``days`` except those a row of ``q`` blocks
    (and, with ``same_day_upstream``, those reading a blocked partition of the same day:
    :func:`through_upstream`).

    ``tables``: qualified table names (``nba_analytics.player_game_summary``); ``days``: any order, each
    counted once. Days are grouped into ranges of consecutive calendar days on which the same requested
    tables are blocked; each range is one run of the tables not blocked there (a gap in ``days`` starts a
    new run). A day on which every requested table is blocked has no run. With nothing blocked the runs
    are the contiguous ranges of ``days``, each with every table. Pure Polars; no error raised."""
    wanted = sorted(set(tables))
    day_frame = pl.DataFrame({"day": sorted(set(days))}, schema={"day": pl.Date})
    blocked = q.blocked.filter(pl.col("partition_date").is_in(day_frame.get_column("day").implode()))
    if same_day_upstream:
        blocked = through_upstream(blocked, same_day_upstream)
    hit = blocked.filter(pl.col("table_name").is_in(pl.Series(wanted, dtype=pl.String).implode()))
    per_day = hit.group_by("partition_date").agg(pl.col("table_name").unique().sort().str.join("\n").alias("off"))
    grouped = (day_frame.join(per_day, left_on="day", right_on="partition_date", how="left")
               .with_columns(pl.col("off").fill_null("")).sort("day")
               .with_columns(((pl.col("day").diff() != pl.duration(days=1)) | (pl.col("off") != pl.col("off").shift()))
                             .fill_null(True).cum_sum().alias("__run"))
               .group_by("__run", maintain_order=True).agg(pl.col("day"), pl.col("off").first()))
    runs = []
    for span, off in grouped.select("day", "off").iter_rows():  # one row per run
        keep = [t for t in wanted if t not in set(off.split("\n"))]
        if keep:
            runs.append((keep, list(span)))
    return RunsAround(runs, hit.sort("row", "partition_date", "table_name"))
