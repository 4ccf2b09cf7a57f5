"""Readers of the real NBA.com files under the raw data directory (see its SOURCES.md).

Every reader returns a typed Polars DataFrame with snake_case columns and raises
:class:`RawDataError` naming the file and the problem when a file is missing, truncated or corrupt,
a required column is absent, or a value (date, minutes, count, game id) cannot be parsed. Nothing is
silently coerced to NULL: a value that was present and is unparseable is an error.

Every frame also carries ``source_line`` (Int64): the 1-based line of the row in the (decompressed)
source file, the header being line 1, so that the domain rules (``nba_precompute.raw.domain``) can
point at the offending line. The Phase 3 builders select explicit columns, so it never reaches a table.
Parsing only checks that values *can* be read; whether they make sense (known teams, non-negative
counts, made <= attempted, ...) is ``nba_precompute.raw.domain``'s job.

Files (relative to the raw data directory):

* ``boxscores/hoopr-nba-project/schedule.csv.gz``          schedule, all game types, 2022-23 ..
* ``boxscores/hoopr-nba-project/player_game_logs1.csv.gz`` player box scores, DNP rows included
* ``boxscores/hoopr-nba-project/team_game_logs.csv.gz``    team box scores
* ``shots/NBA_<season end year>_Shots.csv.zip``            every field-goal attempt (shot chart)
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
import zlib
from pathlib import Path

import polars as pl

from nba_precompute.schemas import is_regular_season

SHOT_TYPES = ("2PT Field Goal", "3PT Field Goal")  # the shot chart's SHOT_TYPE values

SCHEDULE_FILE = "boxscores/hoopr-nba-project/schedule.csv.gz"
PLAYER_BOXSCORE_FILE = "boxscores/hoopr-nba-project/player_game_logs1.csv.gz"
TEAM_GAME_LOG_FILE = "boxscores/hoopr-nba-project/team_game_logs.csv.gz"
SHOTS_FILE = "shots/NBA_{end_year}_Shots.csv.zip"


SOURCE_LINE = "source_line"


class RawDataError(ValueError):
    """A raw input file is missing, corrupt, holds a value that cannot be parsed, or breaks a domain
    rule (``nba_precompute.raw.domain``)."""


def _source_lines(data: bytes, n_rows: int, path: Path) -> pl.Series:
    """1-based line number (header = line 1) where each of the ``n_rows`` CSV records starts.

    Polars reads a blank line as a record of NULLs, so when no quoted field holds a line break record i
    is on line i + 2; otherwise the records are located with Python's ``csv`` module, which follows
    quoted line breaks.
    """
    n_lines = data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
    if n_lines == n_rows + 1:
        return pl.int_range(2, n_rows + 2, eager=True, dtype=pl.Int64).alias(SOURCE_LINE)
    starts: list[int] = []
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace", newline=""))
    previous_end = 0
    for i, _record in enumerate(reader):
        if i > 0:
            starts.append(previous_end + 1)
        previous_end = reader.line_num
    if len(starts) != n_rows:
        raise RawDataError(f"{path}: cannot map the {n_rows} CSV records to source lines (found {len(starts)})")
    return pl.Series(SOURCE_LINE, starts, dtype=pl.Int64)


# Optional provenance column of a reader output (List[String]). The hoopR readers above do not emit it
# (their values are all published); ``season_2020`` does, one entry "kind:column" per value that is not
# an exact published or exactly derived value. The Phase 3 builders tolerate its absence.
QUALITY_FLAGS = "quality_flags"


def with_quality_flags(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with an empty ``quality_flags`` list column added when it has none, so that frames of
    readers with and without flags can be concatenated (``pl.concat``) into one builder input."""
    if QUALITY_FLAGS in df.columns:
        return df
    return df.with_columns(pl.lit([], dtype=pl.List(pl.String)).alias(QUALITY_FLAGS))


def read_raw_bytes(path: Path) -> bytes:
    """The bytes of a raw ``.csv``, ``.csv.gz`` or single-CSV ``.zip`` file (decompressed).

    Raises:
        RawDataError: the file is missing (naming ``NBA_RAW_DATA_DIR``), the archive does not hold
            exactly one CSV, or the file is truncated or corrupt.
    """
    if not path.exists():
        raise RawDataError(f"{path}: raw file not found (set NBA_RAW_DATA_DIR to the raw data directory)")
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.endswith(".csv") and not n.startswith("__MACOSX")]
                if len(names) != 1:
                    raise RawDataError(f"{path}: expected exactly one CSV in the archive, found {names}")
                return zf.read(names[0])
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except RawDataError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise RawDataError(f"{path}: truncated or corrupt file ({type(exc).__name__}: {exc})") from exc


def first_malformed_record(data: bytes) -> tuple[int, str, str] | None:
    """The first record of the CSV ``data`` that breaks its shape: ``(line, what is wrong, the line's
    text up to 120 characters)``, lines 1-based (the header is line 1); ``None`` when every record has
    the header's number of fields on one line. A record spanning several lines is a stray quote (the
    raw files have no multi-line fields). Python's ``csv`` module, once, on the error path only."""
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return None
    start = reader.line_num + 1
    try:
        for record in reader:  # the error path of a file polars could not read: locate its first bad line
            end = reader.line_num
            line = lines[start - 1][:120] if start <= len(lines) else ""
            if end != start:
                return start, f"a quote opened on this line is not closed on it (the record runs to line {end})", line
            if len(record) != len(header):
                return start, f"{len(record)} field(s) where the header has {len(header)}", line
            start = end + 1
    except csv.Error as exc:
        return start, f"unreadable ({exc})", lines[start - 1][:120] if start <= len(lines) else ""
    return None


def malformed_csv_message(path: Path, data: bytes, exc: Exception) -> str:
    """One short line for a CSV polars could not read: the file, the first malformed line (what is
    wrong, its text) when one is found, and the first line of polars' own message (which may quote
    thousands of rows)."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    found = first_malformed_record(data)
    where = f" at line {found[0]}: {found[1]}; the line reads {found[2]!r}" if found else ""
    return f"{path}: malformed CSV{where} (polars: {reason})"


def _read_text_csv(path: Path) -> pl.DataFrame:
    """Read a ``.csv``, ``.csv.gz`` or single-CSV ``.zip`` file with every column as a string, plus
    ``source_line`` (Int64, the 1-based line of each record; header = line 1)."""
    data = read_raw_bytes(path)
    try:
        df = pl.read_csv(io.BytesIO(data), infer_schema=False, null_values=[""])
    except pl.exceptions.PolarsError as exc:
        raise RawDataError(malformed_csv_message(path, data, exc)) from exc
    if SOURCE_LINE in df.columns:
        raise RawDataError(f"{path}: unexpected column {SOURCE_LINE!r} (reserved for the line number)")
    return df.with_columns(_source_lines(data, df.height, path))


def _require(df: pl.DataFrame, path: Path, columns: list[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise RawDataError(
            f"{path}: missing required column(s) {missing}; the file has {df.columns[:40]}"
        )


def _parse(df: pl.DataFrame, path: Path, parsers: dict[str, pl.Expr]) -> pl.DataFrame:
    """Replace string columns by parsed ones; raise on any present value that failed to parse."""
    parsed = df.with_columns(**{f"__parsed_{k}": v for k, v in parsers.items()})
    for col in parsers:
        bad = parsed.filter(pl.col(col).is_not_null() & pl.col(f"__parsed_{col}").is_null())
        if bad.height:
            first = bad.unique(col, keep="first", maintain_order=True).head(3)
            examples = first.get_column(col).to_list()
            lines = first.get_column(SOURCE_LINE).to_list() if SOURCE_LINE in first.columns else []
            where = f" (first at line(s) {lines})" if lines else ""
            raise RawDataError(
                f"{path}: column {col!r} has {bad.height} unparseable value(s), e.g. {examples}{where}"
            )
    return parsed.drop(list(parsers)).rename({f"__parsed_{k}": k for k in parsers})


def _int(col: str) -> pl.Expr:
    """An integer written as "14" or "14.0"; a fractional value ("2.5") is unparseable, not truncated."""
    f = pl.col(col).str.strip_chars().cast(pl.Float64, strict=False)
    return pl.when(f == f.floor()).then(f.cast(pl.Int64, strict=False))


def _float(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().cast(pl.Float64, strict=False)


def _game_id(col: str) -> pl.Expr:
    """NBA game id with its leading zeros restored (``22200001`` -> ``0022200001``)."""
    digits = pl.col(col).str.strip_chars().str.replace(r"\.0$", "")
    return pl.when(digits.str.contains(r"^\d{1,10}$")).then(digits.str.zfill(10)).otherwise(None)


def minutes_expr(col: str) -> pl.Expr:
    """Parse "MM:SS" (or plain "MM") minutes into decimal minutes (Float64); unparseable -> NULL.

    NBA.com box scores contain rounding artefacts such as "17:60"; a seconds field of 60 is read as a
    full minute (18.0).
    """
    s = pl.col(col).str.strip_chars()
    mm = s.str.extract(r"^(\d{1,3}):(\d{2})$", 1).cast(pl.Float64)
    ss = s.str.extract(r"^(\d{1,3}):(\d{2})$", 2).cast(pl.Float64)
    plain = s.str.extract(r"^(\d{1,3}(?:\.\d+)?)$", 1).cast(pl.Float64)
    return pl.when(mm.is_not_null() & (ss <= 60)).then(mm + ss / 60.0).otherwise(plain)


def read_schedule(raw_dir: Path) -> pl.DataFrame:
    """Schedule: one row per game of any type.

    Returns columns ``game_id`` (str, 10 chars), ``game_date`` (Date), ``season_year`` (Int64, start
    year), ``home_team_id``, ``away_team_id`` (Int64), ``home_team_abbr``, ``away_team_abbr`` (str),
    ``source_line`` (Int64).
    """
    path = Path(raw_dir) / SCHEDULE_FILE
    df = _read_text_csv(path)
    cols = ["season", "game_date", "game_id_nba", "home_team_id", "away_team_id",
            "home_team_tricode", "away_team_tricode"]
    _require(df, path, cols)
    df = _parse(df.select(*cols, SOURCE_LINE), path, {
        "season": _int("season"),
        "game_date": pl.col("game_date").str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        "game_id_nba": _game_id("game_id_nba"),
        "home_team_id": _int("home_team_id"),
        "away_team_id": _int("away_team_id"),
    })
    return df.rename({
        "season": "season_year", "game_id_nba": "game_id",
        "home_team_tricode": "home_team_abbr", "away_team_tricode": "away_team_abbr",
    }).select("game_id", "game_date", "season_year", "home_team_id", "away_team_id",
              "home_team_abbr", "away_team_abbr", SOURCE_LINE)


_BOX_COUNTS = {
    "field_goals_made": "fg_makes", "field_goals_attempted": "fg_attempts",
    "three_pointers_made": "box_three_pt_makes", "three_pointers_attempted": "box_three_pt_attempts",
    "free_throws_made": "ft_makes", "free_throws_attempted": "ft_attempts",
    "rebounds_offensive": "offensive_rebounds", "rebounds_defensive": "defensive_rebounds",
    "rebounds_total": "rebounds", "assists": "assists", "steals": "steals", "blocks": "blocks",
    "turnovers": "turnovers", "fouls_personal": "personal_fouls", "points": "points",
}


def _regular_season_only(df: pl.DataFrame, path: Path, col: str) -> pl.DataFrame:
    """Keep regular-season games (ids ``002...``); other game types are not ingested and not parsed."""
    df = _parse(df, path, {col: _game_id(col)})
    return df.filter(is_regular_season(pl.col(col)))


def read_player_boxscores(raw_dir: Path) -> pl.DataFrame:
    """Player box scores (NBA boxscoretraditionalv3 via hoopR) of regular-season games, DNP rows included.

    Rows of other game types (All-Star, play-in, playoffs) are dropped before their values are parsed.

    Returns ``game_id`` (10 chars), ``team_id``, ``team_abbr``, ``player_id``, ``first_name``,
    ``family_name``, ``position``, ``comment``, ``minutes_played`` (decimal minutes, NULL when the
    box score has none), the counting stats renamed as in ``player_game_summary`` (Int64) and
    ``plus_minus`` (Float64), ``source_line`` (Int64). Raises :class:`RawDataError` on unparseable
    minutes or counts.
    """
    path = Path(raw_dir) / PLAYER_BOXSCORE_FILE
    df = _read_text_csv(path)
    cols = ["game_id", "team_id", "team_tricode", "person_id", "first_name", "family_name",
            "position", "comment", "minutes", "plus_minus_points", *_BOX_COUNTS]
    _require(df, path, cols)
    df = _parse(_regular_season_only(df.select(*cols, SOURCE_LINE), path, "game_id"), path, {
        "team_id": _int("team_id"),
        "person_id": _int("person_id"),
        "minutes": minutes_expr("minutes"),
        "plus_minus_points": _float("plus_minus_points"),
        **{c: _int(c) for c in _BOX_COUNTS},
    })
    return df.rename({
        "team_tricode": "team_abbr", "person_id": "player_id", "minutes": "minutes_played",
        "plus_minus_points": "plus_minus", **_BOX_COUNTS,
    })


_TEAM_LOG_COUNTS = {
    "fgm": "fg_makes", "fga": "fg_attempts", "fg3m": "three_pt_makes", "fg3a": "three_pt_attempts",
    "ftm": "ft_makes", "fta": "ft_attempts", "oreb": "offensive_rebounds", "dreb": "defensive_rebounds",
    "ast": "assists", "tov": "turnovers", "pts": "points", "min": "team_minutes",
}


def read_team_game_logs(raw_dir: Path) -> pl.DataFrame:
    """Team box scores: one row per team per regular-season game.

    Returns ``team_id``, ``game_id`` (10 chars), ``game_date`` (Date), ``team_minutes`` and the counts
    ``fg_makes`` … ``points`` (Int64), ``source_line`` (Int64). Raises :class:`RawDataError` on
    unparseable values.
    """
    path = Path(raw_dir) / TEAM_GAME_LOG_FILE
    df = _read_text_csv(path)
    counts = _TEAM_LOG_COUNTS
    cols = ["team_id", "game_id", "game_date", *counts]
    _require(df, path, cols)
    df = _parse(_regular_season_only(df.select(*cols, SOURCE_LINE), path, "game_id"), path, {
        "team_id": _int("team_id"),
        "game_date": pl.col("game_date").str.to_titlecase().str.strptime(pl.Date, "%b %d, %Y", strict=False),
        **{c: _int(c) for c in counts},
    })
    return df.rename(counts)


def read_shots(raw_dir: Path, season_end_year: int) -> pl.DataFrame:
    """Shot chart of one season: one row per field-goal attempt.

    Returns ``game_id`` (10 chars), ``game_date`` (Date), ``team_id``, ``player_id`` (Int64),
    ``shot_made`` (bool), ``shot_type`` ("2PT Field Goal" / "3PT Field Goal"), ``basic_zone`` (str),
    ``shot_distance`` (Float64, feet), ``source_line`` (Int64). Raises :class:`RawDataError` on a
    missing/corrupt archive or an unparseable value.
    """
    path = Path(raw_dir) / SHOTS_FILE.format(end_year=season_end_year)
    df = _read_text_csv(path)
    cols = ["GAME_ID", "GAME_DATE", "TEAM_ID", "PLAYER_ID", "SHOT_MADE", "SHOT_TYPE", "BASIC_ZONE",
            "SHOT_DISTANCE"]
    _require(df, path, cols)
    made = pl.col("SHOT_MADE").str.strip_chars().str.to_uppercase()
    df = _parse(df.select(*cols, SOURCE_LINE), path, {
        "GAME_ID": _game_id("GAME_ID"),
        "GAME_DATE": pl.col("GAME_DATE").str.strptime(pl.Date, "%m-%d-%Y", strict=False),
        "TEAM_ID": _int("TEAM_ID"),
        "PLAYER_ID": _int("PLAYER_ID"),
        "SHOT_MADE": pl.when(made == "TRUE").then(True).when(made == "FALSE").then(False).otherwise(None),
        "SHOT_DISTANCE": _float("SHOT_DISTANCE"),
    })
    bad_type = df.filter(~pl.col("SHOT_TYPE").is_in(SHOT_TYPES))
    if bad_type.height:
        first = bad_type.unique("SHOT_TYPE", keep="first", maintain_order=True).head(3)
        raise RawDataError(
            f"{path}: column 'SHOT_TYPE' has {bad_type.height} unknown value(s), e.g. "
            f"{first.get_column('SHOT_TYPE').to_list()} (first at line(s) {first.get_column(SOURCE_LINE).to_list()})"
        )
    return df.rename({c: c.lower() for c in df.columns})
