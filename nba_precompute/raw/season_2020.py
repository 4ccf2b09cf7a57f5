"""The 2020-21 regular season from its trimmed source, shaped like the hoopR readers' outputs.

Pure Polars, no Dagster. Files (relative to the raw data directory, see its SOURCES.md):

* ``boxscores/nba-lineup-analyzer/team_game_logs_2020-21.csv``   one row per team per game (NBA.com
  team game log): no GAME_ID, no made/attempted counts, no OREB/DREB/PF, no schedule file.
* ``boxscores/nba-lineup-analyzer/player_game_logs_2020-21.csv`` one row per player who appeared in a
  game: MIN is a whole number, no starters, no DNP rows, no made/attempted counts.
* ``shots/NBA_2021_Shots.csv.zip``                               every field-goal attempt, with GAME_ID
  (leading "00" dropped), HOME_TEAM / AWAY_TEAM tricodes and QUARTER.

Public functions return frames with exactly the columns and dtypes (and column order) of the matching
``readers`` function, plus one list column ``quality_flags`` (``readers.QUALITY_FLAGS``):

=================================  ==========================================================
``read_schedule_2020``             ``readers.read_schedule``
``read_shots_2020``                ``readers.read_shots`` (no flag column)
``read_team_game_logs_2020``       ``readers.read_team_game_logs``
``read_player_boxscores_2020``     ``readers.read_player_boxscores``
``read_season_2020``               the four at once, every file read once
=================================  ==========================================================

Only regular-season rows (``SEASON_TYPE == "Regular Season"``) are ingested; playoff rows are checked
for a known SEASON_TYPE and dropped before their other values are parsed (their game ids are not
derivable: no playoff shot chart).

Derivations (all exact unless flagged; see ``docs/season-2020-21.md`` for the measured counts)
-------------------------------------------------------------------------------------------------
* Home/away: ``MATCHUP`` "LAL vs. LAC" is LAL's row at home, "LAC @ LAL" is LAC's row away at LAL.
* Game id: the shot chart's GAME_ID of the game (matched on date + home + away tricodes), with its
  leading zeros restored. Regular-season ids are ``00220NNNNN`` with NNNNN in 1..(number of games in
  the team logs, 1,080). A shot-chart id outside that range (the source uses ``22000000`` as a
  placeholder for five games) is not an observation. The ids never observed are then paired with the
  games that have none, both in ascending order (games by date, then home tricode); such ids are
  *inferred* and flagged ``inferred:game_id`` (see :func:`assign_game_ids` for the reasoning).
* FGM, FGA, 3PM, 3PA: counts of the shot chart's attempts per team-game / player-game (joined on
  date + TEAM_ID / PLAYER_ID). They are checked against the published FG_PCT / FG3_PCT: NBA.com
  publishes makes/attempts rounded half-up to 3 decimals, so the shot-chart ratio must lie within
  0.0005 of it, and a NULL percentage means 0 attempts. A disagreement is flagged ``mismatch:...``.
* FTM = PTS - 2 x FGM - 3PM (scoring rules: a 2-pt make is 2 points, a 3-pt make 3, a free throw 1).
* FTA from FT_PCT (= FTM / FTA rounded to 3 decimals, NULL for 0 attempts): the integers n >= FTM with
  |FTM / n - FT_PCT| <= 0.0005. Exactly one candidate: FTA = n, exact (not flagged). None or several:
  FTA = round(FTM / FT_PCT), flagged ``estimated:ft_attempts``. FT_PCT = 0 (every free throw missed)
  leaves FTA >= 1 unknown; for a player it is recovered from the team total when the team-game's
  remainder (team FTA - teammates' FTA) is determined: one such player gets the remainder, k such
  players with remainder k get 1 each. Otherwise NULL, flagged ``unknown:ft_attempts``.
* Team minutes = 240 + 25 x overtimes (five players x 48 regulation minutes, 5-minute overtimes), the
  number of periods being the highest QUARTER of the game's shots (5 = one overtime). A game without
  shots: 240 + 25 x round((sum of its players' MIN - 240) / 25), flagged ``estimated:team_minutes``.
* Player minutes: MIN is rounded to the whole minute, so ``minutes_played`` = MIN (the midpoint of
  [MIN - 0.5, MIN + 0.5)), flagged ``rounded:minutes_played``. MIN = 0 is a player who appeared (the
  source has no DNP rows) for under 30 seconds: 0.25 (the midpoint of (0, 0.5)), flagged
  ``estimated:minutes_played``, so that he counts as having played, as he would in the hoopR source.
* NULL, not estimated: ``offensive_rebounds``, ``defensive_rebounds``, ``personal_fouls`` (not in the
  source; REB total is kept), ``position`` (starters unknown; flagged ``unknown:position`` so that the
  Phase 3 builder reports ``is_starter`` as NULL instead of false), ``comment`` (no DNP rows). The
  source lists only players who appeared, so who sat out is not listed: every player row carries
  ``unknown:dnp_rows``. (The Phase 3 upcoming context does not need DNP rows: its universe and
  ``star_teammates_out`` use played games before D only.)

Metrics that Phase 3 derives from these (the choice between NULL and "marked estimated")
---------------------------------------------------------------------------------------
* Possessions (FGA + 0.44 FTA + TOV - ORB), pace, offensive and defensive rating: NULL. ORB is not
  in the source and is about 10 per team-game, so any guess (a league-average share of REB) would
  be an error of several possessions in every row, for a column whose point is precision; NULL is
  honest and the team tables have no column to carry an "estimated" mark.
* Usage rate: computed and marked ``estimated:usage_rate``. Its only approximate input is the rounded
  minutes (player minutes +-0.5, team minutes exact): at most 0.5 / MIN relative error (2 % at 25
  minutes), bounded and small, whereas NULL would remove usage from the whole season.
* True shooting: exact (PTS, FGA from the shots, FTA back-solved exactly), so unmarked; NULL where
  FTA is unknown; marked ``estimated:ts_pct`` where FTA is estimated.

Flag vocabulary (entries of ``quality_flags``, each ``kind:column`` or ``mismatch:<text>``)
------------------------------------------------------------------------------------------
``inferred:game_id``, ``estimated:<column>``, ``rounded:minutes_played``, ``unknown:<column>`` (a NULL
that a builder would otherwise misread) and ``mismatch:<what disagrees>`` (two sources disagree; the
row is kept). Exactly derived values carry no flag. The Phase 3 builders append a player-game's flags
to ``player_game_summary.data_quality_issues`` and mark ``usage_rate`` / ``ts_pct`` estimated when one
of their inputs is (``nba_precompute.transforms.phase3``).

Errors
------
:class:`readers.RawDataError`, naming the file and the 1-based line number in it (line 1 is the
header) and the offending value, for: a missing, truncated or corrupt file; a row with a different
number of fields than the header; a missing required column; an empty required value; a value that
does not parse (date, integer, fraction outside [0, 1], tricode, SHOT_MADE, SHOT_TYPE, SEASON_TYPE,
MATCHUP); a MATCHUP that does not start with the row's own team or names it twice; a team tricode with
two TEAM_IDs; a team with two rows on one date; a game with other than two team rows (one home, one
away); a player row whose team has no game that day or whose MATCHUP differs from its team's; a
player with two rows on one date; a shot of a game that is not in the team logs or of a team that is
not playing in it; a game with two observed GAME_IDs, or a GAME_ID observed for two games.
"""

from __future__ import annotations

import csv
import functools
import io
from pathlib import Path
from typing import NamedTuple

import polars as pl

from nba_precompute.raw.readers import QUALITY_FLAGS, SHOT_TYPES, RawDataError, read_raw_bytes

SEASON_YEAR = 2020
SEASON_END_YEAR = 2021
TEAM_LOG_FILE = "boxscores/nba-lineup-analyzer/team_game_logs_2020-21.csv"
PLAYER_LOG_FILE = "boxscores/nba-lineup-analyzer/player_game_logs_2020-21.csv"
SHOTS_FILE = f"shots/NBA_{SEASON_END_YEAR}_Shots.csv.zip"

REGULAR_SEASON = "Regular Season"
KNOWN_SEASON_TYPES = ("Regular Season", "Playoffs", "PlayIn", "Play In", "Pre Season", "All Star")
# 10-character regular-season ids of 2020-21: "002" (regular season) + "20" (season) + 5-digit sequence
GAME_ID_PREFIX = "00220"

REGULATION_TEAM_MINUTES = 240  # 5 players x 4 quarters x 12 minutes
OVERTIME_TEAM_MINUTES = 25  # 5 players x 5 minutes
ZERO_MINUTES_ESTIMATE = 0.25  # midpoint of (0, 0.5): appeared, MIN rounded to 0
PCT_TOLERANCE = 0.0005 + 1e-9  # half a unit of the 3rd decimal (+ float slack)

FLAG_INFERRED_GAME_ID = "inferred:game_id"
FLAG_ROUNDED_MINUTES = "rounded:minutes_played"
FLAG_ESTIMATED_MINUTES = "estimated:minutes_played"
FLAG_UNKNOWN_POSITION = "unknown:position"
FLAG_UNKNOWN_DNP_ROWS = "unknown:dnp_rows"
FLAG_ESTIMATED_TEAM_MINUTES = "estimated:team_minutes"
FLAG_ESTIMATED_FTA = "estimated:ft_attempts"
FLAG_UNKNOWN_FTA = "unknown:ft_attempts"

_LINE = "__line"
_FLAG_DTYPE = pl.List(pl.String)
_MATCHUP_RE = r"^([A-Z]{2,4}) (vs\.|@) ([A-Z]{2,4})$"

SCHEDULE_COLUMNS = ["game_id", "game_date", "season_year", "home_team_id", "away_team_id",
                    "home_team_abbr", "away_team_abbr"]
SHOTS_COLUMNS = ["shot_type", "basic_zone", "game_id", "game_date", "team_id", "player_id", "shot_made",
                 "shot_distance"]
TEAM_LOG_COLUMNS = ["game_id", "team_id", "game_date", "fg_makes", "fg_attempts", "three_pt_makes",
                    "three_pt_attempts", "ft_makes", "ft_attempts", "offensive_rebounds", "defensive_rebounds",
                    "assists", "turnovers", "points", "team_minutes"]
PLAYER_BOX_COLUMNS = ["team_abbr", "first_name", "family_name", "position", "comment", "game_id", "team_id",
                      "player_id", "minutes_played", "plus_minus", "fg_makes", "fg_attempts",
                      "box_three_pt_makes", "box_three_pt_attempts", "ft_makes", "ft_attempts",
                      "offensive_rebounds", "defensive_rebounds", "rebounds", "assists", "steals", "blocks",
                      "turnovers", "personal_fouls", "points"]


# --------------------------------------------------------------------------------------------- reading

def _file_key(path: Path) -> tuple[str, int, int]:
    if not path.exists():
        raise RawDataError(f"{path}: raw file not found (set NBA_RAW_DATA_DIR to the raw data directory)")
    st = path.stat()  # keyed on the resolved file: a symlinked copy shares the parsed frame
    return str(path.resolve()), st.st_mtime_ns, st.st_size


def _load(path: Path) -> pl.DataFrame:
    """Every column of a CSV (plain or single-CSV zip) as strings ("" -> NULL), plus ``__line``: the
    1-based line of the file where the row starts (the header is line 1). Cached per file version."""
    return _load_cached(_file_key(path))


@functools.lru_cache(maxsize=8)
def _load_cached(key: tuple[str, int, int]) -> pl.DataFrame:
    path = Path(key[0])
    data = read_raw_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RawDataError(f"{path}, line {line}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    text = text.removeprefix("\ufeff")
    df = _split_quoted(path, text) if '"' in text else _split_plain(path, text)
    return df.with_columns(
        [pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c)
         for c in df.columns if c != _LINE]
    )


def _check_header(path: Path, header: list[str]) -> None:
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes or "" in header:
        raise RawDataError(f"{path}, line 1: malformed header (duplicate or empty column names {dupes}): {header}")


def _field_count_error(path: Path, line: int, expected: int, found: int, text: str) -> RawDataError:
    return RawDataError(f"{path}, line {line}: expected {expected} comma-separated fields like the header, "
                        f"found {found} (truncated or malformed row): {text[:160]!r}")


def _split_plain(path: Path, text: str) -> pl.DataFrame:
    """Fast path for files without quoting: one physical line per row."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise RawDataError(f"{path}: empty file (no header)")
    series = pl.Series("raw", lines, dtype=pl.String).str.strip_suffix("\r")
    header = series[0].split(",")
    _check_header(path, header)
    body = series.slice(1)
    counts = body.str.count_matches(",", literal=True) + 1
    bad = (counts != len(header)).arg_true()
    if bad.len():
        i = int(bad[0])
        raise _field_count_error(path, i + 2, len(header), int(counts[i]), body[i])
    if body.len() == 0:
        df = pl.DataFrame(schema=dict.fromkeys(header, pl.String))
    else:
        df = body.str.split_exact(",", len(header) - 1).struct.unnest()
        df.columns = header
    return df.with_row_index(_LINE, offset=2).with_columns(pl.col(_LINE).cast(pl.Int64))


def _split_quoted(path: Path, text: str) -> pl.DataFrame:
    """General path (quoted fields, possibly spanning lines): Python's csv module tracks the lines."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise RawDataError(f"{path}: empty file (no header)") from None
    _check_header(path, header)
    rows: list[list[str]] = []
    starts: list[int] = []
    prev = reader.line_num
    try:
        for row in reader:
            start = prev + 1
            prev = reader.line_num
            if len(row) != len(header):
                raise _field_count_error(path, start, len(header), len(row), ",".join(row))
            rows.append(row)
            starts.append(start)
    except csv.Error as exc:
        raise RawDataError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from exc
    cols = {h: [r[i] for r in rows] for i, h in enumerate(header)}
    return pl.DataFrame({_LINE: starts, **cols},
                        schema={_LINE: pl.Int64, **dict.fromkeys(header, pl.String)})


# --------------------------------------------------------------------------------------------- parsing

def _require_columns(df: pl.DataFrame, path: Path, columns: list[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        have = [c for c in df.columns if c != _LINE]
        raise RawDataError(f"{path}, line 1: missing required column(s) {missing}; the header has {have}")


def _require_values(df: pl.DataFrame, path: Path, columns: list[str]) -> None:
    for col in columns:
        empty = df.filter(pl.col(col).is_null())
        if empty.height:
            raise RawDataError(f"{path}, line {empty[_LINE][0]}: required column {col!r} is empty "
                               f"({empty.height} such row(s) in the file)")


def _parse(df: pl.DataFrame, path: Path, parsers: dict[str, tuple[pl.Expr, str]]) -> pl.DataFrame:
    """Replace each string column by its parsed value; a present value that fails to parse raises,
    naming the line, the column, the value and what was expected."""
    out = df
    for col, (expr, what) in parsers.items():
        parsed = out.with_columns(expr.alias("__parsed"))
        bad = parsed.filter(pl.col(col).is_not_null() & pl.col("__parsed").is_null())
        if bad.height:
            more = f" ({bad.height} bad values in this column; the first is shown)" if bad.height > 1 else ""
            raise RawDataError(f"{path}, line {bad[_LINE][0]}: column {col!r} value {bad[col][0]!r} is not "
                               f"{what}{more}")
        out = parsed.with_columns(pl.col("__parsed").alias(col)).drop("__parsed")
    return out


def _nonneg_int(col: str) -> tuple[pl.Expr, str]:
    s = pl.col(col).str.strip_chars()
    return pl.when(s.str.contains(r"^\d{1,18}$")).then(s.cast(pl.Int64, strict=False)), "a non-negative integer"


def _int(col: str) -> tuple[pl.Expr, str]:
    s = pl.col(col).str.strip_chars()
    return pl.when(s.str.contains(r"^-?\d{1,18}$")).then(s.cast(pl.Int64, strict=False)), "an integer"


def _float(col: str) -> tuple[pl.Expr, str]:
    s = pl.col(col).str.strip_chars()
    ok = s.str.contains(r"^-?(\d+\.?\d*|\.\d+)$")
    return pl.when(ok).then(s.cast(pl.Float64, strict=False)), "a number"


def _fraction(col: str) -> tuple[pl.Expr, str]:
    s = pl.col(col).str.strip_chars()
    v = pl.when(s.str.contains(r"^(\d+\.?\d*|\.\d+)$")).then(s.cast(pl.Float64, strict=False))
    return pl.when((v >= 0.0) & (v <= 1.0)).then(v), "a fraction in [0, 1]"


def _date(col: str, fmt: str) -> tuple[pl.Expr, str]:
    return pl.col(col).str.strip_chars().str.strptime(pl.Date, fmt, strict=False), f"a date ({fmt})"


def _tricode(col: str) -> tuple[pl.Expr, str]:
    s = pl.col(col).str.strip_chars()
    return pl.when(s.str.contains(r"^[A-Z]{2,4}$")).then(s), "a team tricode (2-4 capital letters)"


def _in_set(col: str, values: tuple[str, ...]) -> tuple[pl.Expr, str]:
    return pl.when(pl.col(col).is_in(list(values))).then(pl.col(col)), f"one of {list(values)}"


def _check_season_type(df: pl.DataFrame, path: Path) -> pl.DataFrame:
    """Validate SEASON_TYPE on every row, keep the regular season."""
    _require_values(df, path, ["SEASON_TYPE"])
    df = _parse(df, path, {"SEASON_TYPE": _in_set("SEASON_TYPE", KNOWN_SEASON_TYPES)})
    return df.filter(pl.col("SEASON_TYPE") == REGULAR_SEASON)


def _parse_matchup(df: pl.DataFrame, path: Path) -> pl.DataFrame:
    """MATCHUP -> ``is_home``, ``opp_abbr``, ``home_abbr``, ``away_abbr``; the first tricode must be the
    row's own TEAM_ABBREVIATION and the opponent another team."""
    m = pl.col("MATCHUP").str.strip_chars()
    df = df.with_columns(
        m.str.extract(_MATCHUP_RE, 1).alias("__m_team"),
        m.str.extract(_MATCHUP_RE, 2).alias("__m_sep"),
        m.str.extract(_MATCHUP_RE, 3).alias("__m_opp"),
    )
    bad = df.filter(pl.col("__m_team").is_null())
    if bad.height:
        raise RawDataError(f"{path}, line {bad[_LINE][0]}: column 'MATCHUP' value {bad['MATCHUP'][0]!r} is not "
                           f"'TEAM vs. OPP' (home) or 'TEAM @ OPP' (away)")
    bad = df.filter((pl.col("__m_team") != pl.col("TEAM_ABBREVIATION"))
                    | (pl.col("__m_opp") == pl.col("TEAM_ABBREVIATION")))
    if bad.height:
        raise RawDataError(f"{path}, line {bad[_LINE][0]}: column 'MATCHUP' value {bad['MATCHUP'][0]!r} does not "
                           f"name the row's team {bad['TEAM_ABBREVIATION'][0]!r} first and another team second")
    is_home = pl.col("__m_sep") == "vs."
    return df.with_columns(
        is_home.alias("is_home"),
        pl.col("__m_opp").alias("opp_abbr"),
        pl.when(is_home).then(pl.col("TEAM_ABBREVIATION")).otherwise(pl.col("__m_opp")).alias("home_abbr"),
        pl.when(is_home).then(pl.col("__m_opp")).otherwise(pl.col("TEAM_ABBREVIATION")).alias("away_abbr"),
    ).drop("__m_team", "__m_sep", "__m_opp")


def _lines(df: pl.DataFrame, limit: int = 5) -> str:
    return ", ".join(str(x) for x in sorted(df[_LINE].to_list())[:limit])


# ------------------------------------------------------------------------------------------ team logs

_TEAM_COUNTS = {"PTS": "points", "REB": "rebounds", "AST": "assists", "STL": "steals", "BLK": "blocks",
                "TOV": "turnovers"}
_PCTS = {"FG_PCT": "fg_pct", "FG3_PCT": "fg3_pct", "FT_PCT": "ft_pct"}


def _team_rows(raw_dir: Path) -> pl.DataFrame:
    """Validated regular-season team-log rows: ``__line``, ``team_id``, ``team_abbr``, ``game_date``,
    ``matchup``, ``is_home``, ``opp_abbr``, ``home_abbr``, ``away_abbr``, the counts of ``_TEAM_COUNTS``
    (Int64) and ``fg_pct``, ``fg3_pct``, ``ft_pct`` (0-1, NULL = no attempts). Checked once per file
    version (every reader of the season starts from them)."""
    path = Path(raw_dir) / TEAM_LOG_FILE
    return _team_rows_cached(path, _file_key(path))


@functools.lru_cache(maxsize=4)
def _team_rows_cached(path: Path, key: tuple[str, int, int]) -> pl.DataFrame:
    df = _load_cached(key)  # ``path`` as the caller named it: the messages name the file that way
    required = ["TEAM_ID", "TEAM_ABBREVIATION", "GAME_DATE", "MATCHUP", *_TEAM_COUNTS, "FG_PCT"]
    _require_columns(df, path, [*required, "FG3_PCT", "FT_PCT", "SEASON_TYPE"])
    df = _check_season_type(df, path)
    _require_values(df, path, required)
    df = _parse(df, path, {
        "TEAM_ID": _nonneg_int("TEAM_ID"), "TEAM_ABBREVIATION": _tricode("TEAM_ABBREVIATION"),
        "GAME_DATE": _date("GAME_DATE", "%Y-%m-%d"),
        **{c: _nonneg_int(c) for c in _TEAM_COUNTS}, **{c: _fraction(c) for c in _PCTS},
    })
    df = _parse_matchup(df, path)

    # one TEAM_ID per tricode and one tricode per TEAM_ID
    for key, other in (("TEAM_ABBREVIATION", "TEAM_ID"), ("TEAM_ID", "TEAM_ABBREVIATION")):
        first = df.sort(_LINE).group_by(key).agg(pl.col(other).first().alias("__first"))
        bad = df.join(first, on=key).filter(pl.col(other) != pl.col("__first")).sort(_LINE)
        if bad.height:
            raise RawDataError(f"{path}, line {bad[_LINE][0]}: {key} {bad[key][0]!r} has {other} "
                               f"{bad[other][0]!r} here but {bad['__first'][0]!r} on an earlier line")
    dup = df.filter(pl.len().over("GAME_DATE", "TEAM_ABBREVIATION") > 1).sort(_LINE)
    if dup.height:
        raise RawDataError(f"{path}, lines {_lines(dup.filter(pl.col('TEAM_ABBREVIATION') == dup['TEAM_ABBREVIATION'][0]))}: "
                           f"team {dup['TEAM_ABBREVIATION'][0]!r} has more than one row on {dup['GAME_DATE'][0]}")
    unknown_opp = df.filter(~pl.col("opp_abbr").is_in(df["TEAM_ABBREVIATION"].unique().to_list())).sort(_LINE)
    if unknown_opp.height:
        raise RawDataError(f"{path}, line {unknown_opp[_LINE][0]}: column 'MATCHUP' value "
                           f"{unknown_opp['MATCHUP'][0]!r} names opponent {unknown_opp['opp_abbr'][0]!r}, "
                           f"a team with no row in the file")
    # every game: exactly two team rows, the home team's ("vs.") and the away team's ("@")
    sizes = df.group_by("GAME_DATE", "home_abbr", "away_abbr").agg(
        pl.len().alias("__rows"), pl.col("is_home").sum().alias("__home_rows"), pl.col(_LINE).min().alias("__first"))
    bad = sizes.filter((pl.col("__rows") != 2) | (pl.col("__home_rows") != 1)).sort("__first")
    if bad.height:
        g = bad.row(0, named=True)
        rows = df.filter((pl.col("GAME_DATE") == g["GAME_DATE"]) & (pl.col("home_abbr") == g["home_abbr"])
                         & (pl.col("away_abbr") == g["away_abbr"]))
        partners = df.filter((pl.col("GAME_DATE") == g["GAME_DATE"])
                             & pl.col("TEAM_ABBREVIATION").is_in([g["home_abbr"], g["away_abbr"]])
                             & ~pl.col(_LINE).is_in(rows[_LINE].to_list())).sort(_LINE)
        others = "".join(f"; {r['TEAM_ABBREVIATION']}'s row of that date (line {r[_LINE]}) says {r['MATCHUP']!r}"
                         for r in partners.iter_rows(named=True))
        raise RawDataError(f"{path}, line(s) {_lines(rows)}: the game {g['away_abbr']} @ {g['home_abbr']} on "
                           f"{g['GAME_DATE']} has {g['__rows']} team row(s) (MATCHUP "
                           f"{sorted(rows['MATCHUP'].to_list())}){others}; every game needs one 'vs.' row of the "
                           f"home team and one '@' row of the away team")
    return df.rename({"TEAM_ID": "team_id", "TEAM_ABBREVIATION": "team_abbr", "GAME_DATE": "game_date",
                      "MATCHUP": "matchup", **_TEAM_COUNTS, **_PCTS}).select(
        _LINE, "team_id", "team_abbr", "game_date", "matchup", "is_home", "opp_abbr", "home_abbr", "away_abbr",
        *_TEAM_COUNTS.values(), *_PCTS.values())


def _games(teams: pl.DataFrame) -> pl.DataFrame:
    """One row per game from the validated team rows: date, home/away ids and tricodes."""
    home = teams.filter(pl.col("is_home")).select(
        "game_date", pl.col("team_abbr").alias("home_team_abbr"), pl.col("team_id").alias("home_team_id"),
        pl.col("opp_abbr").alias("away_team_abbr"))
    away = teams.filter(~pl.col("is_home")).select(
        "game_date", pl.col("team_abbr").alias("away_team_abbr"), pl.col("team_id").alias("away_team_id"))
    return home.join(away, on=["game_date", "away_team_abbr"], how="inner")


# ------------------------------------------------------------------------------------------------ shots


@functools.lru_cache(maxsize=4)
def _shot_rows_cached(key: tuple[str, int, int]) -> pl.DataFrame:
    path = Path(key[0])
    df = _load_cached(key)
    required = ["GAME_ID", "GAME_DATE", "TEAM_ID", "PLAYER_ID", "HOME_TEAM", "AWAY_TEAM", "SHOT_MADE",
                "SHOT_TYPE", "SHOT_DISTANCE", "QUARTER"]
    _require_columns(df, path, [*required, "BASIC_ZONE"])
    _require_values(df, path, required)
    made = pl.col("SHOT_MADE").str.strip_chars().str.to_uppercase()
    gid = pl.col("GAME_ID").str.strip_chars()
    df = _parse(df, path, {
        "GAME_ID": (pl.when(gid.str.contains(r"^\d{1,10}$")).then(gid.str.zfill(10)), "a game id (digits)"),
        "GAME_DATE": _date("GAME_DATE", "%m-%d-%Y"),
        "TEAM_ID": _nonneg_int("TEAM_ID"), "PLAYER_ID": _nonneg_int("PLAYER_ID"),
        "HOME_TEAM": _tricode("HOME_TEAM"), "AWAY_TEAM": _tricode("AWAY_TEAM"),
        "SHOT_MADE": (pl.when(made == "TRUE").then(True).when(made == "FALSE").then(False), "TRUE or FALSE"),
        "SHOT_TYPE": _in_set("SHOT_TYPE", SHOT_TYPES),
        "SHOT_DISTANCE": _float("SHOT_DISTANCE"),
        "QUARTER": (pl.when(_nonneg_int("QUARTER")[0] >= 1).then(_nonneg_int("QUARTER")[0]), "a period number >= 1"),
    })
    return df.select(
        _LINE, pl.col("GAME_ID").alias("shot_game_id"), pl.col("GAME_DATE").alias("game_date"),
        pl.col("TEAM_ID").alias("team_id"), pl.col("PLAYER_ID").alias("player_id"),
        pl.col("HOME_TEAM").alias("home_team_abbr"), pl.col("AWAY_TEAM").alias("away_team_abbr"),
        pl.col("SHOT_MADE").alias("shot_made"), pl.col("SHOT_TYPE").alias("shot_type"),
        pl.col("BASIC_ZONE").alias("basic_zone"), pl.col("SHOT_DISTANCE").alias("shot_distance"),
        pl.col("QUARTER").alias("period"),
    )


def _shot_rows(raw_dir: Path, games: pl.DataFrame) -> pl.DataFrame:
    """Parsed shots, each checked to belong to a regular-season game of the team logs (date + home +
    away tricodes) and to one of its two teams; ``home_team_id`` / ``away_team_id`` attached."""
    path = Path(raw_dir) / SHOTS_FILE
    shots = _shot_rows_cached(_file_key(path))
    on = ["game_date", "home_team_abbr", "away_team_abbr"]
    joined = shots.join(games.select(*on, "home_team_id", "away_team_id"), on=on, how="left")
    orphan = joined.filter(pl.col("home_team_id").is_null()).sort(_LINE)
    if orphan.height:
        r = orphan.row(0, named=True)
        raise RawDataError(f"{path}, line {r[_LINE]}: shot of the game {r['away_team_abbr']} @ {r['home_team_abbr']} "
                           f"on {r['game_date']} (GAME_ID {r['shot_game_id']}), which is not a regular-season "
                           f"game of {TEAM_LOG_FILE} ({orphan.height} such shots)")
    stray = joined.filter((pl.col("team_id") != pl.col("home_team_id"))
                          & (pl.col("team_id") != pl.col("away_team_id"))).sort(_LINE)
    if stray.height:
        r = stray.row(0, named=True)
        raise RawDataError(f"{path}, line {r[_LINE]}: column 'TEAM_ID' value {r['team_id']} is neither team of the "
                           f"game {r['away_team_abbr']} @ {r['home_team_abbr']} on {r['game_date']}")
    return joined


def assign_game_ids(games: pl.DataFrame, shot_games: pl.DataFrame, source: str = SHOTS_FILE) -> pl.DataFrame:
    """Give every game its 10-character NBA id.

    Input: ``games`` one row per regular-season game (``game_date``, ``home_team_abbr``,
    ``away_team_abbr``); ``shot_games`` one row per distinct (game, shot-chart GAME_ID) with the same
    three columns, ``game_id`` (10 characters, zeros restored) and ``line`` (a line of the shot file
    holding it). Returns ``games`` plus ``game_id`` (String) and ``game_id_inferred`` (Boolean).

    Observed ids are ``00220NNNNN`` with 1 <= NNNNN <= number of games (2020-21 regular-season ids run
    0022000001..0022001080 for 1,080 games); any other shot-chart id (the source's placeholder
    ``22000000``) is not an observation. Ids never observed are paired with the games that have none,
    each side in ascending order (games by date, then home tricode).

    Why this order, and why the result is still only *inferred*: the NBA numbers a season's games as
    it releases the schedule, by date within a release, so ids are not date-ordered across the season
    (postponed games keep their ids) but are within a block. On the real files the unobserved ids are
    1..5 and the games without one are BKN-GSW and LAL-LAC (22 Dec), BOS-MIL and PHX-DAL (23 Dec) and
    MIA-NOP (25 Dec); ids 6..9 are the other four 25 December games and 10..20 the rest of 23 December,
    so 1..9 is one block of opening-week games and date order gives id 5 to the 25 December game and
    the pairs {1, 2} and {3, 4} to 22 and 23 December. Which game of a date gets the lower id follows
    tip-off time, which these files do not hold: the home-tricode tie-break is a guess (it happens to
    match the published tip-offs, 7 pm ET before 10 pm ET on both dates, but that is outside
    knowledge). So every such id carries ``inferred:game_id``; none is presented as observed.

    Raises :class:`RawDataError` (naming ``source`` and a line) when a game has two observed ids or an
    observed id belongs to two games.
    """
    key = ["game_date", "home_team_abbr", "away_team_abbr"]
    n_games = games.height
    seq = pl.col("game_id").str.slice(5).cast(pl.Int64, strict=False)
    observed = shot_games.filter(pl.col("game_id").str.starts_with(GAME_ID_PREFIX) & (pl.col("game_id").str.len_chars() == 10)
                                 & seq.is_between(1, n_games))
    two_ids = observed.filter(pl.len().over(key) > 1).sort(*key, "line")
    if two_ids.height:
        a, b = two_ids.row(0, named=True), two_ids.row(1, named=True)
        raise RawDataError(f"{source}, lines {a['line']} and {b['line']}: the game {a['away_team_abbr']} @ "
                           f"{a['home_team_abbr']} on {a['game_date']} has two GAME_IDs {a['game_id']!r} and "
                           f"{b['game_id']!r}")
    two_games = observed.filter(pl.len().over("game_id") > 1).sort("game_id", "line")
    if two_games.height:
        a, b = two_games.row(0, named=True), two_games.row(1, named=True)
        raise RawDataError(f"{source}, lines {a['line']} and {b['line']}: GAME_ID {a['game_id']!r} is used by two "
                           f"games, {a['away_team_abbr']} @ {a['home_team_abbr']} on {a['game_date']} and "
                           f"{b['away_team_abbr']} @ {b['home_team_abbr']} on {b['game_date']}")
    out = games.join(observed.select(*key, "game_id"), on=key, how="left")
    seen = set(observed["game_id"].to_list())
    free = [f"{GAME_ID_PREFIX}{n:05d}" for n in range(1, n_games + 1) if f"{GAME_ID_PREFIX}{n:05d}" not in seen]
    missing = out.filter(pl.col("game_id").is_null()).sort("game_date", "home_team_abbr")
    # |free| == |missing| always: every observed id is unique, in 1..n_games and on one game
    inferred = missing.select(*key).with_columns(pl.Series("__inferred_id", free, dtype=pl.String))
    return (out.join(inferred, on=key, how="left")
            .with_columns(pl.col("game_id").is_null().alias("game_id_inferred"),
                          pl.coalesce("game_id", "__inferred_id").alias("game_id"))
            .drop("__inferred_id"))


def _schedule_long(schedule: pl.DataFrame) -> pl.DataFrame:
    """(game_id, game_date, team_id, game flags) per team of each game."""
    flags = (pl.col(QUALITY_FLAGS) if QUALITY_FLAGS in schedule.columns
             else pl.lit([], dtype=_FLAG_DTYPE)).alias("__game_flags")
    return pl.concat([
        schedule.select("game_id", "game_date", pl.col("home_team_id").alias("team_id"), flags),
        schedule.select("game_id", "game_date", pl.col("away_team_id").alias("team_id"), flags),
    ])


def _attach_game_id(rows: pl.DataFrame, schedule: pl.DataFrame, path: Path) -> pl.DataFrame:
    out = rows.join(_schedule_long(schedule), on=["game_date", "team_id"], how="left")
    missing = out.filter(pl.col("game_id").is_null()).sort(_LINE)
    if missing.height:
        raise RawDataError(f"{path}, line {missing[_LINE][0]}: no game of team id {missing['team_id'][0]} on "
                           f"{missing['game_date'][0]} in the schedule passed in")
    return out


# ------------------------------------------------------------------------------------------- public API

def read_schedule_2020(raw_dir: Path) -> pl.DataFrame:
    """2020-21 regular-season schedule derived from the team logs and the shot chart.

    Returns one row per game (1,080 on the real files) with the columns of ``readers.read_schedule``:
    ``game_id`` (String, 10 chars, leading zeros restored), ``game_date`` (Date, US Eastern as the NBA
    dates it), ``season_year`` (Int64, 2020), ``home_team_id``, ``away_team_id`` (Int64),
    ``home_team_abbr``, ``away_team_abbr`` (String), then ``quality_flags`` (List[String]:
    ``["inferred:game_id"]`` for a game whose id the shot chart does not give, see
    :func:`assign_game_ids`; else empty). Sorted by date, game id.

    Raises :class:`readers.RawDataError` (file, line, value) on malformed team logs or shot chart.
    """
    raw_dir = Path(raw_dir)
    games = _games(_team_rows(raw_dir))
    shots = _shot_rows(raw_dir, games)
    shot_games = shots.group_by("game_date", "home_team_abbr", "away_team_abbr", pl.col("shot_game_id").alias("game_id")
                                ).agg(pl.col(_LINE).min().alias("line"))
    sched = assign_game_ids(games, shot_games, str(raw_dir / SHOTS_FILE))
    return sched.with_columns(
        pl.lit(SEASON_YEAR, pl.Int64).alias("season_year"),
        pl.when(pl.col("game_id_inferred")).then(pl.lit([FLAG_INFERRED_GAME_ID], dtype=_FLAG_DTYPE))
        .otherwise(pl.lit([], dtype=_FLAG_DTYPE)).alias(QUALITY_FLAGS),
    ).select(*SCHEDULE_COLUMNS, QUALITY_FLAGS).sort("game_date", "game_id")


def read_shots_2020(raw_dir: Path, schedule: pl.DataFrame | None = None) -> pl.DataFrame:
    """2020-21 shot chart: one row per field-goal attempt (190,983 on the real file), with exactly the
    columns of ``readers.read_shots``: ``shot_type``, ``basic_zone``, ``game_id`` (the schedule's id:
    the placeholder GAME_ID of the five opening-week games is replaced by their inferred id),
    ``game_date`` (Date), ``team_id``, ``player_id`` (Int64), ``shot_made`` (Boolean),
    ``shot_distance`` (Float64, feet).

    ``schedule``: the output of :func:`read_schedule_2020` (computed when omitted).
    Raises :class:`readers.RawDataError` as :func:`read_schedule_2020`.
    """
    raw_dir = Path(raw_dir)
    if schedule is None:
        schedule = read_schedule_2020(raw_dir)
    games = _games(_team_rows(raw_dir))
    shots = _shot_rows(raw_dir, games)
    on = ["game_date", "home_team_abbr", "away_team_abbr"]
    return shots.join(schedule.select(*on, "game_id"), on=on, how="left").sort(_LINE).select(SHOTS_COLUMNS)


def _when(cond: pl.Expr, text: str | pl.Expr) -> pl.Expr:
    value = pl.lit(text) if isinstance(text, str) else text
    return pl.when(cond).then(value).otherwise(pl.lit(None, pl.String))


def solve_ft_attempts(ftm: pl.Expr, ft_pct: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Free-throw attempts from made free throws and the published FT_PCT.

    Inputs: ``ftm`` (Int64, may be NULL), ``ft_pct`` (Float64 on 0-1, NBA.com's FTM/FTA rounded to 3
    decimals; NULL when there were no attempts). Returns ``(fta, status)``: ``fta`` Int64 and
    ``status`` one of

    * ``"exact"``     ft_pct NULL and ftm = 0 (FTA 0), or exactly one integer n >= ftm with
      |ftm / n - ft_pct| <= 0.0005 (FTA n);
    * ``"estimated"`` no such integer or several: FTA = max(ftm, round(ftm / ft_pct));
    * ``"unknown"``   ft_pct = 0 and ftm = 0 (every attempt missed: FTA >= 1, count unknown), or ftm
      NULL: FTA NULL;
    * ``"mismatch"``  ftm < 0, or ft_pct NULL with ftm > 0, or ft_pct > 0 with ftm = 0: FTA NULL.
    """
    f = ftm.cast(pl.Float64)
    lo = (f / (ft_pct + 0.0005) - 1e-9).ceil()
    hi = (f / (ft_pct - 0.0005) + 1e-9).floor()
    lo = pl.max_horizontal(lo, f)
    n_candidates = hi - lo + 1
    estimate = pl.max_horizontal(f, (f / ft_pct).round(0))
    mismatch = ((ftm < 0) | (ft_pct.is_null() & (ftm > 0)) | (ft_pct.is_not_null() & (ft_pct > 0) & (ftm == 0)))
    status = (
        pl.when(ftm.is_null()).then(pl.lit("unknown"))
        .when(mismatch).then(pl.lit("mismatch"))
        .when(ft_pct.is_null()).then(pl.lit("exact"))
        .when(ft_pct == 0).then(pl.lit("unknown"))
        .when(n_candidates == 1).then(pl.lit("exact"))
        .otherwise(pl.lit("estimated"))
    )
    fta = (
        pl.when(ftm.is_null() | mismatch).then(None)
        .when(ft_pct.is_null()).then(pl.lit(0.0))
        .when(ft_pct == 0).then(None)
        .when(n_candidates == 1).then(lo)
        .otherwise(estimate)
    ).cast(pl.Int64)
    return fta, status


def _pct_check(label: str, pct: str, makes: str, attempts: str) -> pl.Expr:
    """``mismatch:`` entry when the shot-chart makes/attempts disagree with the published percentage."""
    ratio = pl.col(makes).cast(pl.Float64) / pl.col(attempts)
    ok = (pl.when(pl.col(attempts) == 0).then(pl.col(pct).is_null())
          .otherwise(pl.col(pct).is_not_null() & ((ratio - pl.col(pct)).abs() <= PCT_TOLERANCE)))
    text = pl.format(f"mismatch:{label} {{}} vs shot chart {{}}/{{}}", pl.col(pct).cast(pl.String).fill_null("NULL"),
                     pl.col(makes), pl.col(attempts))
    return _when(pl.col(attempts).is_not_null() & ~ok, text)


def _shot_counts(shots: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    three = pl.col("shot_type") == "3PT Field Goal"
    return shots.group_by(by).agg(
        pl.len().cast(pl.Int64).alias("__fga"),
        pl.col("shot_made").cast(pl.Int64).sum().alias("__fgm"),
        three.cast(pl.Int64).sum().alias("__fg3a"),
        (three & pl.col("shot_made")).cast(pl.Int64).sum().alias("__fg3m"),
    )


def _derive_shooting(df: pl.DataFrame, fg3_names: tuple[str, str]) -> pl.DataFrame:
    """From ``__fga/__fgm/__fg3a/__fg3m`` (shot chart, NULL when the row has no shots), ``points``,
    ``fg_pct``, ``fg3_pct``, ``ft_pct``: the made/attempted counts, FTM, FTA, and their flags."""
    makes3, att3 = fg3_names
    no_shots_but_attempts = pl.col("__fga").is_null() & pl.col("fg_pct").is_not_null()
    counts = {"fg_makes": "__fgm", "fg_attempts": "__fga", makes3: "__fg3m", att3: "__fg3a"}
    df = df.with_columns(
        [pl.when(no_shots_but_attempts).then(None).otherwise(pl.col(src).fill_null(0)).alias(dst)
         for dst, src in counts.items()]
    ).with_columns(
        (pl.col("points") - 2 * pl.col("fg_makes") - pl.col(makes3)).alias("ft_makes"),
    )
    fta, status = solve_ft_attempts(pl.col("ft_makes"), pl.col("ft_pct"))
    df = df.with_columns(fta.alias("ft_attempts"), status.alias("__fta_status"))
    unknown_counts = [_when(no_shots_but_attempts, f"unknown:{c}") for c in [*counts, "ft_makes"]]
    return df.with_columns(
        pl.when(pl.col("ft_makes") < 0).then(None).otherwise(pl.col("ft_makes")).alias("ft_makes"),
        pl.concat_list(
            *unknown_counts,
            _pct_check("FG_PCT", "fg_pct", "fg_makes", "fg_attempts"),
            _pct_check("FG3_PCT", "fg3_pct", makes3, att3),
            _when(pl.col("__fta_status") == "estimated", FLAG_ESTIMATED_FTA),
            _when(pl.col("__fta_status") == "unknown", FLAG_UNKNOWN_FTA),
            _when(pl.col("__fta_status") == "mismatch",
                  pl.format("mismatch:FT_PCT {} vs free throws made {} (= PTS - 2 x FGM - 3PM)",
                            pl.col("ft_pct").cast(pl.String).fill_null("NULL"), pl.col("ft_makes"))),
        ).list.drop_nulls().alias("__shooting_flags"),
    )


def _game_periods(raw_dir: Path, schedule: pl.DataFrame) -> pl.DataFrame:
    """Periods played per game (highest QUARTER of any of its shots, at least 4), by game id."""
    games = _games(_team_rows(raw_dir))
    shots = _shot_rows(raw_dir, games)
    on = ["game_date", "home_team_abbr", "away_team_abbr"]
    return (shots.group_by(on).agg(pl.col("period").max().alias("__periods"))
            .join(schedule.select(*on, "game_id"), on=on, how="inner").select("game_id", "__periods"))


def read_team_game_logs_2020(raw_dir: Path, shots: pl.DataFrame, schedule: pl.DataFrame | None = None) -> pl.DataFrame:
    """2020-21 team box scores: one row per team per regular-season game (2,160 on the real files).

    Columns of ``readers.read_team_game_logs``, then ``quality_flags``:
    ``game_id`` (String, from ``schedule``), ``team_id`` (Int64), ``game_date`` (Date); Int64 counts:
    ``fg_makes``, ``fg_attempts``, ``three_pt_makes``, ``three_pt_attempts`` (shot chart counts of the
    team-game), ``ft_makes`` (PTS - 2 x FGM - 3PM), ``ft_attempts`` (from FT_PCT, see
    :func:`solve_ft_attempts`), ``offensive_rebounds`` / ``defensive_rebounds`` (always NULL: not in
    the source), ``assists``, ``turnovers``, ``points`` (published), ``team_minutes`` (240 + 25 x
    overtimes from the shot chart's periods; estimated from the players' MIN when the game has no
    shots). ``quality_flags`` lists ``inferred:game_id``, ``estimated:ft_attempts``,
    ``unknown:ft_attempts``, ``estimated:team_minutes``, ``unknown:<count>`` (no shots) and
    ``mismatch:...`` (shot chart vs FG_PCT / FG3_PCT / FT_PCT) where they apply.

    ``shots``: the 2020-21 shot chart as returned by :func:`read_shots_2020` (only ``game_date``,
    ``team_id``, ``shot_made`` and ``shot_type`` are used). ``schedule``: the output of
    :func:`read_schedule_2020` (computed when omitted). Raises :class:`readers.RawDataError` (file,
    line, value) on malformed input.
    """
    raw_dir = Path(raw_dir)
    path = raw_dir / TEAM_LOG_FILE
    if schedule is None:
        schedule = read_schedule_2020(raw_dir)
    rows = _attach_game_id(_team_rows(raw_dir), schedule, path)
    rows = rows.join(_shot_counts(shots, ["game_date", "team_id"]), on=["game_date", "team_id"], how="left")
    rows = _derive_shooting(rows, ("three_pt_makes", "three_pt_attempts"))
    rows = rows.join(_game_periods(raw_dir, schedule), on="game_id", how="left")
    if rows["__periods"].null_count():
        mins = _player_rows(raw_dir).group_by("game_date", "team_abbr").agg(pl.col("MIN").sum().alias("__sum_min"))
        rows = rows.join(mins, on=["game_date", "team_abbr"], how="left")
        overtimes_from_minutes = ((pl.col("__sum_min") - REGULATION_TEAM_MINUTES) / OVERTIME_TEAM_MINUTES).round(0)
    else:
        rows = rows.with_columns(pl.lit(None, pl.Int64).alias("__sum_min"))
        overtimes_from_minutes = pl.lit(None, pl.Float64)
    overtimes = pl.coalesce((pl.col("__periods") - 4).cast(pl.Float64), overtimes_from_minutes)
    team_minutes = (REGULATION_TEAM_MINUTES + OVERTIME_TEAM_MINUTES * pl.max_horizontal(overtimes, 0)).cast(pl.Int64)
    return rows.with_columns(
        team_minutes.alias("team_minutes"),
        pl.lit(None, pl.Int64).alias("offensive_rebounds"),
        pl.lit(None, pl.Int64).alias("defensive_rebounds"),
        pl.concat_list(
            "__game_flags", "__shooting_flags",
            pl.when(pl.col("__periods").is_null() & pl.col("__sum_min").is_not_null())
            .then(pl.lit([FLAG_ESTIMATED_TEAM_MINUTES], dtype=_FLAG_DTYPE))
            .otherwise(pl.lit([], dtype=_FLAG_DTYPE)),
        ).alias(QUALITY_FLAGS),
    ).sort(_LINE).select(*TEAM_LOG_COLUMNS, QUALITY_FLAGS)


_PLAYER_COUNTS = {"PTS": "points", "REB": "rebounds", "AST": "assists", "STL": "steals", "BLK": "blocks",
                  "TOV": "turnovers", "MIN": "MIN"}


def _player_rows(raw_dir: Path) -> pl.DataFrame:
    """Validated regular-season player-log rows joined to their team's row (``team_id``)."""
    raw_dir = Path(raw_dir)
    path = raw_dir / PLAYER_LOG_FILE
    df = _load(path)
    required = ["PLAYER_ID", "PLAYER_NAME", "TEAM_ABBREVIATION", "GAME_DATE", "MATCHUP", *_PLAYER_COUNTS,
                "PLUS_MINUS"]
    _require_columns(df, path, [*required, *_PCTS, "SEASON_TYPE"])
    df = _check_season_type(df, path)
    _require_values(df, path, required)
    df = _parse(df, path, {
        "PLAYER_ID": _nonneg_int("PLAYER_ID"), "TEAM_ABBREVIATION": _tricode("TEAM_ABBREVIATION"),
        "GAME_DATE": _date("GAME_DATE", "%Y-%m-%d"),
        **{c: _nonneg_int(c) for c in _PLAYER_COUNTS}, **{c: _fraction(c) for c in _PCTS},
        "PLUS_MINUS": _int("PLUS_MINUS"),
    })
    df = _parse_matchup(df, path)
    dup = df.filter(pl.len().over("GAME_DATE", "PLAYER_ID") > 1).sort(_LINE)
    if dup.height:
        first = dup.filter((pl.col("PLAYER_ID") == dup["PLAYER_ID"][0]) & (pl.col("GAME_DATE") == dup["GAME_DATE"][0]))
        raise RawDataError(f"{path}, lines {_lines(first)}: player {dup['PLAYER_ID'][0]} "
                           f"({dup['PLAYER_NAME'][0]!r}) has more than one row on {dup['GAME_DATE'][0]}")
    teams = _team_rows(raw_dir).select(pl.col("game_date").alias("GAME_DATE"),
                                       pl.col("team_abbr").alias("TEAM_ABBREVIATION"), "team_id",
                                       pl.col("matchup").alias("__team_matchup"))
    df = df.join(teams, on=["GAME_DATE", "TEAM_ABBREVIATION"], how="left")
    bad = df.filter(pl.col("team_id").is_null() | (pl.col("__team_matchup") != pl.col("MATCHUP"))).sort(_LINE)
    if bad.height:
        r = bad.row(0, named=True)
        team_says = (f"its team's row says {r['__team_matchup']!r}" if r["__team_matchup"] is not None
                     else f"{TEAM_LOG_FILE} has no {r['TEAM_ABBREVIATION']} game on {r['GAME_DATE']}")
        raise RawDataError(f"{path}, line {r[_LINE]}: column 'MATCHUP' value {r['MATCHUP']!r} of player "
                           f"{r['PLAYER_NAME']!r}: {team_says}")
    return df.rename({"GAME_DATE": "game_date", "TEAM_ABBREVIATION": "team_abbr", "PLAYER_ID": "player_id",
                      **{k: v for k, v in _PLAYER_COUNTS.items() if k != "MIN"}, **_PCTS})


def read_player_boxscores_2020(raw_dir: Path, shots: pl.DataFrame, schedule: pl.DataFrame | None = None,
                               team_logs: pl.DataFrame | None = None) -> pl.DataFrame:
    """2020-21 player box scores: one row per player who appeared in a regular-season game (23,054 on
    the real files; the source has no DNP rows).

    Columns of ``readers.read_player_boxscores``, then ``quality_flags``: ``team_abbr``,
    ``first_name`` (PLAYER_NAME up to the first space), ``family_name`` (the rest; "" for a one-word
    name), ``position`` (NULL: starters unknown), ``comment`` (NULL: no DNP rows), ``game_id``,
    ``team_id``, ``player_id``, ``minutes_played`` (Float64 minutes: MIN, or 0.25 when MIN is 0),
    ``plus_minus`` (Float64 points), Int64 counts ``fg_makes``, ``fg_attempts``,
    ``box_three_pt_makes``, ``box_three_pt_attempts`` (shot chart counts of the player-game; 0 when he
    has no shots and FG_PCT is NULL), ``ft_makes`` (PTS - 2 x FGM - 3PM), ``ft_attempts`` (see the
    module docstring), ``offensive_rebounds`` / ``defensive_rebounds`` / ``personal_fouls`` (NULL),
    ``rebounds``, ``assists``, ``steals``, ``blocks``, ``turnovers``, ``points`` (published).
    ``quality_flags``: ``rounded:minutes_played`` or ``estimated:minutes_played``,
    ``unknown:position`` and ``unknown:dnp_rows`` on every row; ``inferred:game_id``, ``estimated:ft_attempts``,
    ``unknown:ft_attempts``, ``unknown:<count>``, ``mismatch:...`` where they apply.

    ``shots``: as for :func:`read_team_game_logs_2020` (uses ``game_date``, ``player_id``,
    ``shot_made``, ``shot_type``); ``schedule`` / ``team_logs``: the outputs of
    :func:`read_schedule_2020` / :func:`read_team_game_logs_2020` (computed when omitted; the team
    FTA resolves players whose FT_PCT is 0). Raises :class:`readers.RawDataError` (file, line, value).
    """
    raw_dir = Path(raw_dir)
    path = raw_dir / PLAYER_LOG_FILE
    if schedule is None:
        schedule = read_schedule_2020(raw_dir)
    if team_logs is None:
        team_logs = read_team_game_logs_2020(raw_dir, shots, schedule)
    rows = _attach_game_id(_player_rows(raw_dir), schedule, path)
    rows = rows.join(_shot_counts(shots, ["game_date", "player_id"]), on=["game_date", "player_id"], how="left")
    rows = _derive_shooting(rows, ("box_three_pt_makes", "box_three_pt_attempts"))

    # FT_PCT = 0 (all missed): resolve from the team total when the remainder determines it
    team = team_logs.select(
        "game_id", "team_id", pl.col("ft_attempts").alias("__team_fta"),
        (pl.col(QUALITY_FLAGS).list.contains(FLAG_ESTIMATED_FTA) if QUALITY_FLAGS in team_logs.columns
         else pl.lit(False)).alias("__team_fta_estimated"))
    rows = rows.join(team, on=["game_id", "team_id"], how="left")
    tg = ["game_id", "team_id"]
    unknown = pl.col("__fta_status") == "unknown"
    rows = rows.with_columns(
        unknown.sum().over(tg).alias("__k"),
        pl.col("ft_attempts").is_null().sum().over(tg).alias("__nulls"),
        (pl.col("__team_fta") - pl.col("ft_attempts").sum().over(tg)).alias("__remainder"),
        (pl.col("__fta_status") == "estimated").any().over(tg).alias("__any_estimated"),
    )
    resolvable = (unknown & (pl.col("__k") == pl.col("__nulls")) & pl.col("__team_fta").is_not_null()
                  & (pl.col("__remainder") >= pl.col("__k")))
    resolved = (pl.when(resolvable & (pl.col("__k") == 1)).then(pl.col("__remainder"))
                .when(resolvable & (pl.col("__remainder") == pl.col("__k"))).then(pl.lit(1, pl.Int64)))
    was_estimate = pl.col("__team_fta_estimated") | pl.col("__any_estimated")
    totals_disagree = ((pl.col("__nulls") == 0) & pl.col("__team_fta").is_not_null()
                       & (pl.col("__remainder") != 0))
    rows = rows.with_columns(
        pl.coalesce("ft_attempts", resolved).alias("ft_attempts"),
        pl.when(resolved.is_not_null())
        .then(pl.col("__shooting_flags").list.set_difference(pl.lit([FLAG_UNKNOWN_FTA], dtype=_FLAG_DTYPE)))
        .otherwise(pl.col("__shooting_flags")).alias("__shooting_flags"),
        _when(resolved.is_not_null() & was_estimate, FLAG_ESTIMATED_FTA).alias("__resolved_flag"),
        _when(totals_disagree, pl.format("mismatch:team FTA {} != sum of player FTA {}", pl.col("__team_fta"),
                                         pl.col("__team_fta") - pl.col("__remainder"))).alias("__total_flag"),
    )

    appeared_zero = pl.col("MIN") == 0
    name = pl.col("PLAYER_NAME").str.strip_chars()
    has_space = name.str.contains(" ", literal=True)
    return rows.with_columns(
        pl.when(has_space).then(name.str.extract(r"^(\S+)\s", 1)).otherwise(name).alias("first_name"),
        pl.when(has_space).then(name.str.extract(r"^\S+\s+(.*)$", 1)).otherwise(pl.lit("")).alias("family_name"),
        pl.lit(None, pl.String).alias("position"),
        pl.lit(None, pl.String).alias("comment"),
        pl.when(appeared_zero).then(pl.lit(ZERO_MINUTES_ESTIMATE)).otherwise(pl.col("MIN").cast(pl.Float64))
        .alias("minutes_played"),
        pl.col("PLUS_MINUS").cast(pl.Float64).alias("plus_minus"),
        pl.lit(None, pl.Int64).alias("offensive_rebounds"),
        pl.lit(None, pl.Int64).alias("defensive_rebounds"),
        pl.lit(None, pl.Int64).alias("personal_fouls"),
        pl.concat_list(
            "__game_flags",
            pl.when(appeared_zero).then(pl.lit(FLAG_ESTIMATED_MINUTES)).otherwise(pl.lit(FLAG_ROUNDED_MINUTES)),
            pl.lit(FLAG_UNKNOWN_POSITION), pl.lit(FLAG_UNKNOWN_DNP_ROWS),
            "__shooting_flags", "__resolved_flag", "__total_flag",
        ).list.drop_nulls().alias(QUALITY_FLAGS),
    ).sort(_LINE).select(*PLAYER_BOX_COLUMNS, QUALITY_FLAGS)


class Season2020(NamedTuple):
    """The four 2020-21 frames, shaped like the hoopR readers' outputs (see each reader)."""

    schedule: pl.DataFrame
    shots: pl.DataFrame
    team_game_logs: pl.DataFrame
    player_boxscores: pl.DataFrame


def read_season_2020(raw_dir: Path) -> Season2020:
    """Read and derive the whole 2020-21 regular season (each file parsed once)."""
    raw_dir = Path(raw_dir)
    schedule = read_schedule_2020(raw_dir)
    shots = read_shots_2020(raw_dir, schedule)
    team_logs = read_team_game_logs_2020(raw_dir, shots, schedule)
    players = read_player_boxscores_2020(raw_dir, shots, schedule, team_logs)
    return Season2020(schedule, shots, team_logs, players)


def game_dates_2020(raw_dir: Path) -> pl.DataFrame:
    """The 2020-21 regular-season game dates (``season_year``, ``game_date``), from the team logs alone
    (no shot chart needed: cheap enough to build the partitions calendar when definitions load)."""
    return _team_rows(Path(raw_dir)).select(
        pl.lit(SEASON_YEAR, pl.Int64).alias("season_year"), "game_date").unique().sort("game_date")
