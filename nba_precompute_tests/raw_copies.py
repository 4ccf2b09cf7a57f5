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


def season_copy(src: Path, dst: Path, season_year: int, box_scores_before: dt.date) -> None:
    """Write into ``dst`` the hoopR schedule of ``season_year`` (every game, played or not) and its player
    and team box scores of the games dated before ``box_scores_before``. No 2020-21 source, no shot
    chart (the season must be one without: 2024-25 or later)."""
    schedule = _read(src / HOOPR / "schedule.csv.gz").filter(pl.col("season") == str(season_year))
    _write(schedule, dst / HOOPR / "schedule.csv.gz")
    dates = schedule.select(pl.col("game_id_nba").alias("game_id"), pl.col("game_date").str.to_date())
    kept = dates.filter(pl.col("game_date") < box_scores_before).get_column("game_id")
    teams = _read(src / HOOPR / "team_game_logs.csv.gz")
    _write(teams.filter(pl.col("game_id").is_in(kept.implode())), dst / HOOPR / "team_game_logs.csv.gz")
    players = _read(src / HOOPR / "player_game_logs1.csv.gz")
    _write(players.filter(pl.col("game_id").is_in(kept.implode())), dst / HOOPR / "player_game_logs1.csv.gz")
    (dst / "shots").mkdir(exist_ok=True)
