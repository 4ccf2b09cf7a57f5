"""The validation report (replacement of the legacy ``validate_pipeline.py``, reference §11; SPEC §7).

Pure Polars: frames read from the warehouse go in, report frames come out. The reading (through the
``Warehouse`` interface) is :mod:`nba_precompute.report`; the printing is ``nba-precompute validate``'s.

Only partitions are reported: the regular-season game dates of the raw data
(``nba_precompute.partitions.game_calendar``), given as a ``partitions`` frame (:func:`partitions_frame`:
``date``, ``season_year``, ``season_start_date``, ``season_week``, all from the raw calendar).

**Phase 4, per (date, table)** (:func:`phase4_report`). Expected entities for D (each table's own
universe, derived from Phase 3 independently of the table):

* TDZA: teams with >= 1 scheduled (not postponed) regular-season game this season before D;
* PSZA: players with >= 1 played game (``minutes_played > 0``) this season before D;
* PCF, PDC, MLFS: D's pre-game universe (``transforms.phase3.pregame_universe``: players whose most
  recent played game before D, within 30 days, was for a team scheduled on D), computed from
  ``player_game_summary`` and the schedule (the population of ``upcoming_player_game_context``,
  counted without it).

Rows written are counted in the table itself, not taken from the partition log, so rows deleted
after a write are seen. True failures are the ``precompute_failures`` rows with ``is_failure`` (or a
``MISSING_DEPENDENCY`` / ``PROCESSING_ERROR`` category): entity rows, and ``DATE_LEVEL`` rows (an
upstream partition the whole date's window needs is absent). A (date, table) with a DATE_LEVEL failure
cannot be trusted for any of its entities, so all its expected entities (at least 1) count as failed.

Status of a Phase 4 (date, table), first match wins:

* ``MISSING``: the table does not exist; the partition was never materialised
  (``nba_processing.partition_log``); the table holds a different number of rows than the partition log
  recorded for the write;
* ``FAILED``: at least one true failure (entity-level or DATE_LEVEL);
* ``MISSING``: rows + INCOMPLETE_DATA + STALE_DATA + entity true failures != expected entities (some
  expected entities are neither written nor recorded, or more are written/recorded than expected);
* ``NO_GAMES``: no regular-season game on D in ``nba_schedule``, nothing written, nothing expected;
* ``COMPLETE``: everything else (every expected entity written, INCOMPLETE_DATA or STALE_DATA).

**Phase 3, per (date, table)** (:func:`phase3_report`): ``MISSING`` when the table does not exist or
the partition was never materialised; ``PHASE3_HOLE`` when the table holds a different number of rows
than the partition log recorded, when ``nba_schedule`` has no regular-season game on the game date,
or when a played game of the date (``nba_schedule.game_status = 'played'``) lacks rows for one of its
two teams in a team-keyed table (``player_game_summary``, ``team_offense_game_summary``,
``team_defense_game_summary``, ``upcoming_player_game_context``, ``upcoming_team_game_context``); else
``COMPLETE``.

**Rates** are fractions (0-1) of *entity units*: per (date, table) ``units = max(expected,
failed_entities)`` (a DATE_LEVEL failure on a date with nothing expected still counts one unit), summed
over every (date, table) of the report, present or not:

* ``true_failure_rate`` = failed entities / units, where failed entities = entity true-failure rows,
  or every expected entity (at least 1) of a (date, table) with a DATE_LEVEL failure;
* ``incomplete_rate`` = INCOMPLETE_DATA / units; ``stale_rate`` = STALE_DATA / units;
* ``unaccounted_rate`` = expected entities neither written nor recorded / units (missing partitions
  and tables count here, not in the true failure rate);
* ``legacy_failure_rate`` = (entity true failures + INCOMPLETE_DATA + STALE_DATA) / units: what the
  legacy pipeline called its failure rate.

**Incomplete rate against its band, per (date, table)**: the same numbers and verdict as the asset
check ``incomplete_rate_within_band`` on the dashboard, from the same formulas
(``quality.incomplete_rate``, ``quality.attach_band``, ``quality.above_band``): ``entities_total`` =
rows + INCOMPLETE_DATA + STALE_DATA + entity true failures (what the warehouse accounts for that day),
``incomplete_rate`` = INCOMPLETE_DATA / ``entities_total`` (0.0 without entities), ``expected_band_upper``
the upper edge of the table's band for the season week, and ``incomplete_rate_within_band`` = ``WARN``
when the rate is above the edge, ``PASS`` otherwise (no band: ``PASS``; NULL when the partition was not
materialised). :func:`band_warnings` lists the ``WARN`` days. A WARN is never a failure: it means more
entities than usual lack the minimum for that week, worth a look.

The report is clean (:func:`summary` ``ok``) when no (date, table) of either phase is ``MISSING``,
``FAILED`` or ``PHASE3_HOLE``; ``incomplete_rate_within_band`` warnings do not change that (SPEC §6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from nba_precompute.schemas import UPCOMING_PLAYER_GAME_CONTEXT, is_regular_season
from nba_precompute.transforms.common import expected_games, zone_split_known
from nba_precompute.transforms.coverage import (
    INCOMPLETE_DATA,
    STALE_DATA,
    TRUE_FAILURES,
    scheduled_team_games,
)
from nba_precompute.transforms.phase3 import UNIVERSE_DAYS, pregame_universe
from nba_precompute.transforms.quality import Band, above_band, attach_band, incomplete_rate

COMPLETE, FAILED, MISSING, NO_GAMES, PHASE3_HOLE = "COMPLETE", "FAILED", "MISSING", "NO_GAMES", "PHASE3_HOLE"
PROBLEM_STATUSES = (MISSING, FAILED, PHASE3_HOLE)
PHASE4_STATUSES = (COMPLETE, FAILED, MISSING, NO_GAMES)
PHASE3_STATUSES = (COMPLETE, PHASE3_HOLE, MISSING)
TEAMS_BEFORE, PLAYERS_BEFORE, UPCOMING_PLAYERS = "teams_before", "players_before", "upcoming_players"
PHASE3, PHASE4 = "phase3", "phase4"
# the asset check whose verdict the report repeats per (date, table), and its two outcomes
INCOMPLETE_RATE_WITHIN_BAND = "incomplete_rate_within_band"
WARN, PASS = "WARN", "PASS"
DATE_LEVEL = "DATE_LEVEL"
PLAYED = "played"

# problem kinds (the short reason of a problem row; the grouping key of :func:`problem_groups`)
TABLE_ABSENT = "table not in the warehouse"
NEVER_MATERIALISED = "partition never materialised"
ROWS_CHANGED = "rows differ from the partition log (changed after the write)"
TRUE_FAILURE = "true failures (MISSING_DEPENDENCY / PROCESSING_ERROR)"
UNACCOUNTED = "expected entities neither written nor recorded"
SURPLUS = "more rows + records than expected entities"
NO_SCHEDULE = "no regular-season game in nba_schedule on a game date"
TEAMS_WITHOUT_ROWS = "played games without rows for a team"

NO_SHOT_CHART_NOTE = "no shot chart (none published) — zone columns NULL by design"


@dataclass(frozen=True)
class ReportTable:
    """A Phase 4 table in the report: qualified name, processor (in precompute_failures), universe
    (:data:`TEAMS_BEFORE`, :data:`PLAYERS_BEFORE` or :data:`UPCOMING_PLAYERS`), the incomplete-rate
    bands of its ``incomplete_rate_within_band`` check (empty: no band) and a short label (TDZA, ...). The caller
    builds them from the Phase 4 declarations (``nba_precompute.defs.phase4.tables``)."""

    qualified_name: str
    processor: str
    universe: str
    bands: tuple[Band, ...] = ()
    label: str | None = None

    @property
    def short(self) -> str:
        return self.label or self.qualified_name.split(".")[-1]


@dataclass(frozen=True)
class Phase3ReportTable:
    """A Phase 3 table in the report: qualified name and the column holding the team tricode of a row
    (``None`` for ``nba_schedule``, which is checked against the game calendar instead)."""

    qualified_name: str
    team_column: str | None

    @property
    def short(self) -> str:
        return self.qualified_name.split(".")[-1]


def thousands(n: pl.Expr) -> pl.Expr:
    """A non-negative integer as text with thousands separators (``119396`` -> ``"119,396"``)."""
    return n.cast(pl.Int64).cast(pl.String).str.reverse().str.replace_all(r"(\d{3})", "$1,").str.reverse(
    ).str.strip_chars_start(",")


def partitions_frame(days: Sequence[dt.date], seasons: pl.DataFrame) -> pl.DataFrame:
    """The partitions to report, ascending: ``date``, ``season_year``, ``season_start_date`` and
    ``season_week`` (SPEC §6: floor((D - opening night) / 7) + 1), from ``seasons`` (``season_year``,
    ``season_start_date``: the raw game calendar, so a hole in ``nba_schedule`` cannot move a date to
    another season). A date belongs to the latest season opened on or before it."""
    frame = pl.DataFrame({"date": sorted(days)}, schema={"date": pl.Date})
    cal = seasons.select(pl.col("season_start_date").cast(pl.Date), pl.col("season_year").cast(pl.Int64))
    return frame.join_asof(cal.sort("season_start_date"), left_on="date", right_on="season_start_date",
                           strategy="backward", coalesce=False).select(
        "date", "season_year", "season_start_date",
        ((pl.col("date") - pl.col("season_start_date")).dt.total_days() // 7 + 1).cast(pl.Int64).alias("season_week"))


def _played(player_games: pl.DataFrame) -> pl.DataFrame:
    return player_games.filter((pl.col("minutes_played").fill_null(0) > 0) & is_regular_season(pl.col("game_id")))


def expected_entities(partitions: pl.DataFrame, schedule: pl.DataFrame, player_games: pl.DataFrame) -> pl.DataFrame:
    """Expected entity counts per ``analysis_date`` for each universe.

    Args:
        partitions: ``date``, ``season_year``, ``season_week`` (:func:`partitions_frame`).
        schedule: ``nba_schedule`` rows of the seasons involved (from opening night): ``game_id``,
            ``game_date``, ``season_year``, home/away tricodes, optionally ``game_status``.
        player_games: ``player_game_summary`` rows (``game_id``, ``player_id``, ``game_date``,
            ``season_year``, ``team_abbr``, ``minutes_played``) from opening night up to the last date.

    Returns ``analysis_date``, ``season_year``, ``season_week`` and one Int64 column per universe
    (``teams_before``, ``players_before``, ``upcoming_players``: D's pre-game player universe).
    """
    d = partitions.select(pl.col("date").alias("analysis_date"), "season_year", "season_week")
    first_team = scheduled_team_games(schedule).group_by("team_abbr", "season_year").agg(
        pl.col("game_date").min().alias("first"))
    played = _played(player_games)
    first_player = played.group_by("player_id", "season_year").agg(pl.col("game_date").min().alias("first"))

    def before(first: pl.DataFrame, name: str) -> pl.DataFrame:
        return d.join(first, on="season_year", how="inner").filter(
            pl.col("first") < pl.col("analysis_date")).group_by("analysis_date").agg(
            pl.len().cast(pl.Int64).alias(name))

    on_day = d.select("analysis_date").head(0).with_columns(pl.lit(0, pl.Int64).alias(UPCOMING_PLAYERS))
    if d.height:
        first, last = d.get_column("analysis_date").min(), d.get_column("analysis_date").max()
        on_day = pregame_universe(played, schedule, first, last).group_by("analysis_date").agg(
            pl.col("player_id").n_unique().cast(pl.Int64).alias(UPCOMING_PLAYERS))
    out = d
    for frame in (before(first_team, TEAMS_BEFORE), before(first_player, PLAYERS_BEFORE), on_day):
        out = out.join(frame, on="analysis_date", how="left")
    return out.with_columns(pl.col(TEAMS_BEFORE, PLAYERS_BEFORE, UPCOMING_PLAYERS).fill_null(0)).sort("analysis_date")


def _log_and_counts(partition_log: pl.DataFrame, row_counts: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    log = partition_log.select(pl.col("table_name").alias("table"), pl.col("partition_date").alias("date"),
                               pl.col("row_count").cast(pl.Int64).alias("logged_rows"))
    counts = row_counts.select(pl.col("table_name").alias("table"), pl.col("partition_date").alias("date"),
                               pl.col("row_count").cast(pl.Int64).alias("rows_written"))
    return log, counts


def _table_frame(names: Sequence[str], existing: set[str] | None, **extra: Sequence[object]) -> pl.DataFrame:
    return pl.DataFrame({
        "table": list(names),
        "table_exists": [existing is None or n in existing for n in names],
        **{k: list(v) for k, v in extra.items()},
    })


def phase4_report(partitions: pl.DataFrame, schedule: pl.DataFrame, expected: pl.DataFrame,
                  partition_log: pl.DataFrame, row_counts: pl.DataFrame, failures: pl.DataFrame,
                  tables: Sequence[ReportTable], existing: set[str] | None = None) -> pl.DataFrame:
    """One row per (partition, Phase 4 table).

    Args:
        partitions: ``date``, ``season_year``, ``season_week`` (:func:`partitions_frame`).
        schedule: ``nba_schedule`` rows (``game_id``, ``game_date``, optionally ``game_status``).
        expected: from :func:`expected_entities`.
        partition_log: ``table_name``, ``partition_date``, ``row_count`` (``nba_processing.partition_log``).
        row_counts: ``table_name``, ``partition_date``, ``row_count``: the rows each table holds per day.
        failures: ``precompute_failures`` rows of the dates (``processor``, ``analysis_date``,
            ``entity_id``, ``entity_name``, ``failure_category``, ``is_failure``; every processor).
        existing: qualified names of the tables present in the warehouse (None = assume all).

    Returns ``date``, ``season_year``, ``season_week``, ``table``, ``table_exists``, ``has_games``,
    ``materialized``, ``logged_rows`` (NULL when never materialised), ``rows_written`` (counted in the
    table), ``expected``, ``incomplete_data``, ``stale_data``, ``true_failures`` (entity rows),
    ``date_level_failures`` (DATE_LEVEL rows), ``failed_entities``, ``units``, ``unaccounted``,
    ``surplus``, ``status``, ``problem_kind`` and ``problem`` (NULL when COMPLETE / NO_GAMES), then the
    ``incomplete_rate_within_band`` check's numbers (module docstring): ``entities_total``,
    ``incomplete_rate``, ``expected_band``, ``expected_band_upper`` (NULL without a band) and
    ``incomplete_rate_within_band`` (``WARN`` / ``PASS``; NULL when not materialised).
    """
    games = expected_games(schedule).select(pl.col("game_date").alias("date")).unique().with_columns(
        pl.lit(True).alias("has_games"))
    tab = _table_frame([t.qualified_name for t in tables], existing,
                       processor=[t.processor for t in tables], universe=[t.universe for t in tables])
    exp = expected.select(pl.col("analysis_date").alias("date"), TEAMS_BEFORE, PLAYERS_BEFORE, UPCOMING_PLAYERS)
    grid = partitions.select("date", "season_year", "season_week").join(tab, how="cross").join(exp, on="date", how="left").with_columns(
        pl.when(pl.col("universe") == TEAMS_BEFORE).then(pl.col(TEAMS_BEFORE))
        .when(pl.col("universe") == PLAYERS_BEFORE).then(pl.col(PLAYERS_BEFORE))
        .otherwise(pl.col(UPCOMING_PLAYERS)).fill_null(0).cast(pl.Int64).alias("expected"))
    log, counts = _log_and_counts(partition_log, row_counts)
    is_date = pl.col("entity_id") == DATE_LEVEL
    failing = pl.col("is_failure").fill_null(False) | pl.col("failure_category").is_in(list(TRUE_FAILURES))
    fail = failures.group_by("processor", pl.col("analysis_date").alias("date")).agg(
        ((pl.col("failure_category") == INCOMPLETE_DATA) & ~is_date).sum().cast(pl.Int64).alias("incomplete_data"),
        ((pl.col("failure_category") == STALE_DATA) & ~is_date).sum().cast(pl.Int64).alias("stale_data"),
        (failing & ~is_date).sum().cast(pl.Int64).alias("true_failures"),
        (failing & is_date).sum().cast(pl.Int64).alias("date_level_failures"),
        pl.col("entity_name").filter(failing & is_date).unique().sort().str.join(", ").alias("date_level_upstreams"),
    )
    out = grid.join(games, on="date", how="left").join(log, on=["table", "date"], how="left").join(
        counts, on=["table", "date"], how="left").join(fail, on=["processor", "date"], how="left").with_columns(
        pl.col("has_games").fill_null(False),
        (pl.col("logged_rows").is_not_null() & pl.col("table_exists")).alias("materialized"),
        pl.col("rows_written", "incomplete_data", "stale_data", "true_failures",
               "date_level_failures").fill_null(0),
    )
    accounted = pl.col("rows_written") + pl.col("incomplete_data") + pl.col("stale_data") + pl.col("true_failures")
    out = out.with_columns(
        pl.when(pl.col("date_level_failures") > 0)
        .then(pl.max_horizontal("expected", "true_failures", pl.lit(1, pl.Int64)))
        .otherwise(pl.col("true_failures")).alias("failed_entities"),
        (pl.col("expected") - accounted).clip(lower_bound=0).alias("unaccounted"),
        (accounted - pl.col("expected")).clip(lower_bound=0).alias("surplus"),
    ).with_columns(pl.max_horizontal("expected", "failed_entities").alias("units"))
    kind = (
        pl.when(~pl.col("table_exists")).then(pl.lit(TABLE_ABSENT))
        .when(~pl.col("materialized")).then(pl.lit(NEVER_MATERIALISED))
        .when(pl.col("rows_written") != pl.col("logged_rows")).then(pl.lit(ROWS_CHANGED))
        .when(pl.col("failed_entities") > 0).then(pl.lit(TRUE_FAILURE))
        .when(pl.col("unaccounted") > 0).then(pl.lit(UNACCOUNTED))
        .when(pl.col("surplus") > 0).then(pl.lit(SURPLUS))
    )
    out = out.with_columns(kind.alias("problem_kind"))
    k = pl.col("problem_kind")
    status = (
        pl.when(k == TRUE_FAILURE).then(pl.lit(FAILED))
        .when(k.is_not_null()).then(pl.lit(MISSING))
        .when(~pl.col("has_games") & (pl.col("rows_written") == 0) & (pl.col("expected") == 0)
              & (pl.col("incomplete_data") + pl.col("stale_data") == 0)).then(pl.lit(NO_GAMES))
        .otherwise(pl.lit(COMPLETE))
    )
    problem = (
        pl.when(k == TABLE_ABSENT).then(pl.format("table {} does not exist; {} entities expected",
                                                  pl.col("table"), pl.col("expected")))
        .when(k == NEVER_MATERIALISED).then(pl.format("partition never materialised; {} entities expected",
                                                      pl.col("expected")))
        .when(k == ROWS_CHANGED).then(pl.format("the partition log recorded {} rows, the table holds {}",
                                                pl.col("logged_rows"), pl.col("rows_written")))
        .when(k == TRUE_FAILURE).then(pl.format(
            "{} entity rows MISSING_DEPENDENCY/PROCESSING_ERROR, {} DATE_LEVEL{} -> {} failed entities",
            pl.col("true_failures"), pl.col("date_level_failures"),
            pl.when(pl.col("date_level_failures") > 0)
            .then(pl.format(" ({})", pl.col("date_level_upstreams").fill_null(""))).otherwise(pl.lit("")),
            pl.col("failed_entities")))
        .when(k == UNACCOUNTED).then(pl.format(
            "{} of {} expected entities neither written nor in precompute_failures",
            pl.col("unaccounted"), pl.col("expected")))
        .when(k == SURPLUS).then(pl.format("{} rows + records more than the {} expected entities",
                                           pl.col("surplus"), pl.col("expected")))
    )
    out = out.with_columns(status.alias("status"), problem.alias("problem"))
    out = _with_band_verdict(out, tables)
    return out.select(
        "date", "season_year", "season_week", "table", "table_exists", "has_games", "materialized", "logged_rows",
        "rows_written", "expected", "incomplete_data", "stale_data", "true_failures", "date_level_failures",
        "failed_entities", "units", "unaccounted", "surplus", "status", "problem_kind", "problem",
        "entities_total", "incomplete_rate", "expected_band", "expected_band_upper", INCOMPLETE_RATE_WITHIN_BAND,
    ).sort("date", "table")


def _with_band_verdict(phase4: pl.DataFrame, tables: Sequence[ReportTable]) -> pl.DataFrame:
    """Add the ``incomplete_rate_within_band`` check's numbers and verdict to Phase 4 report rows."""
    out = phase4.with_columns(
        (pl.col("rows_written") + pl.col("incomplete_data") + pl.col("stale_data") + pl.col("true_failures"))
        .alias("entities_total")).with_columns(
        incomplete_rate(pl.col("incomplete_data"), pl.col("entities_total")).alias("incomplete_rate"))
    banded = (pl.concat([attach_band(out.filter(pl.col("table") == t.qualified_name), t.bands)
                         for t in tables])  # one per table (<= 5)
              if tables else attach_band(out, ()))
    verdict = (pl.when(~pl.col("materialized")).then(pl.lit(None, pl.String))
               .when(above_band()).then(pl.lit(WARN)).otherwise(pl.lit(PASS)))
    return banded.with_columns(verdict.alias(INCOMPLETE_RATE_WITHIN_BAND)).rename(
        {"band_upper": "expected_band_upper", "band_label": "expected_band"})


def band_warnings(phase4: pl.DataFrame) -> pl.DataFrame:
    """The (date, table) pairs whose ``incomplete_rate_within_band`` check is ``WARN`` (the incomplete
    rate is above the band's upper edge for that week of the season), with the check's metadata names:
    ``date``, ``season_year``, ``season_week``, ``table``, ``check``, ``severity`` (``WARN``),
    ``entities_total``, ``entities_incomplete``, ``incomplete_rate``, ``expected_band_upper``,
    ``expected_band``. Warnings, never failures: more entities than usual lack the minimum that week."""
    return phase4.filter(pl.col(INCOMPLETE_RATE_WITHIN_BAND) == WARN).select(
        "date", "season_year", "season_week", "table", pl.lit(INCOMPLETE_RATE_WITHIN_BAND).alias("check"),
        pl.lit(WARN).alias("severity"), "entities_total", pl.col("incomplete_data").alias("entities_incomplete"),
        "incomplete_rate", "expected_band_upper", "expected_band",
    ).sort("date", "table")


def phase3_report(partitions: pl.DataFrame, schedule: pl.DataFrame, team_rows: pl.DataFrame,
                  partition_log: pl.DataFrame, row_counts: pl.DataFrame, tables: Sequence[Phase3ReportTable],
                  existing: set[str] | None = None) -> pl.DataFrame:
    """One row per (partition, Phase 3 table): is the partition materialised and does it hold the games.

    Args:
        partitions: ``date``, ``season_year`` (:func:`partitions_frame`; every one is a game date of
            the raw data).
        schedule: ``nba_schedule`` rows (``game_id``, ``game_date``, ``home_team_abbr``,
            ``away_team_abbr``, optionally ``game_status``; without it every game counts as played).
        team_rows: ``table``, ``game_id``, ``team_abbr``: the distinct (game, team) pairs each
            team-keyed table holds over the partitions.
        partition_log, row_counts: as :func:`phase4_report`.
        existing: qualified names of the tables present (None = assume all).

    Returns ``date``, ``season_year``, ``table``, ``table_exists``, ``materialized``, ``logged_rows``,
    ``rows_written``, ``games`` (regular-season games of the date in ``nba_schedule``),
    ``team_games_expected`` (2 per played game; NULL for ``nba_schedule``), ``team_games_missing``,
    ``missing_examples`` (up to three ``game_id team``), ``status``, ``problem_kind``, ``problem``.
    """
    sched = expected_games(schedule)
    games = sched.group_by(pl.col("game_date").alias("date")).agg(pl.len().cast(pl.Int64).alias("games"))
    played = sched.filter(pl.col("game_status") == PLAYED) if "game_status" in sched.columns else sched
    team_games = pl.concat([
        played.select(pl.col("game_date").alias("date"), "game_id", pl.col(side).alias("team_abbr"))
        for side in ("home_team_abbr", "away_team_abbr")])
    team_keyed = [t for t in tables if t.team_column is not None]
    per_table = pl.DataFrame({"table": [t.qualified_name for t in team_keyed]}, schema={"table": pl.String})
    wanted = team_games.join(per_table, how="cross")
    # upcoming_player_game_context holds D's pre-game universe: a team without a scheduled game in the
    # 30 days before D this season (its first game: opening night) has nobody, which is not a hole
    all_team_games = pl.concat([
        sched.select(pl.col("game_date").alias("date"),
                     pl.col("season_year") if "season_year" in sched.columns else pl.lit(0).alias("season_year"),
                     pl.col(side).alias("team_abbr"))
        for side in ("home_team_abbr", "away_team_abbr")]).unique().sort("team_abbr", "season_year", "date")
    no_universe = all_team_games.with_columns(
        pl.col("date").shift(1).over("team_abbr", "season_year").alias("__previous")).filter(
        pl.col("__previous").is_null()
        | (pl.col("__previous") < pl.col("date") - pl.duration(days=UNIVERSE_DAYS))).select(
        "date", "team_abbr", pl.lit(UPCOMING_PLAYER_GAME_CONTEXT.qualified_name).alias("table"))
    wanted = wanted.join(no_universe, on=["table", "date", "team_abbr"], how="anti")
    absent = wanted.join(team_rows.select("table", "game_id", "team_abbr").unique(),
                         on=["table", "game_id", "team_abbr"], how="anti")
    expected_tg = wanted.group_by("table", "date").agg(pl.len().cast(pl.Int64).alias("team_games_expected"))
    missing_tg = absent.sort("game_id", "team_abbr").group_by("table", "date").agg(
        pl.len().cast(pl.Int64).alias("team_games_missing"),
        pl.format("{} {}", "game_id", "team_abbr").head(3).str.join(", ").alias("missing_examples"))
    tab = _table_frame([t.qualified_name for t in tables], existing,
                       team_keyed=[t.team_column is not None for t in tables])
    log, counts = _log_and_counts(partition_log, row_counts)
    out = partitions.select("date", "season_year").join(tab, how="cross").join(games, on="date", how="left").join(
        log, on=["table", "date"], how="left").join(counts, on=["table", "date"], how="left").join(
        expected_tg, on=["table", "date"], how="left").join(missing_tg, on=["table", "date"], how="left").with_columns(
        (pl.col("logged_rows").is_not_null() & pl.col("table_exists")).alias("materialized"),
        pl.col("rows_written", "games").fill_null(0),
        pl.when(pl.col("team_keyed")).then(pl.col("team_games_expected").fill_null(0)).alias("team_games_expected"),
        pl.when(pl.col("team_keyed")).then(pl.col("team_games_missing").fill_null(0)).alias("team_games_missing"),
    )
    kind = (
        pl.when(~pl.col("table_exists")).then(pl.lit(TABLE_ABSENT))
        .when(~pl.col("materialized")).then(pl.lit(NEVER_MATERIALISED))
        .when(~pl.col("team_keyed") & (pl.col("games") == 0)).then(pl.lit(NO_SCHEDULE))
        .when(pl.col("team_games_missing") > 0).then(pl.lit(TEAMS_WITHOUT_ROWS))
        .when(pl.col("rows_written") != pl.col("logged_rows")).then(pl.lit(ROWS_CHANGED))
    )
    out = out.with_columns(kind.alias("problem_kind"))
    k = pl.col("problem_kind")
    status = (pl.when(k.is_in([TABLE_ABSENT, NEVER_MATERIALISED])).then(pl.lit(MISSING))
              .when(k.is_not_null()).then(pl.lit(PHASE3_HOLE)).otherwise(pl.lit(COMPLETE)))
    problem = (
        pl.when(k == TABLE_ABSENT).then(pl.format("table {} does not exist", pl.col("table")))
        .when(k == NEVER_MATERIALISED).then(pl.lit("partition never materialised"))
        .when(k == ROWS_CHANGED).then(pl.format("the partition log recorded {} rows, the table holds {}",
                                                pl.col("logged_rows"), pl.col("rows_written")))
        .when(k == NO_SCHEDULE).then(pl.lit("a game date of the raw schedule with no game in nba_schedule"))
        .when(k == TEAMS_WITHOUT_ROWS).then(pl.format(
            "{} of {} played team-games have no rows (e.g. {}); the partition log recorded {} rows, the "
            "table holds {}", pl.col("team_games_missing"), pl.col("team_games_expected"),
            pl.col("missing_examples"), pl.col("logged_rows"), pl.col("rows_written")))
    )
    return out.with_columns(status.alias("status"), problem.alias("problem")).select(
        "date", "season_year", "table", "table_exists", "materialized", "logged_rows", "rows_written", "games",
        "team_games_expected", "team_games_missing", "missing_examples", "status", "problem_kind", "problem",
    ).sort("date", "table")


def weekly_incomplete(phase4: pl.DataFrame, tables: Sequence[ReportTable]) -> pl.DataFrame:
    """The ``incomplete_rate_within_band`` days of :func:`phase4_report` summed per table, season and
    season week over the materialised dates: ``table``, ``season_year``, ``season_week``, ``dates``,
    ``expected``, ``entities_total``, ``incomplete_data``, ``incomplete_rate`` (pooled over the week:
    INCOMPLETE_DATA / ``entities_total``, the check's formula), ``band_upper``, ``band_label``,
    ``days_above_band`` (days whose check is WARN) and ``within_band`` (no WARN day in the week; NULL when
    the table has no band). A week is never judged on its pooled rate: it is within band exactly when
    the dashboard shows no WARN for any of its days."""
    band_map: Mapping[str, Sequence[Band]] = {t.qualified_name: t.bands for t in tables}
    agg = phase4.filter(pl.col("materialized") & pl.col("season_week").is_not_null()).group_by(
        "table", "season_year", "season_week").agg(
        pl.len().cast(pl.Int64).alias("dates"), pl.col("expected").sum(), pl.col("entities_total").sum(),
        pl.col("incomplete_data").sum(),
        (pl.col(INCOMPLETE_RATE_WITHIN_BAND) == WARN).sum().cast(pl.Int64).alias("days_above_band"),
    ).with_columns(
        incomplete_rate(pl.col("incomplete_data"), pl.col("entities_total")).alias("incomplete_rate"),
    ).sort("table", "season_year", "season_week")
    parts = [attach_band(agg.filter(pl.col("table") == name), band_map.get(name, ()))
             for name in agg.get_column("table").unique(maintain_order=True).to_list()]  # one per table (<= 5)
    if not parts:
        return agg.with_columns(pl.lit(None, pl.Float64).alias("band_upper"), pl.lit(None, pl.String).alias("band_label"),
                                pl.lit(None, pl.Boolean).alias("within_band"))
    return pl.concat(parts).with_columns(
        pl.when(pl.col("band_upper").is_not_null())
        .then(pl.col("days_above_band") == 0).alias("within_band"))


def shot_chart_coverage(player_games: pl.DataFrame, seasons: Sequence[int], chart_seasons: Sequence[int],
                        last_published: int) -> pl.DataFrame:
    """Shot-chart coverage per season: the share (0-1) of played player-games (``minutes_played > 0``)
    with a zone split (``paint_attempts`` not NULL in ``player_game_summary``).

    Args:
        player_games: ``player_game_summary`` rows of the report's partitions (``game_id``,
            ``season_year``, ``minutes_played``, ``paint_attempts``).
        seasons: the seasons (start years) of the report.
        chart_seasons: seasons whose shot-chart file is in the raw data directory.
        last_published: the last season the shot-chart source published (later ones have none).

    Returns ``season_year``, ``played_player_games``, ``with_zone_split``, ``coverage`` (NULL without
    played games), ``source`` (``published``, ``none published``, ``published, file absent``),
    ``coverage_ok`` (full coverage where a chart exists, none where none is published) and ``note``.
    """
    agg = _played(player_games).group_by("season_year").agg(
        pl.len().cast(pl.Int64).alias("played_player_games"),
        zone_split_known().sum().cast(pl.Int64).alias("with_zone_split"))
    base = pl.DataFrame({"season_year": sorted(set(seasons))}, schema={"season_year": pl.Int64})
    out = base.join(agg, on="season_year", how="left").with_columns(
        pl.col("played_player_games", "with_zone_split").fill_null(0),
        pl.when(pl.col("season_year").is_in(list(chart_seasons))).then(pl.lit("published"))
        .when(pl.col("season_year") > last_published).then(pl.lit("none published"))
        .otherwise(pl.lit("published, file absent")).alias("source"),
    ).with_columns(
        pl.when(pl.col("played_player_games") > 0)
        .then(pl.col("with_zone_split") / pl.col("played_player_games")).alias("coverage"))
    without = pl.col("played_player_games") - pl.col("with_zone_split")
    pct = (pl.col("coverage") * 100).round(1).cast(pl.String)
    ok = (pl.when(pl.col("played_player_games") == 0).then(pl.lit(True))
          .when(pl.col("source") == "published").then(without == 0)
          .otherwise(pl.col("with_zone_split") == 0))
    note = (
        pl.when((pl.col("source") == "none published") & (pl.col("with_zone_split") == 0))
        .then(pl.concat_str(pl.lit(NO_SHOT_CHART_NOTE), pl.when(pl.col("played_player_games") == 0)
                            .then(pl.lit("; no played player-games in player_game_summary")).otherwise(pl.lit(""))))
        .when(pl.col("played_player_games") == 0).then(pl.lit("no played player-games in player_game_summary"))
        .when(pl.col("source") == "published").then(pl.format(
            "{}% of {} played player-games have a zone split{}", pct, thousands(pl.col("played_player_games")),
            pl.when(without > 0).then(pl.format(" — {} without one although the season has a shot chart",
                                                thousands(without)))
            .otherwise(pl.lit(""))))
        .when(pl.col("source") == "published, file absent").then(pl.format(
            "{}% zone split: the season's shot-chart file is not in the raw data directory", pct))
        .otherwise(pl.format("{}% zone split although no shot chart is published for the season", pct))
    )
    return out.with_columns(ok.alias("coverage_ok"), note.alias("note")).sort("season_year")


def _sums() -> list[pl.Expr]:
    cols = ("rows_written", "expected", "units", "incomplete_data", "stale_data", "true_failures",
            "date_level_failures", "failed_entities", "unaccounted")
    return [pl.col(c).sum().cast(pl.Int64).alias(c) for c in cols] + [
        (pl.col("date_level_failures") > 0).sum().cast(pl.Int64).alias("date_level_pairs")]


def _rates() -> list[pl.Expr]:
    """The rates of the summary: a count / ``units``, 0.0 without units (``quality.incomplete_rate``)."""
    def rate(count: pl.Expr) -> pl.Expr:
        return incomplete_rate(count, pl.col("units"))

    return [rate(pl.col("failed_entities")).alias("true_failure_rate"),
            rate(pl.col("incomplete_data")).alias("incomplete_rate"),
            rate(pl.col("stale_data")).alias("stale_rate"), rate(pl.col("unaccounted")).alias("unaccounted_rate"),
            rate(pl.col("true_failures") + pl.col("incomplete_data") + pl.col("stale_data"))
            .alias("legacy_failure_rate")]


def season_summary(phase4: pl.DataFrame, phase3: pl.DataFrame, coverage: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per season: ``season_year``, ``partitions``, the Phase 4 sums (``rows_written``,
    ``expected``, ``units``, ``incomplete_data``, ``stale_data``, ``true_failures``,
    ``date_level_failures``, ``date_level_pairs``, ``failed_entities``, ``unaccounted``), the rates
    (fractions 0-1, see the module docstring), the Phase 4 status counts (``COMPLETE``, ``FAILED``,
    ``MISSING``, ``NO_GAMES`` (date, table) pairs), the Phase 3 ones (``phase3_COMPLETE``,
    ``phase3_PHASE3_HOLE``, ``phase3_MISSING``) and, when given, the :func:`shot_chart_coverage` columns."""
    p4 = phase4.group_by("season_year").agg(
        pl.col("date").n_unique().cast(pl.Int64).alias("partitions"), *_sums(),
        *[(pl.col("status") == s).sum().cast(pl.Int64).alias(s) for s in PHASE4_STATUSES])
    p3 = phase3.group_by("season_year").agg(
        pl.col("date").n_unique().cast(pl.Int64).alias("phase3_partitions"),
        *[(pl.col("status") == s).sum().cast(pl.Int64).alias(f"phase3_{s}") for s in PHASE3_STATUSES])
    seasons = pl.concat([phase4.select("season_year"), phase3.select("season_year")]).unique()
    out = seasons.join(p4, on="season_year", how="left").join(p3, on="season_year", how="left").with_columns(
        pl.coalesce("partitions", "phase3_partitions").alias("partitions")).drop("phase3_partitions")
    out = out.with_columns(pl.exclude("season_year", "partitions").fill_null(0)).with_columns(_rates())
    if coverage is not None:
        out = out.join(coverage, on="season_year", how="left")
    return out.sort("season_year")


def summary(phase4: pl.DataFrame, phase3: pl.DataFrame) -> dict[str, object]:
    """Totals over every (date, table) of the report, rates as fractions (0-1, see the module
    docstring), status counts per phase, ``warnings`` (``{"incomplete_rate_within_band": WARN days}``,
    never a failure) and ``ok`` (no MISSING / FAILED / PHASE3_HOLE anywhere)."""
    tot = phase4.select(_sums()).with_columns(_rates()).row(0, named=True)
    tot = {k: (0 if v is None else v) for k, v in tot.items()}
    counts4 = {s: int(n) for s, n in phase4.group_by("status").len().iter_rows()}
    counts3 = {s: int(n) for s, n in phase3.group_by("status").len().iter_rows()}
    problems4 = sum(counts4.get(s, 0) for s in PROBLEM_STATUSES)
    problems3 = sum(counts3.get(s, 0) for s in PROBLEM_STATUSES)
    return {
        **tot,
        "dates": int(pl.concat([phase4.select("date"), phase3.select("date")]).n_unique()),
        "status_counts": counts4,
        "phase3_status_counts": counts3,
        "warnings": {INCOMPLETE_RATE_WITHIN_BAND: int(
            (phase4.get_column(INCOMPLETE_RATE_WITHIN_BAND) == WARN).sum())},
        "phase4_problem_pairs": problems4,
        "phase3_problem_pairs": problems3,
        "tables_missing_from_warehouse": sorted(
            pl.concat([phase4.filter(~pl.col("table_exists")).select("table"),
                       phase3.filter(~pl.col("table_exists")).select("table")]).get_column("table").unique().to_list()),
        "ok": problems4 + problems3 == 0,
    }


_GROUP_SUMS = ("expected", "unaccounted", "surplus", "failed_entities", "team_games_missing")


def problem_groups(phase4: pl.DataFrame, phase3: pl.DataFrame, labels: Mapping[str, str] | None = None,
                   order: Sequence[str] = ()) -> pl.DataFrame:
    """The problem (date, table) pairs of both phases, run-length encoded: consecutive partitions of
    one season with the same status and problem kind form one run, and the tables sharing a run are
    listed together.

    Args:
        labels: short names for tables (e.g. TDZA); default the table name.
        order: qualified table names in display order (default alphabetical).

    Returns ``phase`` (``phase3`` / ``phase4``), ``season_year``, ``start``, ``end``, ``partitions``,
    ``status``, ``problem_kind``, ``tables`` (qualified names), ``labels``, ``pairs`` ((date, table)
    pairs), ``expected``, ``unaccounted``, ``surplus``, ``failed_entities``, ``team_games_missing`` (sums),
    ``phase3_problem`` (a Phase 4 run on dates where Phase 3 has a problem too) and ``detail`` (one line
    of numbers), sorted by start date, phase 3 first.
    """
    rank = {name: i for i, name in enumerate(order)}

    def prep(df: pl.DataFrame, phase: str) -> pl.DataFrame:
        cols = {c: pl.col(c) if c in df.columns else pl.lit(0, pl.Int64) for c in _GROUP_SUMS}
        return df.with_columns(pl.col("date").rank("dense").cast(pl.Int64).alias("idx")).filter(
            pl.col("status").is_in(list(PROBLEM_STATUSES))).select(
            pl.lit(phase).alias("phase"), "season_year", "date", "idx", "table", "status", "problem_kind",
            *[e.fill_null(0).cast(pl.Int64).alias(c) for c, e in cols.items()])

    rows = pl.concat([prep(phase3, PHASE3), prep(phase4, PHASE4)])
    keys = ["phase", "season_year", "table", "status", "problem_kind"]
    runs = rows.sort(*keys, "idx").with_columns(
        (pl.col("idx").diff().over(keys) != 1).fill_null(True).cum_sum().over(keys).alias("run")
    ).group_by(*keys, "run").agg(
        pl.col("date").min().alias("start"), pl.col("date").max().alias("end"),
        pl.len().cast(pl.Int64).alias("partitions"),
        *[pl.col(c).sum() for c in _GROUP_SUMS])
    labels = dict(labels or {})
    runs = runs.with_columns(
        pl.when(pl.col("table").is_in(list(labels))).then(pl.col("table").replace(labels))
        .otherwise(pl.col("table").str.split(".").list.last()).alias("label"),
        pl.when(pl.col("table").is_in(list(rank))).then(pl.col("table").replace(
            {k: str(v) for k, v in rank.items()})).otherwise(pl.lit(str(len(rank)))).cast(pl.Int64).alias("order"),
    ).sort("order", "table")
    groups = runs.group_by("phase", "season_year", "start", "end", "partitions", "status", "problem_kind",
                           maintain_order=True).agg(
        pl.col("table").alias("tables"), pl.col("label").alias("labels"), pl.len().alias("n_tables"),
        *[pl.col(c).sum() for c in _GROUP_SUMS])
    # Phase 4 runs on dates where Phase 3 has a problem too: Phase 4's expected entities come from Phase 3
    p3_dates = rows.filter(pl.col("phase") == PHASE3).select("date").unique()
    p3_runs = groups.filter(pl.col("phase") == PHASE4).select("start", "end").unique().join(
        p3_dates, how="cross").filter(pl.col("date").is_between(pl.col("start"), pl.col("end"))).select(
        "start", "end").unique().with_columns(pl.lit(True).alias("phase3_problem"))
    groups = groups.join(p3_runs, on=["start", "end"], how="left").with_columns(
        (pl.col("phase3_problem").fill_null(False) & (pl.col("phase") == PHASE4)).alias("phase3_problem"))
    k = pl.col("problem_kind")
    detail = pl.concat_str(
        pl.when(k == TRUE_FAILURE).then(pl.format("{} failed entities", thousands(pl.col("failed_entities"))))
        .when(k == TEAMS_WITHOUT_ROWS).then(pl.format("{} played team-games without rows",
                                                       thousands(pl.col("team_games_missing"))))
        .when((pl.col("phase") == PHASE4) & (pl.col("unaccounted") > 0)).then(pl.format(
            "{} expected entities unaccounted for", thousands(pl.col("unaccounted"))))
        .when(k == SURPLUS).then(pl.format("{} more than expected", thousands(pl.col("surplus"))))
        .otherwise(pl.lit("")),
        pl.when(pl.col("phase3_problem")).then(pl.lit(" (Phase 3 has problems on these dates: fix it first)"))
        .otherwise(pl.lit("")),
    ).str.strip_chars()
    return groups.with_columns(
        (pl.col("partitions") * pl.col("n_tables")).cast(pl.Int64).alias("pairs"), detail.alias("detail"),
    ).drop("n_tables").sort("start", pl.col("phase") != PHASE3, "status", "problem_kind")


def fix_commands(groups: pl.DataFrame, asset_keys: Mapping[str, str], phase3_selection: str,
                 everything: str = "*") -> pl.DataFrame:
    """The ``dg launch`` commands that rematerialise the partitions of :func:`problem_groups`: per
    phase and season, one single-run backfill over [first, last] problem partition (partitions in
    between are rematerialised too, which replace-the-partition makes harmless). Phase 3 first (Phase 4
    reads it), then Phase 4 with exactly the tables that have a problem; a season whose Phase 3 and
    every Phase 4 table need the same range gets one command selecting ``everything`` instead.

    Args:
        asset_keys: qualified table name -> Dagster asset key path (``nba_precompute/player_daily_cache``).
        phase3_selection: the asset selection that rebuilds Phase 3 (``group:phase3_analytics``).

    Returns ``phase`` (``phase3``, ``phase4`` or ``all``), ``season_year``, ``start``, ``end``,
    ``assets`` (the ``--assets`` value) and ``command``, Phase 3 and ``all`` first.
    """
    if groups.is_empty():
        return pl.DataFrame(schema={"phase": pl.String, "season_year": pl.Int64, "start": pl.Date,
                                    "end": pl.Date, "assets": pl.String, "command": pl.String})
    order = {name: i for i, name in enumerate(asset_keys)}
    per = groups.explode("tables").group_by("phase", "season_year").agg(
        pl.col("start").min(), pl.col("end").max(), pl.col("tables").unique().alias("tables"))
    # the Phase 4 selection in declaration order (a few strings per command: formatting, not data work)
    assets = []
    for phase, tables in per.select("phase", "tables").iter_rows():
        if phase == PHASE3:
            assets.append(phase3_selection)
        else:
            assets.append(",".join(asset_keys.get(t, t.replace(".", "/"))
                                   for t in sorted(tables, key=lambda t: order.get(t, len(order)))))
    per = per.with_columns(pl.Series("assets", assets, dtype=pl.String))
    every4 = ",".join(asset_keys.values())
    both = per.group_by("season_year", "start", "end").agg(
        ((pl.col("phase") == PHASE3).any() & (pl.col("assets") == every4).any()).alias("all"))
    per = per.join(both, on=["season_year", "start", "end"], how="left").filter(
        ~pl.col("all") | (pl.col("phase") == PHASE3)).with_columns(
        pl.when(pl.col("all")).then(pl.lit("all")).otherwise(pl.col("phase")).alias("phase"),
        pl.when(pl.col("all")).then(pl.lit(everything)).otherwise(pl.col("assets")).alias("assets"))
    rng = (pl.when(pl.col("start") == pl.col("end")).then(pl.format("--partition {}", pl.col("start")))
           .otherwise(pl.format("--partition-range {}...{}", pl.col("start"), pl.col("end"))))
    return per.with_columns(pl.format("dg launch --assets '{}' {}", pl.col("assets"), rng).alias("command")).select(
        "phase", "season_year", "start", "end", "assets", "command").sort(pl.col("phase") == PHASE4, "season_year")


MIN_SLATE_PLAYERS = 8  # a scheduled team with fewer players in its pre-game universe is worth a look


def slate_readiness(tonight: dt.date, schedule: pl.DataFrame, upcoming: pl.DataFrame,
                    min_players: int = MIN_SLATE_PLAYERS) -> pl.DataFrame:
    """Tonight's slate, one row per scheduled team: ``team_abbr``, ``opponent_team_abbr``, ``game_id``,
    ``players`` (rows of ``upcoming_player_game_context`` for tonight: the team's pre-game universe;
    0 when the slate was not materialised) and ``below_minimum`` (fewer than ``min_players``: a warning,
    not a failure). ``schedule``: ``nba_schedule`` rows; ``upcoming``: ``game_date``, ``team_abbr``."""
    games = expected_games(schedule).filter(pl.col("game_date") == tonight)
    teams = pl.concat([
        games.select("game_id", pl.col("home_team_abbr").alias("team_abbr"),
                     pl.col("away_team_abbr").alias("opponent_team_abbr")),
        games.select("game_id", pl.col("away_team_abbr").alias("team_abbr"),
                     pl.col("home_team_abbr").alias("opponent_team_abbr")),
    ])
    counts = upcoming.filter(pl.col("game_date") == tonight).group_by("team_abbr").agg(
        pl.len().cast(pl.Int64).alias("players"))
    return teams.join(counts, on="team_abbr", how="left").with_columns(
        pl.col("players").fill_null(0)).with_columns(
        (pl.col("players") < min_players).alias("below_minimum")).sort("game_id", "team_abbr")
