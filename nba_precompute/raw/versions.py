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

The version a table partition depends on (:func:`partition_versions`) covers exactly the nights its
computation reads (``defs/phase3.py``, ``defs/phase4/``: the warehouse reads of each asset, and the
same-day upstream partitions it reads, with their own reads):

* box-score tables (:data:`BOX_VERSION_TABLES`: the three game summaries and ``nba_schedule``): D's
  own raw rows, ``md5(schedule_version(D) || box_version(D))``;
* season pre-game tables (:data:`SEASON_PRE_GAME_TABLES`: upcoming team context, TDZA, PSZA): they
  read the season's schedule through D and its box-score tables from the opening night to D - 1:
  ``md5(schedule_version(D) || every night's (schedule_version || box_version) from the season's
  opening night to D - 1)``;
* cross-season pre-game tables (:data:`CROSS_SEASON_TABLES`: upcoming player context, PCF, PDC,
  MLFS): the upcoming player context of D reads ``player_game_summary`` from
  ``PREVIOUS_SEASON_DAYS`` (366) days before the season's opening night (a team's opening-night
  universe is its roster at the end of the previous season: ``transforms.phase3.
  _previous_season_roster``), and PCF, PDC and MLFS read it on D; MLFS's games against the opponent
  (the 365 days before D, across seasons) lie inside that window. Their version is the same digest
  over every night from ``min(opening night - PREVIOUS_SEASON_DAYS, D - OPPONENT_DAYS)`` (the opening
  night - 366 days, as the opening night <= D) to D - 1, whichever season it belongs to.

D's own box scores are part of no pre-game version: a pre-game partition is not stale when D's box
scores arrive. A correction of a season's last nights thus makes the cross-season tables of the whole
next season stale (MLFS reads those nights for a year), not its TDZA, PSZA or team contexts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

import duckdb
import polars as pl

# how far back a cross-season table reads: the upcoming player context from PREVIOUS_SEASON_DAYS before
# its season's opening night, MLFS's games vs the opponent from OPPONENT_DAYS before D
from nba_precompute.transforms.mlfs import OPPONENT_DAYS
from nba_precompute.transforms.phase3 import PREVIOUS_SEASON_DAYS

# columns that say where a row was in its file, not what it says
IGNORED_COLUMNS = frozenset({"source_line"})
SCHEDULE_COLUMNS = ("game_id", "game_date", "home_team_id", "away_team_id")
NULL_MARKER = "\u2400"  # a NULL value in the canonical text (the symbol for NUL: no parsed value is it)
FIELD_SEP, ROW_SEP = "chr(31)", "chr(30)"  # SQL: the unit and record separators
NO_ROWS = hashlib.md5(b"nba_precompute: no rows").hexdigest()  # a source without rows on a night
NO_GAMES = hashlib.md5(b"nba_precompute: no games").hexdigest()  # the schedule version of a day without games

BOX_VERSION_TABLES = ("nba_analytics.nba_schedule", "nba_analytics.player_game_summary",
                      "nba_analytics.team_offense_game_summary", "nba_analytics.team_defense_game_summary")
SEASON_PRE_GAME_TABLES = ("nba_analytics.upcoming_team_game_context", "nba_precompute.team_defense_zone_analysis",
                          "nba_precompute.player_shot_zone_analysis")
CROSS_SEASON_TABLES = ("nba_analytics.upcoming_player_game_context", "nba_precompute.player_composite_factors",
                       "nba_precompute.player_daily_cache", "nba_predictions.ml_feature_store_v2")
PRE_GAME_TABLES = ("nba_analytics.upcoming_player_game_context", "nba_analytics.upcoming_team_game_context",
                   "nba_precompute.team_defense_zone_analysis", "nba_precompute.player_shot_zone_analysis",
                   "nba_precompute.player_composite_factors", "nba_precompute.player_daily_cache",
                   "nba_predictions.ml_feature_store_v2")  # both kinds, in dependency order
assert set(PRE_GAME_TABLES) == {*SEASON_PRE_GAME_TABLES, *CROSS_SEASON_TABLES}
# the version kinds: the table partitions of each share their input version on a day
BOX_SCORE, SEASON_PRE_GAME, CROSS_SEASON = "box_score", "season_pre_game", "cross_season"
VERSION_KINDS = {BOX_SCORE: BOX_VERSION_TABLES, SEASON_PRE_GAME: SEASON_PRE_GAME_TABLES,
                 CROSS_SEASON: CROSS_SEASON_TABLES}
KIND_OF_TABLE = {t: kind for kind, tables in VERSION_KINDS.items() for t in tables}
VERSIONED_TABLES = (*BOX_VERSION_TABLES, *PRE_GAME_TABLES)

NIGHTS_SCHEMA = {"season_year": pl.Int64, "game_date": pl.Date, "game_ids": pl.List(pl.String),
                 "schedule_version": pl.String, "box_version": pl.String}
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


def night_versions(schedule: pl.DataFrame, box_frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Per regular-season game date of ``schedule`` (reconciled: ``game_id``, ``game_date``,
    ``season_year``, ``home_team_id``, ``away_team_id``; regular-season rows only are used):
    ``season_year``, ``game_date``, ``game_ids`` (sorted), ``schedule_version``, ``box_version``.

    ``box_frames``: the player box scores, team game logs and shots (any frames with ``game_id``),
    in a fixed order; each contributes its per-night digest (:data:`NO_ROWS` without rows)."""
    from nba_precompute.schemas import is_regular_season

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
    box = (pl.concat_str(parts, separator="|") if parts else pl.lit(NO_ROWS)).alias("__box")
    nights = nights.with_columns(box)
    # md5 of the concatenation: DuckDB again (Polars has no md5 expression)
    return _md5_column(nights, "__box", "box_version").select(list(NIGHTS_SCHEMA)).sort("game_date")


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


def day_versions(nights: pl.DataFrame, seasons: pl.DataFrame) -> pl.DataFrame:
    """The three input versions of every day of the seasons ``seasons`` (``season_year``,
    ``season_start_date``, ``span_end``): ``partition_date``, ``box_score``, ``season_pre_game``,
    ``cross_season`` (see the module docstring). ``nights``: :func:`night_versions` of those seasons
    and of every season with a night in the :data:`PREVIOUS_SEASON_DAYS` before one of their opening
    nights (:func:`seasons_to_read`)."""
    days = season_days(seasons).join(seasons.select("season_year", "season_start_date"), on="season_year")
    con = duckdb.connect()
    try:
        con.register("__days", days.to_arrow())
        con.register("__nights", nights.select("season_year", "game_date", "schedule_version", "box_version")
                     .to_arrow())
        night_text = "CAST(h.game_date AS VARCHAR) || ':' || h.schedule_version || h.box_version"
        per_day = con.execute(f"""
            WITH d AS (
              SELECT d.season_year, d.day, d.season_start_date,
                     coalesce(n.schedule_version, '{NO_GAMES}') AS sv,
                     coalesce(n.box_version, '{NO_GAMES}') AS bv
              FROM __days d LEFT JOIN __nights n ON n.game_date = d.day),
            season AS (
              SELECT d.day, string_agg({night_text}, ',' ORDER BY h.game_date) AS before
              FROM d JOIN __nights h ON h.season_year = d.season_year AND h.game_date < d.day
              GROUP BY d.day),
            cross_season AS (
              SELECT d.day, string_agg({night_text}, ',' ORDER BY h.game_date) AS before
              FROM d JOIN __nights h ON h.game_date < d.day
                AND h.game_date >= least(d.season_start_date - INTERVAL {PREVIOUS_SEASON_DAYS} DAY,
                                         d.day - INTERVAL {OPPONENT_DAYS} DAY)
              GROUP BY d.day)
            SELECT d.day AS partition_date,
                   md5(d.sv || '|' || d.bv) AS {BOX_SCORE},
                   md5(d.sv || '|' || coalesce(s.before, '')) AS {SEASON_PRE_GAME},
                   md5(d.sv || '|' || coalesce(x.before, '')) AS {CROSS_SEASON}
            FROM d LEFT JOIN season s ON s.day = d.day LEFT JOIN cross_season x ON x.day = d.day
            ORDER BY d.day""").pl()
    finally:
        con.close()
    return per_day.cast({"partition_date": pl.Date})


def partition_versions(nights: pl.DataFrame, seasons: pl.DataFrame,
                       tables: Sequence[str] = VERSIONED_TABLES) -> pl.DataFrame:
    """The input version of every (table, day) of the seasons ``seasons`` (see the module docstring):
    ``table_name``, ``partition_date``, ``input_version``. ``nights``: as :func:`day_versions`."""
    per_day = day_versions(nights, seasons)
    frames = [per_day.select(pl.lit(t).alias("table_name"), "partition_date",
                             pl.col(KIND_OF_TABLE[t]).alias("input_version")) for t in tables]
    return pl.concat(frames).cast(VERSIONS_SCHEMA) if frames else pl.DataFrame(schema=VERSIONS_SCHEMA)


def seasons_to_read(calendar_seasons: pl.DataFrame, seasons: Sequence[int]) -> list[int]:
    """``seasons`` and every season of ``calendar_seasons`` (``season_year``, ``season_start_date``,
    ``span_end``) with a day in the :data:`PREVIOUS_SEASON_DAYS` (or ``OPPONENT_DAYS``, the longer)
    before the opening night of one of them: the seasons whose nights the versions of ``seasons`` cover."""
    opening = calendar_seasons.filter(pl.col("season_year").is_in(list(seasons))).select(
        (pl.col("season_start_date") - pl.duration(days=max(PREVIOUS_SEASON_DAYS, OPPONENT_DAYS))).alias("lo"),
        pl.col("season_start_date").alias("hi"))
    earlier = calendar_seasons.join(opening, how="cross").filter(
        (pl.col("span_end") >= pl.col("lo")) & (pl.col("season_start_date") < pl.col("hi")))
    return sorted(set(seasons) | set(earlier.get_column("season_year").to_list()))


def raw_partition_versions(sources, calendar_seasons: pl.DataFrame, seasons: Sequence[int]) -> pl.DataFrame:
    """:func:`partition_versions` of every day of ``seasons`` from a :class:`~nba_precompute.raw.sources.
    RawSources`, the nights of the previous season included (:func:`seasons_to_read`; the trimmed
    2020-21 source is read only when one of them is 2020-21).

    Raises:
        RawDataError: a raw file is missing or malformed (file, line, value)."""
    from nba_precompute.raw.season_2020 import SEASON_YEAR

    read = seasons_to_read(calendar_seasons, seasons)
    nights = raw_night_versions(sources, read, SEASON_YEAR in read)
    return partition_versions(nights, calendar_seasons.filter(pl.col("season_year").is_in(list(seasons))))


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
    season by season: a season's versions are the same whichever other seasons are computed."""
    schedule = sources.schedule(with_2020)
    frames = []
    for season in sorted(set(seasons)):
        games = schedule.filter(pl.col("season_year") == season)
        ids = games.get_column("game_id")
        shots = sources.shots(season)
        frames.append(night_versions(games, [
            _season_frame(sources.player_boxscores(with_2020), ids),
            _season_frame(sources.team_game_logs(with_2020), ids),
            _season_frame(shots, ids) if shots is not None else pl.DataFrame(schema={"game_id": pl.String})]))
    return pl.concat(frames) if frames else pl.DataFrame(schema=NIGHTS_SCHEMA)


def versions_for_days(versions: pl.DataFrame, table_name: str, days: Sequence[dt.date]) -> pl.DataFrame:
    """``table_name``, ``partition_date``, ``input_version`` of ``table_name`` on ``days`` (days outside
    the computed seasons are left out)."""
    return versions.filter(pl.col("table_name") == table_name,
                           pl.col("partition_date").is_in(pl.Series(list(days), dtype=pl.Date).implode()))
