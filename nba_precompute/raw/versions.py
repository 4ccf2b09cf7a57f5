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

The version a table partition depends on (:func:`partition_versions`):

* box-score tables (:data:`BOX_VERSION_TABLES`: the three game summaries and ``nba_schedule``):
  ``md5(schedule_version(D) || box_version(D))``;
* pre-game tables (:data:`PRE_GAME_TABLES`: upcoming contexts, TDZA, PSZA, PCF, PDC, MLFS):
  ``md5(schedule_version(D) || every night's (schedule_version || box_version) from the season's
  opening night to D - 1)``. D's own box scores are not part of it: a pre-game partition is not
  stale when D's box scores arrive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

import duckdb
import polars as pl

# columns that say where a row was in its file, not what it says
IGNORED_COLUMNS = frozenset({"source_line"})
SCHEDULE_COLUMNS = ("game_id", "game_date", "home_team_id", "away_team_id")
NULL_MARKER = "\u2400"  # a NULL value in the canonical text (the symbol for NUL: no parsed value is it)
FIELD_SEP, ROW_SEP = "chr(31)", "chr(30)"  # SQL: the unit and record separators
NO_ROWS = hashlib.md5(b"nba_precompute: no rows").hexdigest()  # a source without rows on a night
NO_GAMES = hashlib.md5(b"nba_precompute: no games").hexdigest()  # the schedule version of a day without games

BOX_VERSION_TABLES = ("nba_analytics.nba_schedule", "nba_analytics.player_game_summary",
                      "nba_analytics.team_offense_game_summary", "nba_analytics.team_defense_game_summary")
PRE_GAME_TABLES = ("nba_analytics.upcoming_player_game_context", "nba_analytics.upcoming_team_game_context",
                   "nba_precompute.team_defense_zone_analysis", "nba_precompute.player_shot_zone_analysis",
                   "nba_precompute.player_composite_factors", "nba_precompute.player_daily_cache",
                   "nba_predictions.ml_feature_store_v2")
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


def partition_versions(nights: pl.DataFrame, seasons: pl.DataFrame,
                       tables: Sequence[str] = VERSIONED_TABLES) -> pl.DataFrame:
    """The input version of every (table, day) of the seasons ``seasons`` (see the module docstring):
    ``table_name``, ``partition_date``, ``input_version``. ``nights``: :func:`night_versions`."""
    days = season_days(seasons)
    con = duckdb.connect()
    try:
        con.register("__days", days.to_arrow())
        con.register("__nights", nights.select("season_year", "game_date", "schedule_version", "box_version")
                     .to_arrow())
        per_day = con.execute(f"""
            WITH d AS (
              SELECT d.season_year, d.day,
                     coalesce(n.schedule_version, '{NO_GAMES}') AS sv,
                     coalesce(n.box_version, '{NO_GAMES}') AS bv
              FROM __days d LEFT JOIN __nights n ON n.game_date = d.day),
            hist AS (
              SELECT d.day, string_agg(CAST(h.game_date AS VARCHAR) || ':' || h.schedule_version || h.box_version,
                                       ',' ORDER BY h.game_date) AS before
              FROM __days d JOIN __nights h ON h.season_year = d.season_year AND h.game_date < d.day
              GROUP BY d.day)
            SELECT d.day AS partition_date,
                   md5(d.sv || '|' || d.bv) AS box_score,
                   md5(d.sv || '|' || coalesce(hist.before, '')) AS pre_game
            FROM d LEFT JOIN hist ON hist.day = d.day ORDER BY d.day""").pl()
    finally:
        con.close()
    per_day = per_day.cast({"partition_date": pl.Date})
    frames = [per_day.select(pl.lit(t).alias("table_name"), "partition_date",
                             pl.col("box_score" if t in BOX_VERSION_TABLES else "pre_game").alias("input_version"))
              for t in tables]
    return pl.concat(frames).cast(VERSIONS_SCHEMA) if frames else pl.DataFrame(schema=VERSIONS_SCHEMA)


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
