"""Domain rules for the raw NBA.com frames: what a value must mean, not only whether it parses.

Pure Polars, no Dagster. The readers (``nba_precompute.raw.readers``) turn the files into typed frames
and reject what cannot be parsed; the functions here reject what parses but cannot be true, before
anything is computed from it. One function per raw frame:

* :func:`validate_schedule`            ``boxscores/hoopr-nba-project/schedule.csv.gz``
* :func:`validate_team_game_logs`      ``boxscores/hoopr-nba-project/team_game_logs.csv.gz``
* :func:`validate_player_boxscores`    ``boxscores/hoopr-nba-project/player_game_logs1.csv.gz``
* :func:`validate_shots`               ``shots/NBA_<season end year>_Shots.csv.zip``

and :func:`validate_phase3_inputs`, which runs all four in dependency order (the schedule is the
reference for the other three; the team logs for the box scores; the box scores for the shots), and
:func:`phase3_violations`, which lists every offending row of the four instead of raising (what a run
quarantines: ``nba_precompute.raw.quarantine``).

Every function returns ``None`` or raises :class:`~nba_precompute.raw.readers.RawDataError`. The
message has one line per broken rule::

    <file>: <n> row(s) break the rule '<rule>': line <L>: <column> = <value> (<why>); line ...

naming the file, the 1-based line in the (decompressed) source file (header = line 1, from the
readers' ``source_line`` column), the column as it is called in the file, the offending value as
written in the file (dates in the file's format, minutes as ``MM:SS``, strings quoted) and how many
rows break the rule; at most three example rows are shown per rule. A frame without ``source_line``
(a hand-built frame) is numbered as if it were a CSV file with a header: row i on line i + 2.

Units: counts are integers (makes, attempts, rebounds, points); player minutes are decimal minutes;
team minutes are the team log's ``min`` (minutes summed over the five players on court, 240 for
a regulation game); distances are feet; dates are calendar dates as the NBA dates games (US Eastern);
``season_year`` is the season's start year (2022 for 2022-23).

Every rule was measured on all the real data in the raw directory (hoopR schedule, box scores and
team logs of 2022-23, 2023-24, 2024-25 and 2025-26 up to 2026-02-09; shot charts of 2020-21, 2022-23
and 2023-24): the real files pass every rule, and the real source quirks are tolerated explicitly and
documented next to the rule they would otherwise break (``SCHEDULE_PLACEHOLDER_TEAM_ID``,
``UNCHECKED_SCHEDULE_GAME_TYPES``, ``SHOT_PLACEHOLDER_GAME_SEQUENCE``, the team-log date rule, the
absence of a SHOT_TYPE/BASIC_ZONE consistency rule). Disagreements between the shot chart and the
box score on FGA/FGM/3PA/3PM are *not* checked here: SPEC §3 keeps those games and flags them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from nba_precompute.raw.readers import (
    _BOX_COUNTS,
    _TEAM_LOG_COUNTS,
    PLAYER_BOXSCORE_FILE,
    SCHEDULE_FILE,
    SHOT_TYPES,
    SHOTS_FILE,
    SOURCE_LINE,
    TEAM_GAME_LOG_FILE,
    RawDataError,
)
from nba_precompute.schemas import is_regular_season

# ----------------------------------------------------------------------------------------------------
# The domain

#: NBA team id of each franchise tricode. The same 30 (tricode, team id) pairs are used by every season
#: in the raw data: 2020-21 (shot chart, nba-lineup-analyzer logs), 2022-23, 2023-24 (shot charts and
#: hoopR files), 2024-25 and 2025-26 (hoopR files).
NBA_FRANCHISES: Mapping[str, int] = {
    "ATL": 1610612737, "BOS": 1610612738, "CLE": 1610612739, "NOP": 1610612740, "CHI": 1610612741,
    "DAL": 1610612742, "DEN": 1610612743, "GSW": 1610612744, "HOU": 1610612745, "LAC": 1610612746,
    "LAL": 1610612747, "MIA": 1610612748, "MIL": 1610612749, "MIN": 1610612750, "BKN": 1610612751,
    "NYK": 1610612752, "ORL": 1610612753, "IND": 1610612754, "PHI": 1610612755, "PHX": 1610612756,
    "POR": 1610612757, "SAC": 1610612758, "SAS": 1610612759, "OKC": 1610612760, "TOR": 1610612761,
    "UTA": 1610612762, "MEM": 1610612763, "WAS": 1610612764, "DET": 1610612765, "CHA": 1610612766,
}


@dataclass(frozen=True)
class FranchiseEra:
    """The franchises (tricode -> team id) of the seasons ``first_season`` .. ``last_season``
    (start years, inclusive; ``None`` = still current)."""

    first_season: int
    last_season: int | None
    teams: Mapping[str, int]


#: The tricodes in force per season. The 30 current codes date from 2014-15 (the last change: the
#: Charlotte Bobcats became the Hornets, code CHA unchanged; New Orleans became NOP in 2013-14). A
#: season not covered by any era has no known franchise, so its files are rejected until the table is
#: extended (e.g. with NJN, NOH, SEA for older seasons) -- a made-up code can never pass.
FRANCHISE_ERAS: tuple[FranchiseEra, ...] = (FranchiseEra(2014, None, NBA_FRANCHISES),)


def franchises(season_year: int) -> dict[str, int]:
    """Tricode -> NBA team id of the franchises of the season starting in ``season_year``; empty when
    :data:`FRANCHISE_ERAS` does not cover the season."""
    for era in FRANCHISE_ERAS:
        if era.first_season <= season_year and (era.last_season is None or season_year <= era.last_season):
            return dict(era.teams)
    return {}


# Game types: the third digit of the 10-character game id (transforms.common.season_type_expr).
REGULAR_SEASON_TYPE = "2"
GAME_TYPES = ("1", "2", "3", "4", "5", "6")
#: Pre-season (1) and All-Star (3) games are played by exhibition or foreign teams (All-Star teams have
#: ids 1610616833.. and codes that change yearly: LBN, GNS, DRN, CHK, ...): their team columns are not
#: checked against the franchise table.
UNCHECKED_SCHEDULE_GAME_TYPES = ("1", "3")
#: Future games whose teams are not known yet are listed with team id 0 and no tricode (2025-26: the 7
#: All-Star games and the 7 Finals games). Tolerated in the schedule for every game type but the regular
#: season.
SCHEDULE_PLACEHOLDER_TEAM_ID = 0
#: The 2020-21 shot chart files 873 shots of five opening-week games under the game id 22000000
#: (sequence number 00000, which no NBA game has); those shots span three dates. The id is not a game,
#: so the "one date per game" rule skips it (2020-21 shots are matched on player and date, not game id).
SHOT_PLACEHOLDER_GAME_SEQUENCE = "00000"

#: A regular season spans fewer days than this (2022-23: 173 days): a longer one is a malformed schedule.
MAX_REGULAR_SEASON_DAYS = 200
#: A regular-season game of season Y is dated Sep 1 of Y .. Aug 31 of Y + 1 (the 2019-20 season's
#: seeding games ended on 2020-08-14); play-in, playoff and other games up to Oct 31 of Y + 1 (the
#: 2020 Finals ended on 2020-10-11).
SEASON_FIRST_MONTH_DAY = (9, 1)
REGULAR_SEASON_LAST_MONTH_DAY = (8, 31)
POSTSEASON_LAST_MONTH_DAY = (10, 31)

REGULATION_MINUTES = 48
OVERTIME_MINUTES = 5
#: The longest NBA game had six overtimes (1951). Real data: at most 2 overtimes (team ``min`` 290).
MAX_OVERTIMES = 6
#: Upper bound of one player's minutes in any game: 48 + 5 x 6 = 78. Real maximum: 55:06 (2OT).
MAX_PLAYER_MINUTES = REGULATION_MINUTES + OVERTIME_MINUTES * MAX_OVERTIMES
#: |sum of the players' minutes - team minutes| allowed for one team-game, in minutes. Real: at most
#: 4 seconds (0.067 min, box-score rounding of MM:SS).
TEAM_MINUTES_TOLERANCE = 1.0

BASIC_ZONES = ("Restricted Area", "In The Paint (Non-RA)", "Mid-Range", "Left Corner 3", "Right Corner 3",
               "Above the Break 3", "Backcourt")
#: Shot distance bounds in feet (the court is 94 ft long). Real maximum: 86 ft.
MAX_SHOT_DISTANCE_FT = 94.0

# box score count columns: (made, attempted) pairs and the points identity, as frame column names
_BOX_MADE_ATTEMPTED = (
    ("fg_makes", "fg_attempts"), ("box_three_pt_makes", "box_three_pt_attempts"),
    ("ft_makes", "ft_attempts"), ("box_three_pt_makes", "fg_makes"),
    ("box_three_pt_attempts", "fg_attempts"),
)
_LOG_MADE_ATTEMPTED = (
    ("fg_makes", "fg_attempts"), ("three_pt_makes", "three_pt_attempts"), ("ft_makes", "ft_attempts"),
    ("three_pt_makes", "fg_makes"), ("three_pt_attempts", "fg_attempts"),
)
# team log column -> box score column summed over the team's players
_TEAM_TOTALS = {
    "fg_makes": "fg_makes", "fg_attempts": "fg_attempts", "three_pt_makes": "box_three_pt_makes",
    "three_pt_attempts": "box_three_pt_attempts", "ft_makes": "ft_makes", "ft_attempts": "ft_attempts",
    "offensive_rebounds": "offensive_rebounds", "defensive_rebounds": "defensive_rebounds",
    "assists": "assists", "turnovers": "turnovers", "points": "points",
}
_BOX_COUNT_COLUMNS = list(_BOX_COUNTS.values())
_LOG_COUNT_COLUMNS = [c for c in _TEAM_LOG_COUNTS.values() if c != "team_minutes"]


# ----------------------------------------------------------------------------------------------------
# Messages


def _quoted(e: pl.Expr) -> pl.Expr:
    return pl.concat_str(pl.lit("'"), e.cast(pl.String), pl.lit("'"))


def _plain(e: pl.Expr) -> pl.Expr:
    return e.cast(pl.String)


def _date_as(fmt: str, upper: bool = False) -> Callable[[pl.Expr], pl.Expr]:
    def render(e: pl.Expr) -> pl.Expr:
        text = e.dt.strftime(fmt)
        return _quoted(text.str.to_uppercase() if upper else text)
    return render


def _minutes_mmss(e: pl.Expr) -> pl.Expr:
    """Decimal minutes as the file writes them ("38:34")."""
    secs = (e.abs() * 60).round(0).cast(pl.Int64)
    sign = pl.when(e < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return _quoted(pl.concat_str(sign, (secs // 60).cast(pl.String), pl.lit(":"),
                                 (secs % 60).cast(pl.String).str.zfill(2)))


def _short_game_id(e: pl.Expr) -> pl.Expr:
    """The shot chart writes game ids without their two leading zeros (22200001)."""
    return _quoted(e.str.slice(2))


def _season_label(season_year: pl.Expr) -> pl.Expr:
    """2022 -> "2022-23"."""
    return pl.concat_str(season_year.cast(pl.String), pl.lit("-"),
                         ((season_year + 1) % 100).cast(pl.String).str.zfill(2))


def _season_of_game_id(game_id: pl.Expr) -> pl.Expr:
    """Season start year encoded in a 10-character game id (``0022200001`` -> 2022)."""
    return (2000 + game_id.str.slice(3, 2).cast(pl.Int64, strict=False)).alias("season_year")


@dataclass(frozen=True)
class _Source:
    """How a frame's columns are called and written in its file (for messages)."""

    file: str
    names: Mapping[str, str] = field(default_factory=dict)
    renderers: Mapping[str, Callable[[pl.Expr], pl.Expr]] = field(default_factory=dict)

    def name(self, col: str) -> str:
        return self.names.get(col, col)

    def value(self, col: str) -> pl.Expr:
        """The value of ``col`` as written in the file; "empty" for a missing value."""
        render = self.renderers.get(col) or (_quoted if col in _TEXT_COLUMNS else _plain)
        return pl.when(pl.col(col).is_null()).then(pl.lit("empty")).otherwise(render(pl.col(col)))

    def show(self, col: str) -> pl.Expr:
        """``"<file column> = <value>"``."""
        return pl.concat_str(pl.lit(f"{self.name(col)} = "), self.value(col))


_TEXT_COLUMNS = {"game_id", "home_team_abbr", "away_team_abbr", "team_abbr", "shot_type", "basic_zone",
                 "comment", "first_name", "family_name", "position"}


#: One row per (rule, offending row) of a file: what :func:`phase3_violations` returns. ``file``,
#: ``line`` (1-based, header = 1), ``rule``, ``value`` (the offending value(s) as written in the file),
#: and what places the row in time, as far as the row says: ``game_id``, ``game_date``,
#: ``season_year`` (NULL when the rule or the row does not say; ``season_year`` alone for a rule about a
#: whole season).
VIOLATIONS_SCHEMA = {"file": pl.String, "line": pl.Int64, "rule": pl.String, "value": pl.String,
                     "game_id": pl.String, "game_date": pl.Date, "season_year": pl.Int64}


class _Report:
    """Collects the broken rules of one frame; :meth:`raise_if_any` raises them as one error,
    :meth:`violations` lists every offending row."""

    def __init__(self, source: _Source):
        self.source = source
        self.items: list[str] = []
        self.rows: list[pl.DataFrame] = []

    def check(self, rule: str, bad: pl.DataFrame, example: pl.Expr, unit: str = "row",
              line_prefix: bool = True, whole_season: bool = False) -> None:
        """Record ``rule`` as broken when ``bad`` (the offending rows, with ``source_line``) is not
        empty. ``example`` renders one offending row; ``line_prefix`` puts "line <L>: " before it.
        ``whole_season``: the rule is about the row's season, not the row's game (its violations
        carry ``season_year`` only)."""
        if bad.height == 0:
            return
        keep = ("season_year",) if whole_season else ("game_id", "game_date", "season_year")
        self.rows.append(bad.select(
            pl.lit(self.source.file).alias("file"), pl.col(SOURCE_LINE).cast(pl.Int64).alias("line"),
            pl.lit(rule).alias("rule"), example.alias("value"),
            *[pl.col(c) if c in keep and c in bad.columns else pl.lit(None).alias(c)
              for c in ("game_id", "game_date", "season_year")]).cast(VIOLATIONS_SCHEMA))
        shown = bad.sort(SOURCE_LINE).head(3)
        if line_prefix:
            example = pl.concat_str(pl.lit("line "), pl.col(SOURCE_LINE).cast(pl.String), pl.lit(": "), example)
        texts = shown.select(example.alias("__example")).get_column("__example").to_list()
        more = f" ({len(texts)} of {bad.height} shown)" if bad.height > len(texts) else ""
        self.items.append(
            f"{self.source.file}: {bad.height} {unit}(s) break the rule '{rule}': " + "; ".join(texts) + more
        )

    def raise_if_any(self) -> None:
        """Raises:
            RawDataError: one line per broken rule."""
        if self.items:
            raise RawDataError("\n".join(self.items))

    def violations(self) -> pl.DataFrame:
        """Every offending row of every broken rule (:data:`VIOLATIONS_SCHEMA`), by line."""
        if not self.rows:
            return pl.DataFrame(schema=VIOLATIONS_SCHEMA)
        return pl.concat(self.rows).sort("line", "rule", maintain_order=True)


def _with_lines(df: pl.DataFrame) -> pl.DataFrame:
    if SOURCE_LINE in df.columns:
        return df
    return df.with_row_index(SOURCE_LINE, offset=2).with_columns(pl.col(SOURCE_LINE).cast(pl.Int64))


def _join_text(parts: Iterable[pl.Expr]) -> pl.Expr:
    return pl.concat_str(list(parts), separator=", ", ignore_nulls=True)


def _check_required(rep: _Report, df: pl.DataFrame, columns: list[str]) -> None:
    """Rule: the values the Phase 3 tables are built from are present (not empty)."""
    bad = df.filter(pl.any_horizontal([pl.col(c).is_null() for c in columns]))
    rep.check("required value present", bad,
              _join_text(pl.when(pl.col(c).is_null()).then(pl.lit(f"{rep.source.name(c)} is empty"))
                         for c in columns))


def _check_unique(rep: _Report, df: pl.DataFrame, key: list[str], rule: str) -> None:
    """Rule: one row per ``key``; every row of a duplicated key is reported."""
    bad = df.filter(pl.all_horizontal([pl.col(c).is_not_null() for c in key]) & pl.struct(key).is_duplicated())
    lines = pl.col(SOURCE_LINE).sort().cast(pl.String).str.join(", ").over(key)
    rep.check(rule, bad, pl.concat_str(_join_text(rep.source.show(c) for c in key),
                                       pl.lit(" (on lines "), lines, pl.lit(")")))


def _check_non_negative(rep: _Report, df: pl.DataFrame, columns: list[str]) -> None:
    """Rule: counts (makes, attempts, rebounds, assists, ..., points) are >= 0."""
    bad = df.filter(pl.any_horizontal([pl.col(c) < 0 for c in columns]))
    rep.check("counts are non-negative", bad,
              _join_text(pl.when(pl.col(c) < 0).then(rep.source.show(c)) for c in columns))


def _check_made_attempted(rep: _Report, df: pl.DataFrame, pairs: Iterable[tuple[str, str]]) -> None:
    """Rules: made <= attempted (FG, 3P, FT), 3PM <= FGM and 3PA <= FGA, one rule per pair."""
    src = rep.source
    for small, big in pairs:
        bad = df.filter(pl.col(small) > pl.col(big))
        rep.check(f"{src.name(small)} <= {src.name(big)}", bad,
                  pl.concat_str(src.show(small), pl.lit(" > "), src.show(big)))


def _check_points(rep: _Report, df: pl.DataFrame, points: str, fgm: str, tpm: str, ftm: str) -> None:
    """Rule: points = 2 x FGM + 3PM + FTM (every made field goal is worth 2, a three one more)."""
    src = rep.source
    expected = 2 * pl.col(fgm) + pl.col(tpm) + pl.col(ftm)
    bad = df.filter(pl.col(points) != expected)
    rep.check(f"{src.name(points)} = 2*{src.name(fgm)} + {src.name(tpm)} + {src.name(ftm)}", bad,
              pl.concat_str(src.show(points), pl.lit(f" (2*{src.name(fgm)} + {src.name(tpm)} + "
                                                     f"{src.name(ftm)} = "), expected.cast(pl.String),
                            pl.lit(")")))


def _franchise_frame(seasons: Iterable[int]) -> pl.DataFrame:
    rows = [(s, code, team_id) for s in sorted(set(seasons)) for code, team_id in franchises(s).items()]
    return pl.DataFrame(rows, schema={"season_year": pl.Int64, "fr_tricode": pl.String, "fr_team_id": pl.Int64},
                        orient="row")


def _seasons(df: pl.DataFrame) -> list[int]:
    return [s for s in df.get_column("season_year").unique().to_list() if s is not None]


def _attach_franchise(df: pl.DataFrame, id_col: str, code_col: str | None) -> pl.DataFrame:
    """Add ``code_team_id`` (the franchise id of the tricode in ``code_col``) and ``id_tricode`` (the
    franchise tricode of the team id in ``id_col``) for the row's ``season_year``; NULL when unknown."""
    fr = _franchise_frame(_seasons(df))
    out = df.join(fr.select("season_year", pl.col("fr_team_id").alias(id_col),
                            pl.col("fr_tricode").alias("id_tricode")),
                  on=["season_year", id_col], how="left", coalesce=True)
    if code_col is not None:
        out = out.join(fr.select("season_year", pl.col("fr_tricode").alias(code_col),
                                 pl.col("fr_team_id").alias("code_team_id")),
                       on=["season_year", code_col], how="left", coalesce=True)
    return out


def _check_franchise(rep: _Report, df: pl.DataFrame, id_col: str, code_col: str | None,
                     applies: pl.Expr | None = None) -> None:
    """Rules: the tricode is an NBA franchise of the row's season; the team id and the tricode name the
    same franchise (so "BOS" with the Lakers' id is caught). Without a tricode column: the team id is
    a franchise id of the season. ``df`` needs ``season_year``; ``applies`` limits the rows checked."""
    src = rep.source
    rows = _attach_franchise(df, id_col, code_col)
    if applies is not None:
        rows = rows.filter(applies)
    season = _season_label(pl.col("season_year"))
    if code_col is None:
        bad = rows.filter(pl.col(id_col).is_not_null() & pl.col("id_tricode").is_null())
        rep.check("team id is an NBA franchise of the season", bad,
                  pl.concat_str(src.show(id_col), pl.lit(" (not an NBA franchise id in "), season, pl.lit(")")))
        return
    bad = rows.filter(pl.col("code_team_id").is_null())
    rep.check("team tricode is an NBA franchise of the season", bad,
              pl.concat_str(src.show(code_col), pl.lit(" (not an NBA franchise tricode in "), season, pl.lit(")")))
    mismatch = (
        (pl.col("code_team_id").is_not_null() & (pl.col("code_team_id") != pl.col(id_col)))
        | (pl.col("id_tricode").is_not_null() & (pl.col("id_tricode") != pl.col(code_col)).fill_null(True))
        | (pl.col("id_tricode").is_null() & pl.col("code_team_id").is_null())
    )
    why = (pl.when(pl.col("id_tricode").is_not_null())
           .then(pl.concat_str(pl.lit(f"{src.name(id_col)} "), pl.col(id_col).cast(pl.String), pl.lit(" is "),
                               pl.col("id_tricode"), pl.lit(" in "), season))
           .when(pl.col("code_team_id").is_not_null())
           .then(pl.concat_str(pl.col(code_col), pl.lit(f" is {src.name(id_col)} "),
                               pl.col("code_team_id").cast(pl.String), pl.lit(" in "), season))
           .otherwise(pl.concat_str(pl.lit(f"{src.name(id_col)} "), pl.col(id_col).cast(pl.String).fill_null("empty"),
                                    pl.lit(" is not an NBA franchise id in "), season)))
    rep.check("team id and tricode name the same franchise", rows.filter(mismatch),
              pl.concat_str(src.show(id_col), pl.lit(", "), src.show(code_col), pl.lit(" ("), why, pl.lit(")")))


# ----------------------------------------------------------------------------------------------------
# Schedule


def _schedule_source(source: str | Path | None) -> _Source:
    return _Source(str(source or SCHEDULE_FILE),
                   names={"game_id": "game_id_nba", "season_year": "season", "home_team_abbr": "home_team_tricode",
                          "away_team_abbr": "away_team_tricode"},
                   renderers={"game_date": _date_as("%Y-%m-%d")})


def validate_schedule(schedule: pl.DataFrame, source: str | Path | None = None) -> None:
    """Check the schedule (``readers.read_schedule``: every game type) against the domain.

    Rules (``source`` names the file in messages, default ``schedule.csv.gz``):

    * required value present: ``season``, ``game_date``, ``game_id_nba``, both team ids;
    * one row per game id;
    * game id matches the season: digits 4-5 of the id are the season's start year (``00222...`` is
      2022-23) and the game-type digit is 1-6;
    * date inside the season: regular-season games of season Y between Sep 1 of Y and Aug 31 of Y + 1,
      other game types up to Oct 31 of Y + 1;
    * the regular season spans fewer than :data:`MAX_REGULAR_SEASON_DAYS` days (first to last game);
    * for regular-season, play-in, playoff and in-season-final games: each tricode is an NBA franchise
      of the season (:func:`franchises`) and each team id is that franchise's id; future playoff games
      may name no team yet (:data:`SCHEDULE_PLACEHOLDER_TEAM_ID`, no tricode); pre-season and All-Star
      games (:data:`UNCHECKED_SCHEDULE_GAME_TYPES`) are not checked;
    * home and away teams differ;
    * a team plays at most one regular-season game per date.

    Raises:
        RawDataError: a rule is broken; the message names file, line, column and value.
    """
    _schedule_report(schedule, source).raise_if_any()


def _schedule_report(schedule: pl.DataFrame, source: str | Path | None = None) -> _Report:
    src = _schedule_source(source)
    rep = _Report(src)
    df = _with_lines(schedule)
    _check_required(rep, df, ["season_year", "game_date", "game_id", "home_team_id", "away_team_id"])
    df = df.drop_nulls(["season_year", "game_date", "game_id", "home_team_id", "away_team_id"])
    _check_unique(rep, df, ["game_id"], "one row per game")

    game_type = pl.col("game_id").str.slice(2, 1)
    id_season = pl.col("game_id").str.slice(3, 2).cast(pl.Int64, strict=False)
    bad = df.filter(~game_type.is_in(GAME_TYPES) | (id_season != pl.col("season_year") % 100).fill_null(True))
    rep.check("game id matches the season", bad,
              pl.concat_str(src.show("game_id"), pl.lit(", "), src.show("season_year")))

    year = pl.col("season_year")
    first = pl.date(year, *SEASON_FIRST_MONTH_DAY)
    last = (pl.when(game_type == REGULAR_SEASON_TYPE).then(pl.date(year + 1, *REGULAR_SEASON_LAST_MONTH_DAY))
            .otherwise(pl.date(year + 1, *POSTSEASON_LAST_MONTH_DAY)))
    bad = df.filter(~pl.col("game_date").is_between(first, last))
    rep.check("date inside the season", bad,
              pl.concat_str(src.show("game_date"), pl.lit(" (game "), pl.col("game_id"), pl.lit(" of "),
                            _season_label(year), pl.lit(" must be dated "), first.dt.strftime("%Y-%m-%d"),
                            pl.lit(".."), last.dt.strftime("%Y-%m-%d"), pl.lit(")")))

    regular = df.filter(game_type == REGULAR_SEASON_TYPE)
    span = regular.group_by("season_year").agg(pl.col("game_date").min().alias("first_date"),
                                               pl.col("game_date").max().alias("last_date"))
    long_seasons = span.filter((pl.col("last_date") - pl.col("first_date")).dt.total_days()
                               >= MAX_REGULAR_SEASON_DAYS)
    bad = regular.join(long_seasons, on="season_year").filter(
        (pl.col("game_date") == pl.col("first_date")) | (pl.col("game_date") == pl.col("last_date")))
    rep.check(f"regular season spans fewer than {MAX_REGULAR_SEASON_DAYS} days", bad,
              pl.concat_str(src.show("game_date"), pl.lit(" (the "), _season_label(year),
                            pl.lit(" regular season would run "), pl.col("first_date").dt.strftime("%Y-%m-%d"),
                            pl.lit(".."), pl.col("last_date").dt.strftime("%Y-%m-%d"), pl.lit(")")),
              whole_season=True)

    checked = df.filter(~game_type.is_in(UNCHECKED_SCHEDULE_GAME_TYPES)).with_columns(game_type.alias("game_type"))
    for side in ("home", "away"):
        id_col, code_col = f"{side}_team_id", f"{side}_team_abbr"
        placeholder = ((pl.col(id_col) == SCHEDULE_PLACEHOLDER_TEAM_ID) & pl.col(code_col).is_null()
                       & (pl.col("game_type") != REGULAR_SEASON_TYPE))
        _check_franchise(rep, checked, id_col, code_col, applies=~placeholder)
    bad = checked.filter((pl.col("home_team_id") == pl.col("away_team_id"))
                         & (pl.col("home_team_id") != SCHEDULE_PLACEHOLDER_TEAM_ID))
    rep.check("home and away teams differ", bad,
              pl.concat_str(src.show("home_team_id"), pl.lit(", "), src.show("away_team_id")))

    sides = pl.concat([
        regular.select(SOURCE_LINE, "game_date", pl.col("home_team_id").alias("team_id"),
                       pl.col("home_team_abbr").alias("team"), pl.lit("home_team_tricode").alias("column")),
        regular.select(SOURCE_LINE, "game_date", pl.col("away_team_id").alias("team_id"),
                       pl.col("away_team_abbr").alias("team"), pl.lit("away_team_tricode").alias("column")),
    ])
    bad = sides.filter(pl.len().over("game_date", "team_id") > 1)
    rep.check("a team plays at most one regular-season game per date", bad,
              pl.concat_str(pl.col("column"), pl.lit(" = "), _quoted(pl.col("team")).fill_null("empty"),
                            pl.lit(" ("), pl.len().over("game_date", "team_id").cast(pl.String),
                            pl.lit(" regular-season games on "), pl.col("game_date").dt.strftime("%Y-%m-%d"),
                            pl.lit(")")))
    return rep


def _regular_calendar(schedule: pl.DataFrame) -> pl.DataFrame:
    """Per game: date, season, both teams, and the season's regular-season window (first, last date)."""
    regular = schedule.filter(is_regular_season(pl.col("game_id")))
    window = regular.group_by("season_year").agg(pl.col("game_date").min().alias("season_first"),
                                                 pl.col("game_date").max().alias("season_last"))
    return regular.select(
        "game_id", pl.col("game_date").alias("scheduled_date"), pl.col("season_year").alias("scheduled_season"),
        "home_team_id", "away_team_id", "home_team_abbr", "away_team_abbr",
    ).join(window.rename({"season_year": "scheduled_season"}), on="scheduled_season", how="left")


def _matchup(e_home: str = "home_team_abbr", e_away: str = "away_team_abbr") -> pl.Expr:
    """"PHI at BOS (1610612755 at 1610612738)"."""
    return pl.concat_str(pl.col(e_away).fill_null("?"), pl.lit(" at "), pl.col(e_home).fill_null("?"),
                         pl.lit(" ("), pl.col("away_team_id").cast(pl.String), pl.lit(" at "),
                         pl.col("home_team_id").cast(pl.String), pl.lit(")"))


def _check_game_and_team(rep: _Report, df: pl.DataFrame, cal: pl.DataFrame, code_col: str | None) -> pl.DataFrame:
    """Rules: the game is in the schedule; the row's team is one of the schedule's two teams of the game
    (team id, and the tricode when the file has one). Returns ``df`` joined with the schedule."""
    src = rep.source
    joined = df.join(cal, on="game_id", how="left")
    rep.check("game is in the schedule", joined.filter(pl.col("scheduled_date").is_null()),
              pl.concat_str(src.show("game_id"), pl.lit(" (no such game in the schedule)")))
    home = pl.col("team_id") == pl.col("home_team_id")
    away = pl.col("team_id") == pl.col("away_team_id")
    if code_col is not None:
        home = home & (pl.col(code_col) == pl.col("home_team_abbr"))
        away = away & (pl.col(code_col) == pl.col("away_team_abbr"))
    bad = joined.filter(pl.col("scheduled_date").is_not_null() & ~(home | away).fill_null(False))
    shown = src.show("team_id") if code_col is None else pl.concat_str(src.show("team_id"), pl.lit(", "),
                                                                        src.show(code_col))
    rep.check("team is one of the schedule's two teams of the game", bad,
              pl.concat_str(shown, pl.lit(" (the schedule has game "), pl.col("game_id"), pl.lit(" as "),
                            _matchup(), pl.lit(")")))
    return joined


# ----------------------------------------------------------------------------------------------------
# Team game logs


def _team_log_source(source: str | Path | None) -> _Source:
    names = {internal: col for col, internal in _TEAM_LOG_COUNTS.items()}
    return _Source(str(source or TEAM_GAME_LOG_FILE), names=names,
                   renderers={"game_date": _date_as("%b %d, %Y", upper=True)})


def validate_team_game_logs(team_logs: pl.DataFrame, schedule: pl.DataFrame,
                            source: str | Path | None = None) -> None:
    """Check the team box scores (``readers.read_team_game_logs``, regular season) against the domain
    and the (already validated) schedule.

    Rules (``source`` names the file in messages, default ``team_game_logs.csv.gz``):

    * required value present (every column read);
    * one row per team and game;
    * the team id is an NBA franchise of the season (season from the game id);
    * the game is in the schedule and the team is one of its two teams;
    * counts are non-negative; fgm <= fga, fg3m <= fg3a, ftm <= fta, fg3m <= fgm, fg3a <= fga;
    * pts = 2 x fgm + fg3m + ftm;
    * team minutes ``min`` = 240 + 25 x k for k = 0 .. :data:`MAX_OVERTIMES` overtimes (five players x
      (48 + 5 k) minutes), and both teams of a game have the same ``min``;
    * ``game_date`` inside the season's regular season (the schedule's first .. last regular-season
      date) and not before the scheduled date. Tolerated quirk: a postponed game is logged on the day
      it was played, later than the schedule's date (real: game 0022500644, scheduled 2026-01-24,
      logged JAN 25, 2026). The Phase 3 tables take dates from the schedule only.

    Raises:
        RawDataError: a rule is broken; the message names file, line, column and value.
    """
    _team_log_report(team_logs, schedule, source).raise_if_any()


def _team_log_report(team_logs: pl.DataFrame, schedule: pl.DataFrame,
                            source: str | Path | None = None) -> _Report:
    src = _team_log_source(source)
    rep = _Report(src)
    df = _with_lines(team_logs)
    _check_required(rep, df, ["game_id", "team_id", "game_date", *_LOG_COUNT_COLUMNS, "team_minutes"])
    df = df.drop_nulls(["game_id", "team_id"])
    _check_unique(rep, df, ["game_id", "team_id"], "one row per team and game")
    df = df.with_columns(_season_of_game_id(pl.col("game_id")))
    _check_franchise(rep, df, "team_id", None)
    joined = _check_game_and_team(rep, df, _regular_calendar(schedule), None)

    _check_non_negative(rep, df, _LOG_COUNT_COLUMNS)
    _check_made_attempted(rep, df, _LOG_MADE_ATTEMPTED)
    _check_points(rep, df, "points", "fg_makes", "three_pt_makes", "ft_makes")

    regulation = 5 * REGULATION_MINUTES
    per_overtime = 5 * OVERTIME_MINUTES
    extra = pl.col("team_minutes") - regulation
    bad = df.filter((extra < 0) | (extra % per_overtime != 0) | (extra > per_overtime * MAX_OVERTIMES))
    rep.check(f"team minutes = {regulation} + {per_overtime} x overtimes (0..{MAX_OVERTIMES})", bad,
              src.show("team_minutes"))
    other = pl.col("team_minutes").max().over("game_id")
    bad = df.filter(pl.col("team_minutes").min().over("game_id") != other)
    rep.check("both teams of a game have the same team minutes", bad,
              pl.concat_str(src.show("team_minutes"), pl.lit(" (game "), pl.col("game_id"), pl.lit(": "),
                            pl.col("team_minutes").min().over("game_id").cast(pl.String), pl.lit(" vs "),
                            other.cast(pl.String), pl.lit(")")))

    scheduled = joined.filter(pl.col("scheduled_date").is_not_null() & pl.col("game_date").is_not_null())
    bad = scheduled.filter(~pl.col("game_date").is_between(pl.col("season_first"), pl.col("season_last")))
    rep.check("date inside the season's regular season", bad,
              pl.concat_str(src.show("game_date"), pl.lit(" (the "), _season_label(pl.col("scheduled_season")),
                            pl.lit(" regular season runs "), pl.col("season_first").dt.strftime("%Y-%m-%d"),
                            pl.lit(".."), pl.col("season_last").dt.strftime("%Y-%m-%d"), pl.lit(")")))
    bad = scheduled.filter(pl.col("game_date") < pl.col("scheduled_date"))
    rep.check("date not before the scheduled date", bad,
              pl.concat_str(src.show("game_date"), pl.lit(" (game "), pl.col("game_id"),
                            pl.lit(" is scheduled on "), pl.col("scheduled_date").dt.strftime("%Y-%m-%d"),
                            pl.lit(")")))
    return rep


# ----------------------------------------------------------------------------------------------------
# Player box scores


def _box_source(source: str | Path | None) -> _Source:
    names = {internal: col for col, internal in _BOX_COUNTS.items()}
    names.update({"team_abbr": "team_tricode", "player_id": "person_id", "minutes_played": "minutes",
                  "plus_minus": "plus_minus_points"})
    return _Source(str(source or PLAYER_BOXSCORE_FILE), names=names,
                   renderers={"minutes_played": _minutes_mmss})


def validate_player_boxscores(boxscores: pl.DataFrame, schedule: pl.DataFrame,
                              team_logs: pl.DataFrame | None = None, source: str | Path | None = None,
                              team_log_source: str | Path | None = None) -> None:
    """Check the player box scores (``readers.read_player_boxscores``, regular season, DNP rows
    included) against the domain, the (validated) schedule and, when given, the (validated) team logs.

    Rules (``source`` names the file in messages, default ``player_game_logs1.csv.gz``):

    * required value present: ``game_id``, ``team_id``, ``team_tricode``, ``person_id`` and every count
      (DNP rows carry zeros; only ``minutes`` may be empty);
    * one row per player and game;
    * ``team_tricode`` is an NBA franchise of the season and ``team_id`` is that franchise's id;
    * the game is in the schedule and (team id, tricode) is one of the schedule's two teams of the game;
    * counts are non-negative and minutes lie in [0, :data:`MAX_PLAYER_MINUTES`] (decimal minutes);
    * made <= attempted for FG, 3P, FT; 3PM <= FGM; 3PA <= FGA;
    * rebounds_total = rebounds_offensive + rebounds_defensive (holds on every real row);
    * points = 2 x FGM + 3PM + FTM (holds on every real row);
    * a row without minutes (DNP, ``minutes`` empty) has all counts 0. Not required of "0:00" rows:
      one real row (line 94790, game 0022400942) has 0:00 and a defensive rebound;

    and with ``team_logs`` (``team_log_source`` names that file):

    * minutes <= the game's length, i.e. the team log's ``min`` / 5 (48 + 5 per overtime);
    * each team-game of the box score has a team log row and vice versa, the team's player rows add up
      to its team log (FGM, FGA, 3PM, 3PA, FTM, FTA, OREB, DREB, AST, TOV, PTS exactly; minutes within
      :data:`TEAM_MINUTES_TOLERANCE`).

    Raises:
        RawDataError: a rule is broken; the message names file, line, column and value.
    """
    _box_report(boxscores, schedule, team_logs, source, team_log_source).raise_if_any()


def _box_report(boxscores: pl.DataFrame, schedule: pl.DataFrame,
                              team_logs: pl.DataFrame | None = None, source: str | Path | None = None,
                              team_log_source: str | Path | None = None) -> _Report:
    src = _box_source(source)
    rep = _Report(src)
    df = _with_lines(boxscores)
    _check_required(rep, df, ["game_id", "team_id", "team_abbr", "player_id", *_BOX_COUNT_COLUMNS])
    df = df.drop_nulls(["game_id", "team_id", "player_id"])
    _check_unique(rep, df, ["game_id", "player_id"], "one row per player and game")
    df = df.with_columns(_season_of_game_id(pl.col("game_id")))
    _check_franchise(rep, df, "team_id", "team_abbr")
    _check_game_and_team(rep, df, _regular_calendar(schedule), "team_abbr")

    _check_non_negative(rep, df, _BOX_COUNT_COLUMNS)
    minutes = pl.col("minutes_played")
    bad = df.filter((minutes < 0) | (minutes > MAX_PLAYER_MINUTES))
    rep.check(f"minutes within [0, {MAX_PLAYER_MINUTES}]", bad, src.show("minutes_played"))
    _check_made_attempted(rep, df, _BOX_MADE_ATTEMPTED)
    bad = df.filter(pl.col("rebounds") != pl.col("offensive_rebounds") + pl.col("defensive_rebounds"))
    rep.check("rebounds_total = rebounds_offensive + rebounds_defensive", bad,
              pl.concat_str(src.show("rebounds"), pl.lit(" (rebounds_offensive + rebounds_defensive = "),
                            (pl.col("offensive_rebounds") + pl.col("defensive_rebounds")).cast(pl.String),
                            pl.lit(")")))
    _check_points(rep, df, "points", "fg_makes", "box_three_pt_makes", "ft_makes")
    bad = df.filter(minutes.is_null() & pl.any_horizontal([pl.col(c) != 0 for c in _BOX_COUNT_COLUMNS]))
    rep.check("a row without minutes (DNP) has zero counts", bad,
              pl.concat_str(src.show("minutes_played"), pl.lit(", "),
                            _join_text(pl.when(pl.col(c) != 0).then(src.show(c)) for c in _BOX_COUNT_COLUMNS)))

    if team_logs is not None:
        _check_against_team_logs(rep, df, _with_lines(team_logs), str(team_log_source or TEAM_GAME_LOG_FILE))
    return rep


def _check_against_team_logs(rep: _Report, box: pl.DataFrame, logs: pl.DataFrame, log_file: str) -> None:
    src = rep.source
    log_name = Path(log_file).name
    game_minutes = pl.col("team_minutes") / 5
    with_len = box.join(logs.select("game_id", "team_id", "team_minutes"), on=["game_id", "team_id"], how="inner")
    bad = with_len.filter(pl.col("minutes_played") > game_minutes + 1e-9)
    rep.check("minutes <= the game's length (team min / 5)", bad,
              pl.concat_str(src.show("minutes_played"), pl.lit(" (the game lasted "),
                            game_minutes.cast(pl.Int64).cast(pl.String),
                            pl.lit(f" minutes: {log_name} min = "), pl.col("team_minutes").cast(pl.String),
                            pl.lit(")")))

    sums = box.group_by("game_id", "team_id").agg(
        pl.col(SOURCE_LINE).min().alias("first_line"), pl.col(SOURCE_LINE).max().alias("last_line"),
        pl.col("team_abbr").first().alias("team"),
        pl.col("minutes_played").sum().alias("sum_minutes"),
        *[pl.col(b).sum().alias(f"sum_{t}") for t, b in _TEAM_TOTALS.items()],
    )
    log_cols = logs.select("game_id", "team_id", pl.col(SOURCE_LINE).alias("log_line"), "team_minutes",
                           *_TEAM_TOTALS)
    both = sums.join(log_cols, on=["game_id", "team_id"], how="full", coalesce=True)
    lines = pl.concat_str(pl.lit("lines "), pl.col("first_line").cast(pl.String), pl.lit("-"),
                          pl.col("last_line").cast(pl.String))
    team_game = pl.concat_str(pl.lit(" (game "), pl.col("game_id"), pl.lit(", team_id "),
                              pl.col("team_id").cast(pl.String), pl.lit(")"))
    no_log = both.filter(pl.col("log_line").is_null()).with_columns(pl.col("first_line").alias(SOURCE_LINE))
    no_box = both.filter(pl.col("first_line").is_null()).with_columns(pl.col("log_line").alias(SOURCE_LINE))
    missing = pl.concat([
        no_log.select(SOURCE_LINE, pl.concat_str(lines, team_game, pl.lit(f": no row in {log_name}"))
                      .alias("text")),
        no_box.select(SOURCE_LINE, pl.concat_str(pl.lit(f"{log_name} line "), pl.col("log_line").cast(pl.String),
                                                 team_game, pl.lit(": no player rows in this file")).alias("text")),
    ])
    rep.check("every team-game has player rows and a team log row", missing, pl.col("text"),
              unit="team-game", line_prefix=False)

    matched = both.filter(pl.col("log_line").is_not_null() & pl.col("first_line").is_not_null())
    count_diff = [
        pl.when(pl.col(f"sum_{t}") != pl.col(t)).then(pl.concat_str(
            pl.lit(f"sum of {src.name(b)} = "), pl.col(f"sum_{t}").cast(pl.String),
            pl.lit(f" but {_TEAM_LOG_NAMES[t]} = "), pl.col(t).cast(pl.String)))
        for t, b in _TEAM_TOTALS.items()
    ]
    minutes_off = (pl.col("sum_minutes") - pl.col("team_minutes")).abs() > TEAM_MINUTES_TOLERANCE
    minutes_diff = pl.when(minutes_off).then(pl.concat_str(
        pl.lit("sum of minutes = "), pl.col("sum_minutes").round(2).cast(pl.String),
        pl.lit(" but min = "), pl.col("team_minutes").cast(pl.String)))
    bad = matched.filter(pl.any_horizontal([pl.col(f"sum_{t}") != pl.col(t) for t in _TEAM_TOTALS]) | minutes_off)
    rep.check("the team's player rows add up to its team log", bad.with_columns(pl.col("first_line").alias(SOURCE_LINE)),
              pl.concat_str(lines, pl.lit(" (game "), pl.col("game_id"), pl.lit(", "), pl.col("team"),
                            pl.lit(f"; {log_name} line "), pl.col("log_line").cast(pl.String), pl.lit("): "),
                            _join_text([*count_diff, minutes_diff])),
              unit="team-game", line_prefix=False)


_TEAM_LOG_NAMES = {internal: col for col, internal in _TEAM_LOG_COUNTS.items()}


# ----------------------------------------------------------------------------------------------------
# Shots


def _shots_source(source: str | Path | None, season_end_year: int) -> _Source:
    names = {c: c.upper() for c in ("game_id", "game_date", "team_id", "player_id", "shot_made", "shot_type",
                                    "basic_zone", "shot_distance")}
    return _Source(str(source or SHOTS_FILE.format(end_year=season_end_year)), names=names,
                   renderers={"game_id": _short_game_id, "game_date": _date_as("%m-%d-%Y"),
                              "shot_made": lambda e: pl.when(e).then(pl.lit("TRUE")).otherwise(pl.lit("FALSE"))})


def validate_shots(shots: pl.DataFrame, season_end_year: int, schedule: pl.DataFrame | None = None,
                   boxscores: pl.DataFrame | None = None, source: str | Path | None = None) -> None:
    """Check one season's shot chart (``readers.read_shots``) against the domain and, when they cover
    the season, the (validated) schedule and box scores.

    Rules (``source`` names the file in messages, default ``NBA_<season_end_year>_Shots.csv.zip``):

    * required value present: GAME_ID, GAME_DATE, TEAM_ID, PLAYER_ID, SHOT_MADE, SHOT_TYPE, and
      BASIC_ZONE or SHOT_DISTANCE (the zone classifier needs one of them);
    * SHOT_TYPE in :data:`SHOT_TYPES`, BASIC_ZONE in :data:`BASIC_ZONES` (SHOT_MADE TRUE/FALSE is
      enforced by the reader). No SHOT_TYPE/BASIC_ZONE consistency rule: the real charts have 2-pt
      shots in "Above the Break 3" (8-17 per season) and 3-pt shots in "Mid-Range" (11-139); the
      classifier trusts SHOT_TYPE for threes (SPEC §3);
    * SHOT_DISTANCE within [0, :data:`MAX_SHOT_DISTANCE_FT`] feet;
    * GAME_ID is a regular-season game of the file's season (``0022200001`` for the 2023 file);
    * TEAM_ID is an NBA franchise of the season;
    * GAME_DATE inside the season: when the schedule has the season, equal to the schedule's date of
      the game (hence inside the regular season), the game is in the schedule and the team is one of
      its two teams; otherwise (2020-21: no schedule) between Sep 1 and Aug 31 and one date per
      game id (except the placeholder id :data:`SHOT_PLACEHOLDER_GAME_SEQUENCE`);
    * when the box scores have the season: the shooter has a box-score row for that game with the same
      team and minutes > 0.

    Raises:
        RawDataError: a rule is broken; the message names file, line, column and value.
    """
    _shots_report(shots, season_end_year, schedule, boxscores, source).raise_if_any()


def _shots_report(shots: pl.DataFrame, season_end_year: int, schedule: pl.DataFrame | None = None,
                   boxscores: pl.DataFrame | None = None, source: str | Path | None = None) -> _Report:
    src = _shots_source(source, season_end_year)
    rep = _Report(src)
    season = season_end_year - 1
    df = _with_lines(shots)
    _check_required(rep, df, ["game_id", "game_date", "team_id", "player_id", "shot_made", "shot_type"])
    bad = df.filter(pl.col("basic_zone").is_null() & pl.col("shot_distance").is_null())
    rep.check("BASIC_ZONE or SHOT_DISTANCE present", bad,
              pl.concat_str(src.show("basic_zone"), pl.lit(", "), src.show("shot_distance")))
    bad = df.filter(pl.col("shot_type").is_not_null() & ~pl.col("shot_type").is_in(SHOT_TYPES))
    rep.check("SHOT_TYPE is a known value", bad, pl.concat_str(src.show("shot_type"), pl.lit(f" (known: {list(SHOT_TYPES)})")))
    bad = df.filter(pl.col("basic_zone").is_not_null() & ~pl.col("basic_zone").is_in(BASIC_ZONES))
    rep.check("BASIC_ZONE is a known value", bad, pl.concat_str(src.show("basic_zone"), pl.lit(f" (known: {list(BASIC_ZONES)})")))
    bad = df.filter(~pl.col("shot_distance").is_between(0.0, MAX_SHOT_DISTANCE_FT))
    rep.check(f"SHOT_DISTANCE within [0, {MAX_SHOT_DISTANCE_FT:g}] ft", bad, src.show("shot_distance"))

    prefix = f"00{REGULAR_SEASON_TYPE}{season % 100:02d}"
    bad = df.filter(pl.col("game_id").is_not_null() & ~pl.col("game_id").str.starts_with(prefix))
    rep.check("GAME_ID is a regular-season game of the file's season", bad,
              pl.concat_str(src.show("game_id"), pl.lit(f" (the {season}-{(season + 1) % 100:02d} regular season's "
                                                        f"ids start with {prefix[2:]})")))
    df = df.with_columns(pl.lit(season, pl.Int64).alias("season_year"))
    _check_franchise(rep, df, "team_id", None)

    covered = schedule is not None and schedule.filter(
        (pl.col("season_year") == season) & pl.col("game_id").str.starts_with(prefix)).height > 0
    if covered:
        joined = _check_game_and_team(rep, df, _regular_calendar(schedule), None)
        bad = joined.filter(pl.col("scheduled_date").is_not_null() & (pl.col("game_date") != pl.col("scheduled_date")))
        rep.check("GAME_DATE is the schedule's date of the game", bad,
                  pl.concat_str(src.show("game_date"), pl.lit(" (game "), pl.col("game_id"),
                                pl.lit(" is scheduled on "), pl.col("scheduled_date").dt.strftime("%m-%d-%Y"),
                                pl.lit(")")))
    else:
        first = dt.date(season, *SEASON_FIRST_MONTH_DAY)
        last = dt.date(season + 1, *REGULAR_SEASON_LAST_MONTH_DAY)
        bad = df.filter(~pl.col("game_date").is_between(first, last))
        rep.check("GAME_DATE inside the season", bad,
                  pl.concat_str(src.show("game_date"), pl.lit(f" (outside {first}..{last})")))
        real_ids = df.filter(pl.col("game_id").is_not_null()
                             & (pl.col("game_id").str.slice(5) != SHOT_PLACEHOLDER_GAME_SEQUENCE))
        dates = pl.col("game_date").n_unique().over("game_id")
        bad = real_ids.filter(dates > 1)
        rep.check("one GAME_DATE per game", bad,
                  pl.concat_str(src.show("game_date"), pl.lit(" (game "), pl.col("game_id"), pl.lit(" has "),
                                dates.cast(pl.String), pl.lit(" dates)")))

    if boxscores is not None and covered:
        box = _with_lines(boxscores).filter(pl.col("game_id").str.starts_with(prefix))
        if box.height:
            played = box.select("game_id", "player_id", pl.col("team_id").alias("box_team_id"),
                                pl.col(SOURCE_LINE).alias("box_line"), "minutes_played")
            joined = df.join(played, on=["game_id", "player_id"], how="left")
            bad = joined.filter(pl.col("box_line").is_null() | (pl.col("box_team_id") != pl.col("team_id"))
                                | ~(pl.col("minutes_played").fill_null(0) > 0))
            why = (pl.when(pl.col("box_line").is_null()).then(pl.lit("no box-score row for this player and game"))
                   .when(pl.col("box_team_id") != pl.col("team_id")).then(pl.concat_str(
                       pl.lit("the box score, line "), pl.col("box_line").cast(pl.String), pl.lit(", has team_id "),
                       pl.col("box_team_id").cast(pl.String)))
                   .otherwise(pl.concat_str(pl.lit("the box score, line "), pl.col("box_line").cast(pl.String),
                                            pl.lit(", has no minutes for this player"))))
            rep.check("the shooter played for the team in the game (box score)", bad,
                      pl.concat_str(src.show("player_id"), pl.lit(", "), src.show("team_id"), pl.lit(", "),
                                    src.show("game_id"), pl.lit(" ("), why, pl.lit(")")))
    return rep


# ----------------------------------------------------------------------------------------------------
# All Phase 3 inputs


@dataclass(frozen=True)
class Phase3Sources:
    """File names used in messages (default: the paths relative to the raw data directory)."""

    schedule: str = SCHEDULE_FILE
    player_boxscores: str = PLAYER_BOXSCORE_FILE
    team_game_logs: str = TEAM_GAME_LOG_FILE
    shots: str = SHOTS_FILE  # with "{end_year}"

    @classmethod
    def under(cls, raw_dir: str | Path) -> Phase3Sources:
        """The full paths of the files under ``raw_dir``."""
        root = Path(raw_dir)
        return cls(str(root / SCHEDULE_FILE), str(root / PLAYER_BOXSCORE_FILE), str(root / TEAM_GAME_LOG_FILE),
                   str(root / SHOTS_FILE))


def validate_phase3_inputs(schedule: pl.DataFrame, boxscores: pl.DataFrame, team_logs: pl.DataFrame,
                           shots: Mapping[int, pl.DataFrame], sources: Phase3Sources | None = None) -> None:
    """Validate every raw input of Phase 3: the schedule, then the team logs (against the schedule),
    the player box scores (against the schedule and team logs), and each season's shots (``shots``:
    season end year -> frame; against the schedule and box scores).

    Raises:
        RawDataError: the first file with a broken rule, every broken rule of that file listed.
    """
    sources = sources or Phase3Sources()
    validate_schedule(schedule, sources.schedule)
    validate_team_game_logs(team_logs, schedule, sources.team_game_logs)
    validate_player_boxscores(boxscores, schedule, team_logs, sources.player_boxscores, sources.team_game_logs)
    for end_year, frame in sorted(shots.items()):
        validate_shots(frame, end_year, schedule, boxscores, sources.shots.format(end_year=end_year))


def phase3_violations(schedule: pl.DataFrame, boxscores: pl.DataFrame, team_logs: pl.DataFrame,
                      shots: Mapping[int, pl.DataFrame], sources: Phase3Sources | None = None) -> pl.DataFrame:
    """Every row of the raw inputs of Phase 3 that breaks a rule, instead of the first error: the rules
    of :func:`validate_phase3_inputs`, every file checked (each against the others as they are).

    Returns one row per (rule, offending row): :data:`VIOLATIONS_SCHEMA`, ordered by file (schedule,
    team logs, box scores, shots) and line; empty when every row passes. What the rows block is the
    quarantine's business (``nba_precompute.raw.quarantine``).
    """
    sources = sources or Phase3Sources()
    reports = [_schedule_report(schedule, sources.schedule),
               _team_log_report(team_logs, schedule, sources.team_game_logs),
               _box_report(boxscores, schedule, team_logs, sources.player_boxscores, sources.team_game_logs)]
    reports += [_shots_report(frame, end_year, schedule, boxscores, sources.shots.format(end_year=end_year))
                for end_year, frame in sorted(shots.items())]
    return pl.concat([r.violations() for r in reports])
