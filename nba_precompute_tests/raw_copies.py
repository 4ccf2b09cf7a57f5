"""Small mutated copies of the real raw files: one season's hoopR files, with the box scores of the nights
from a cut-off date on held back (as on a morning before they arrive)."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from pathlib import Path

import polars as pl

HOOPR = Path("boxscores/hoopr-nba-project")


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(gzip.decompress(path.read_bytes())), infer_schema=False)


def _write(df: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(gzip.compress(df.write_csv().encode(), mtime=0))
    tmp.replace(path)  # a file lands whole, as a download that completes


def season_copy(src: Path, dst: Path, season_year: int | tuple[int, ...], box_scores_before: dt.date) -> None:
    """Write into ``dst`` the hoopR schedule of ``season_year`` (one season or several; every game, played
    or not) and its player and team box scores of the games dated before ``box_scores_before``. No
    2020-21 source, no shot chart (the seasons must be ones without: 2024-25 or later)."""
    years = [str(y) for y in ((season_year,) if isinstance(season_year, int) else season_year)]
    schedule = _read(src / HOOPR / "schedule.csv.gz").filter(pl.col("season").is_in(years))
    _write(schedule, dst / HOOPR / "schedule.csv.gz")
    dates = schedule.select(pl.col("game_id_nba").alias("game_id"), pl.col("game_date").str.to_date())
    kept = dates.filter(pl.col("game_date") < box_scores_before).get_column("game_id")
    teams = _read(src / HOOPR / "team_game_logs.csv.gz")
    _write(teams.filter(pl.col("game_id").is_in(kept.implode())), dst / HOOPR / "team_game_logs.csv.gz")
    players = _read(src / HOOPR / "player_game_logs1.csv.gz")
    _write(players.filter(pl.col("game_id").is_in(kept.implode())), dst / HOOPR / "player_game_logs1.csv.gz")
    (dst / "shots").mkdir(exist_ok=True)


def correct_made_two(dst: Path, game_date: dt.date) -> tuple[str, int]:
    """A legal stat correction in the copy ``dst``: in the first game of ``game_date`` (by game id), the
    first player (by id) with a missed field goal gets one more made two (``field_goals_made`` +1,
    ``points`` +2; made <= attempted still holds), and his team's row of the team game logs the same
    (``fgm`` +1, ``pts`` +2). The files are rewritten whole. Returns (game_id, player_id)."""
    schedule = _read(dst / HOOPR / "schedule.csv.gz")
    game = sorted(schedule.filter(pl.col("game_date").str.to_date() == game_date).get_column("game_id_nba")
                  .str.zfill(10).to_list())[0]
    players_path, teams_path = dst / HOOPR / "player_game_logs1.csv.gz", dst / HOOPR / "team_game_logs.csv.gz"
    players = _read(players_path)
    num = {c: pl.col(c).cast(pl.Float64).cast(pl.Int64) for c in ("field_goals_made", "field_goals_attempted")}
    candidates = players.filter(pl.col("game_id_nba").str.zfill(10) == game,
                                num["field_goals_made"] < num["field_goals_attempted"]).sort("person_id")
    who = candidates.row(0, named=True)
    hit = (pl.col("game_id_nba").str.zfill(10) == game) & (pl.col("person_id") == who["person_id"])
    players = players.with_columns(
        pl.when(hit).then((num["field_goals_made"] + 1).cast(pl.String)).otherwise(pl.col("field_goals_made"))
        .alias("field_goals_made"),
        pl.when(hit).then((pl.col("points").cast(pl.Float64).cast(pl.Int64) + 2).cast(pl.String))
        .otherwise(pl.col("points")).alias("points"))
    _write(players, players_path)
    teams = _read(teams_path)
    team_hit = (pl.col("game_id").str.zfill(10) == game) & (pl.col("team_id") == who["team_id"])
    assert teams.filter(team_hit).height == 1
    teams = teams.with_columns(
        *[pl.when(team_hit).then((pl.col(c).cast(pl.Float64).cast(pl.Int64) + 2 * (c == "pts") + (c == "fgm"))
                                 .cast(pl.String)).otherwise(pl.col(c)).alias(c) for c in ("fgm", "pts")])
    _write(teams, teams_path)
    return game, int(who["person_id"])


def seasons_copy(src: Path, dst: Path, season_years: list[int], box_scores_before: dt.date) -> None:
    """:func:`season_copy` of several seasons into one directory (their schedules, and the box scores of
    their games dated before ``box_scores_before``)."""
    schedule = _read(src / HOOPR / "schedule.csv.gz").filter(pl.col("season").is_in([str(y) for y in season_years]))
    _write(schedule, dst / HOOPR / "schedule.csv.gz")
    kept = schedule.filter(pl.col("game_date").str.to_date() < box_scores_before).get_column("game_id_nba")
    for name in ("team_game_logs.csv.gz", "player_game_logs1.csv.gz"):
        _write(_read(src / HOOPR / name).filter(pl.col("game_id").is_in(kept.implode())), dst / HOOPR / name)
    (dst / "shots").mkdir(exist_ok=True)


def duplicate_player_row(dst: Path, game_date: dt.date) -> tuple[str, int, int, int]:
    """One bad row in the copy ``dst``: the first row (in file order) of the player box scores of the first
    game of ``game_date`` (by game id) written a second time, at the end of the file. Returns (game_id,
    person_id, line of the original row, line of the copy); lines are 1-based with the header on line 1."""
    schedule = _read(dst / HOOPR / "schedule.csv.gz")
    game = sorted(schedule.filter(pl.col("game_date").str.to_date() == game_date).get_column("game_id_nba")
                  .str.zfill(10).to_list())[0]
    path = dst / HOOPR / "player_game_logs1.csv.gz"
    players = _read(path).with_row_index("__i")
    first = players.filter(pl.col("game_id").str.zfill(10) == game).row(0, named=True)
    _write(pl.concat([players, players.filter(pl.col("__i") == first["__i"])]).drop("__i"), path)
    return game, int(first["person_id"]), int(first["__i"]) + 2, players.height + 2
