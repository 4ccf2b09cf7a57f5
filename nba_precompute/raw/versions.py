"""Per-night data versions of the raw data, and the input version of every (table, partition) (issue 18).

Pure Polars + DuckDB (no Dagster). A **data version** is an md5 fingerprint of exactly the parsed raw
rows the platform reads, so that a correction of a box score changes it and nothing else does:
rewriting a file with the same content, touching its modification time or reordering its rows leave
every version as it was.

Per regular-season game date D (a "night"):

* ``schedule_version(D)``: D's games as known before they are played: ``game_id``, ``game_date``,
  ``home_team_id``, ``away_team_id`` of the reconciled schedule (not ``game_status``, which changes
  when the box scores arrive);
* ``box_version(D)``: every row of the player box scores, team game logs and shots of D's games
  (joined to D by ``game_id`` through the reconciled schedule), every column except the line-number
  bookkeeping (:data:`IGNORED_COLUMNS`).

Each row becomes a canonical text (its columns in name order, NULL as a marker, values cast to text
by DuckDB, which is stable across library versions, unlike Polars' ``hash``); the rows of a night are
sorted and hashed with DuckDB's ``md5(string_agg(... ORDER BY ...)) GROUP BY`` over the Polars frames.
A night without rows of a source has the constant :data:`NO_ROWS` for it; a day without games has
constant versions.

**Which nights a partition reads** (:func:`read_windows`, the one statement of it: the versions below
and the quarantine of rows that break a domain rule, ``nba_precompute.raw.quarantine``, both use it).
Partition D of a table reads D's schedule rows and every raw row (schedule, box scores, team logs,
shots) of the nights in ``[first_night, last_night]``:

* box-score tables (:data:`BOX_VERSION_TABLES`: the three game summaries and ``nba_schedule``): D's
  night, ``[D, D]``;
* pre-game tables (:data:`PRE_GAME_TABLES`: upcoming contexts, TDZA, PSZA, PCF, PDC, MLFS): the nights
  of D's season before D, ``[opening night, D - 1]`` (D's own box scores are not read: a pre-game
  partition is not stale when they arrive);
* across the season boundary, two reads reach further back (``schemas.PREVIOUS_SEASON_DAYS``,
  ``schemas.OPPONENT_DAYS``): while some team of D's season has not played yet (D up to the last
  team's first scheduled game, :func:`roster_fallback_until`), ``upcoming_player_game_context`` takes
  that team's roster from the previous season, so it and the tables built on it
  (:data:`ROSTER_TABLES`: PCF, PDC, MLFS) read from ``opening night - PREVIOUS_SEASON_DAYS``; MLFS
  (features 29/30, games vs this opponent) reads from ``D - OPPONENT_DAYS`` in any season. So a night of
  season S is read by the box-score tables of that night, the pre-game tables of the later days of S,
  the roster tables of the first days of S + 1 and MLFS of the days of S + 1 up to 365 days after it.
  The cross-season reads read players, teams, minutes and points, never the shot chart: a night of
  another season counts with its ``cross_version`` (its rows without the shots).

The version a table partition depends on (:func:`partition_versions`):

* box-score tables: ``md5(schedule_version(D) || box_version(D))``;
* pre-game tables: ``md5(schedule_version(D) || every night's (schedule_version || box_version) of
  its window)``.

Tables whose partitions read the same nights share their version on a day; the four **version kinds**
(:data:`VERSION_KINDS`) are what Dagster sees, one external asset each (``defs/data_versions.py``):
``box_score`` (the box-score tables), ``season_pre_game`` (upcoming team context, TDZA, PSZA: the
season), ``cross_season`` (upcoming player context, PCF, PDC: the season, and the previous season's
rosters in the first days) and ``opponent_window`` (MLFS: those and the 365 days before D). A correction
of a season's last nights thus makes the first days of the next season's roster tables and the next
365 days of MLFS stale, not its TDZA, PSZA or team contexts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

import duckdb
import polars as pl

from nba_precompute import schemas
from nba_precompute.schemas import (
    INPUT_WINDOWS,
    NIGHT,
    OPPONENT_DAYS,
    PHASE3_TABLES,
    PHASE4_TABLES,
    PREVIOUS_SEASON_DAYS,
    ROSTERS,
    SEASON,
    is_regular_season,
)

# columns that say where a row was in its file, not what it says
IGNORED_COLUMNS = frozenset({"source_line"})
SCHEDULE_COLUMNS = ("game_id", "game_date", "home_team_id", "away_team_id")
NULL_MARKER = "\u2400"  # a NULL value in the canonical text (the symbol for NUL: no parsed value is it)
FIELD_SEP, ROW_SEP = "chr(31)", "chr(30)"  # SQL: the unit and record separators
NO_ROWS = hashlib.md5(b"nba_precompute: no rows").hexdigest()  # a source without rows on a night
NO_GAMES = hashlib.md5(b"nba_precompute: no games").hexdigest()  # the schedule version of a day without games

#: the version kinds (``TableSpec.reads``): the tables of a kind read the same nights
#: (:func:`read_windows`), so their partitions of a day share one input version; Dagster sees one external
#: asset per kind (``defs/data_versions.py``)
BOX_SCORE, SEASON_PRE_GAME, CROSS_SEASON, OPPONENT_WINDOW = NIGHT, SEASON, ROSTERS, schemas.OPPONENT_WINDOW
VERSION_KINDS = {kind: tuple(t.qualified_name for t in (*PHASE3_TABLES, *PHASE4_TABLES) if t.reads == kind)
                 for kind in INPUT_WINDOWS}
KIND_OF_TABLE = {t: kind for kind, tables in VERSION_KINDS.items() for t in tables}
BOX_VERSION_TABLES = VERSION_KINDS[BOX_SCORE]
#: every table read before its games are played, in dependency order (Phase 3, then Phase 4)
PRE_GAME_TABLES = tuple(t.qualified_name for t in (*PHASE3_TABLES, *PHASE4_TABLES) if t.reads in
                        (SEASON_PRE_GAME, CROSS_SEASON, OPPONENT_WINDOW))
VERSIONED_TABLES = (*BOX_VERSION_TABLES, *PRE_GAME_TABLES)
SEASON_PRE_GAME_TABLES = VERSION_KINDS[SEASON_PRE_GAME]
CROSS_SEASON_TABLES = VERSION_KINDS[CROSS_SEASON]
OPPONENT_WINDOW_TABLES = VERSION_KINDS[OPPONENT_WINDOW]  # the played games of [D - OPPONENT_DAYS, D) (MLFS 29/30)
#: the pre-game tables built on the opening-night universe of upcoming_player_game_context (the previous
#: season's rosters while a team has not played yet)
ROSTER_TABLES = (*CROSS_SEASON_TABLES, *OPPONENT_WINDOW_TABLES)
WINDOWS_SCHEMA = {"table_name": pl.String, "season_year": pl.Int64, "partition_date": pl.Date,
                  "first_night": pl.Date, "last_night": pl.Date}

NIGHTS_SCHEMA = {"season_year": pl.Int64, "game_date": pl.Date, "game_ids": pl.List(pl.String),
                 "schedule_version": pl.String, "box_version": pl.String, "cross_version": pl.String}
VERSIONS_SCHEMA = {"table_name": pl.String, "partition_date": pl.Date, "input_version": pl.String}


def _row_text(columns: Sequence[str]) -> str:
    """SQL: the canonical text of a row of the frame ``f`` (columns in the given order)."""
    parts = [f"coalesce(CAST(f.\"{c}\" AS VARCHAR), '{NULL_MARKER}')" for c in columns]
    return f"concat_ws({FIELD_SEP}, {', '.join(parts) or repr('')})"


def night_digests(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, games: pl.DataFrame,
                  columns: Sequence[str] | None = None) -> pl.DataFrame:
    """``game_date``, ``digest``: md5 of the sorted canonical rows of ``frame`` per night, rows joined
    to their night through ``games`` (``game_id`` -> ``game_date``); only nights with rows."""
    cols = sorted(c for c in (columns or frame.columns) if c not in IGNORED_COLUMNS)
    if frame.is_empty():
        return pl.DataFrame(schema={"game_date": pl.Date, "digest": pl.String})
    con.register("__frame", frame.select(cols if "game_id" in cols else [*cols, "game_id"]).to_arrow())
    con.register("__games", games.select("game_id", "game_date").to_arrow())
    try:
        out = con.execute(
            f"SELECT g.game_date, md5(string_agg(t, {ROW_SEP} ORDER BY t)) AS digest FROM ("
            f"  SELECT f.game_id, {_row_text(cols)} AS t FROM __frame f) r "
            "JOIN __games g ON g.game_id = r.game_id GROUP BY g.game_date").pl()
    finally:
        con.unregister("__frame")
        con.unregister("__games")
    return out.cast({"game_date": pl.Date, "digest": pl.String})


def night_versions(schedule: pl.DataFrame, box_frames: Sequence[pl.DataFrame],
                   cross_frames: int | None = None) -> pl.DataFrame:
    """Per regular-season game date of ``schedule`` (reconciled: ``game_id``, ``game_date``,
    ``season_year``, ``home_team_id``, ``away_team_id``; regular-season rows only are used):
    ``season_year``, ``game_date``, ``game_ids`` (sorted), ``schedule_version``, ``box_version``,
    ``cross_version``.

    ``box_frames``: the player box scores, team game logs and shots (any frames with ``game_id``),
    in a fixed order; each contributes its per-night digest (:data:`NO_ROWS` without rows).
    ``cross_version``: the same with only the first ``cross_frames`` frames (default all): what a
    partition of another season reads of the night."""
    games = schedule.filter(is_regular_season(pl.col("game_id"))).select(*SCHEDULE_COLUMNS, "season_year")
    con = duckdb.connect()
    try:
        nights = games.group_by("season_year", "game_date").agg(pl.col("game_id").sort().alias("game_ids"))
        sched = night_digests(con, games, games, SCHEDULE_COLUMNS).rename({"digest": "schedule_version"})
        nights = nights.join(sched, on="game_date", how="left")
        parts = []
        for i, frame in enumerate(box_frames):
            d = night_digests(con, frame, games).rename({"digest": f"__d{i}"})
            nights = nights.join(d, on="game_date", how="left")
            parts.append(pl.col(f"__d{i}").fill_null(NO_ROWS))
    finally:
        con.close()
    k = len(parts) if cross_frames is None else cross_frames
    crossing = parts[:k] + [pl.lit(NO_ROWS)] * (len(parts) - k)
    box = (pl.concat_str(parts, separator="|") if parts else pl.lit(NO_ROWS)).alias("__box")
    cross = (pl.concat_str(crossing, separator="|") if parts else pl.lit(NO_ROWS)).alias("__cross")
    nights = nights.with_columns(box, cross)
    # md5 of the concatenation: DuckDB again (Polars has no md5 expression)
    nights = _md5_column(_md5_column(nights, "__box", "box_version"), "__cross", "cross_version")
    return nights.select(list(NIGHTS_SCHEMA)).sort("game_date")


def _md5_column(frame: pl.DataFrame, source: str, target: str) -> pl.DataFrame:
    con = duckdb.connect()
    try:
        con.register("__t", frame.select(pl.int_range(pl.len()).alias("__i"), source).to_arrow())
        digests = con.execute(f'SELECT __i, md5("{source}") AS d FROM __t ORDER BY __i').pl()
    finally:
        con.close()
    return frame.with_columns(digests.get_column("d").alias(target)).drop(source)


def season_days(seasons: pl.DataFrame) -> pl.DataFrame:
    """``season_year``, ``day``: every day of every season of ``seasons`` (``season_year``,
    ``season_start_date``, ``span_end``: :attr:`nba_precompute.partitions.GameCalendar.seasons`)."""
    frames = [pl.DataFrame({"day": pl.date_range(r["season_start_date"], r["span_end"], "1d", eager=True)})
              .with_columns(pl.lit(r["season_year"], pl.Int64).alias("season_year"))
              for r in seasons.iter_rows(named=True)]  # one frame per season (a handful)
    if not frames:
        return pl.DataFrame(schema={"season_year": pl.Int64, "day": pl.Date})
    return pl.concat(frames).select("season_year", pl.col("day").cast(pl.Date))


def roster_fallback_until(schedule: pl.DataFrame) -> pl.DataFrame:
    """``season_year``, ``roster_until``: per season of ``schedule`` (``game_id``, ``game_date``,
    ``season_year``, ``home_team_id``, ``away_team_id``, optionally ``game_status``), the last team's
    first regular-season game (postponed games left out): up to that day some team scheduled on D may
    have played no game of the season before D, and takes its roster from the previous season."""
    games = schedule.filter(is_regular_season(pl.col("game_id")))
    if "game_status" in games.columns:
        games = games.filter(pl.col("game_status") != "postponed")
    sides = pl.concat([games.select("season_year", "game_date", pl.col(c).alias("team_id"))
                       for c in ("home_team_id", "away_team_id")])
    return (sides.group_by("season_year", "team_id").agg(pl.col("game_date").min().alias("first_game"))
            .group_by("season_year").agg(pl.col("first_game").max().alias("roster_until")))


def read_windows(seasons: pl.DataFrame, schedule: pl.DataFrame | None = None,
                 tables: Sequence[str] = VERSIONED_TABLES) -> pl.DataFrame:
    """Which raw nights every (table, day) partition of the seasons ``seasons`` reads (see the module
    docstring): :data:`WINDOWS_SCHEMA`, one row per partition: its day's schedule rows and every raw
    row of the nights in ``[first_night, last_night]`` (empty when ``first_night > last_night``: the
    pre-game tables on opening night without a previous season).

    ``seasons``: ``season_year``, ``season_start_date``, ``span_end`` (the calendar's seasons).
    ``schedule`` (reconciled, the seasons' games): decides how long the previous-season roster is read
    (:func:`roster_fallback_until`); without it (hand-built frames) no day reads it."""
    days = season_days(seasons).join(seasons.select("season_year", "season_start_date"), on="season_year")
    until = (roster_fallback_until(schedule) if schedule is not None
             else pl.DataFrame(schema={"season_year": pl.Int64, "roster_until": pl.Date}))
    days = days.join(until, on="season_year", how="left")
    day = pl.col("day")
    opening = pl.col("season_start_date")
    roster_from = pl.when(day <= pl.col("roster_until")).then(
        opening - pl.duration(days=PREVIOUS_SEASON_DAYS)).otherwise(opening)

    def first_night(table: str) -> pl.Expr:
        if table in BOX_VERSION_TABLES:
            return day
        first = roster_from if table in ROSTER_TABLES else opening
        if table in OPPONENT_WINDOW_TABLES:
            first = pl.min_horizontal(first, day - pl.duration(days=OPPONENT_DAYS))
        return first

    frames = [days.select(pl.lit(t).alias("table_name"), "season_year", day.alias("partition_date"),
                          first_night(t).alias("first_night"),
                          (day if t in BOX_VERSION_TABLES else day - pl.duration(days=1)).alias("last_night"))
              for t in tables]
    return pl.concat(frames).cast(WINDOWS_SCHEMA) if frames else pl.DataFrame(schema=WINDOWS_SCHEMA)


def partition_versions(nights: pl.DataFrame, seasons: pl.DataFrame,
                       tables: Sequence[str] = VERSIONED_TABLES,
                       windows: pl.DataFrame | None = None) -> pl.DataFrame:
    """The input version of every (table, day) of the seasons ``seasons`` (see the module docstring):
    ``table_name``, ``partition_date``, ``input_version``. ``nights``: :func:`night_versions` of every
    night the windows reach (the previous season's too, for the reads that cross the boundary).
    ``windows``: :func:`read_windows` (default: from ``seasons`` alone, no previous-season roster)."""
    windows = read_windows(seasons, None, tables) if windows is None else windows
    if windows.is_empty():
        return pl.DataFrame(schema=VERSIONS_SCHEMA)
    con = duckdb.connect()
    try:
        con.register("__windows", windows.with_columns(
            pl.col("table_name").is_in(BOX_VERSION_TABLES).alias("box")).to_arrow())
        con.register("__nights", nights.select("season_year", "game_date", "schedule_version", "box_version",
                                               "cross_version").to_arrow())
        out = con.execute(f"""
            WITH w AS (
              SELECT w.table_name, w.season_year, w.partition_date, w.first_night, w.last_night, w.box,
                     coalesce(n.schedule_version, '{NO_GAMES}') AS sv,
                     coalesce(n.box_version, '{NO_GAMES}') AS bv
              FROM __windows w LEFT JOIN __nights n ON n.game_date = w.partition_date),
            spans AS (SELECT DISTINCT season_year, first_night, last_night FROM w WHERE NOT box),
            hist AS (
              SELECT s.season_year, s.first_night, s.last_night,
                     string_agg(CAST(h.game_date AS VARCHAR) || ':' || h.schedule_version
                                || CASE WHEN h.season_year = s.season_year THEN h.box_version
                                        ELSE 'x' || h.cross_version END,
                                ',' ORDER BY h.game_date) AS before
              FROM spans s JOIN __nights h ON h.game_date BETWEEN s.first_night AND s.last_night
              GROUP BY s.season_year, s.first_night, s.last_night)
            SELECT w.table_name, w.partition_date,
                   CASE WHEN w.box THEN md5(w.sv || '|' || w.bv)
                        ELSE md5(w.sv || '|' || coalesce(hist.before, '')) END AS input_version
            FROM w LEFT JOIN hist ON hist.season_year = w.season_year AND hist.first_night = w.first_night
                               AND hist.last_night = w.last_night
            ORDER BY w.partition_date""").pl()
    finally:
        con.close()
    order = {t: i for i, t in enumerate(tables)}
    return (out.cast(VERSIONS_SCHEMA).with_columns(pl.col("table_name").replace_strict(order).alias("__t"))
            .sort("__t", "partition_date").drop("__t"))


def partitions_reading(nights: pl.DataFrame, windows: pl.DataFrame) -> pl.DataFrame:
    """The partitions that read the given raw rows: ``nights`` has ``night`` (a game date) and
    ``schedule_row`` (true for a schedule row: read by the pre-game partitions of its own day too) plus
    any other columns, which are carried along; ``windows``: :func:`read_windows`. Returns the columns of
    ``nights`` with ``table_name``, ``partition_date`` and ``partition_season`` (the partition's
    season), one row per (night row, partition reading it)."""
    win = windows.select("table_name", "partition_date", pl.col("season_year").alias("partition_season"),
                         "first_night", "last_night")
    cols = [*nights.columns, "table_name", "partition_date", "partition_season"]
    if nights.is_empty():
        return nights.with_columns(pl.lit(None, pl.String).alias("table_name"),
                                   pl.lit(None, pl.Date).alias("partition_date"),
                                   pl.lit(None, pl.Int64).alias("partition_season")).clear()
    pairs = nights.join_where(win, pl.col("night") >= pl.col("first_night"), pl.col("night") <= pl.col("last_night"))
    own_day = nights.filter(pl.col("schedule_row")).join(
        win.drop("first_night", "last_night"), left_on="night", right_on="partition_date", how="inner",
        coalesce=False)
    return pl.concat([pairs.select(cols), own_day.select(cols)]).unique(maintain_order=True)


def _season_frame(frame: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """The rows of ``frame`` of the games ``ids``, without the columns that are NULL on every one of them
    (the columns another source of a combined frame brings: the 2020-21 frames and the hoopR frames
    are concatenated diagonally), so that a season's versions do not depend on which other seasons
    were read with it."""
    rows = frame.filter(pl.col("game_id").is_in(ids.implode()))
    return rows.select([c for c in rows.columns if c == "game_id" or rows.get_column(c).null_count() < rows.height])


def raw_night_versions(sources, seasons: Sequence[int], with_2020: bool) -> pl.DataFrame:
    """:func:`night_versions` of the seasons ``seasons`` from a :class:`~nba_precompute.raw.sources.
    RawSources`: the reconciled schedule, the player box scores, the team game logs and the shot
    chart of each season that has one (``with_2020``: include the trimmed 2020-21 source). Computed
    season by season: a season's versions are the same whichever other seasons are computed. The shots
    do not count in ``cross_version`` (no cross-season read reads the shot chart)."""
    schedule = sources.schedule(with_2020)
    frames = []
    for season in sorted(set(seasons)):
        games = schedule.filter(pl.col("season_year") == season)
        ids = games.get_column("game_id")
        shots = sources.shots(season)
        frames.append(night_versions(games, [
            _season_frame(sources.player_boxscores(with_2020), ids),
            _season_frame(sources.team_game_logs(with_2020), ids),
            _season_frame(shots, ids) if shots is not None else pl.DataFrame(schema={"game_id": pl.String})],
            cross_frames=2))
    return pl.concat(frames) if frames else pl.DataFrame(schema=NIGHTS_SCHEMA)


def versions_for_days(versions: pl.DataFrame, table_name: str, days: Sequence[dt.date]) -> pl.DataFrame:
    """``table_name``, ``partition_date``, ``input_version`` of ``table_name`` on ``days`` (days outside
    the computed seasons are left out)."""
    return versions.filter(pl.col("table_name") == table_name,
                           pl.col("partition_date").is_in(pl.Series(list(days), dtype=pl.Date).implode()))
