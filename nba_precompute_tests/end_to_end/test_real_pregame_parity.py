"""Every upcoming-context, Phase 4 and MLFS row for D is the same whether or not D's box scores exist
(SPEC §2), on the real data, byte for byte.

For a 2022-23 night (with a shot chart) and a 2025-26 night (without one), the Phase 3 frames are built
twice from the real raw files with the project's transforms (no Dagster): once from every raw row
(D and the week after included), once from raw files with every row of ``game_date >= D`` removed
(player box scores, team logs, shots; the schedule keeps all its rows, future games included). The
upcoming player context of D, and TDZA / PSZA / PCF / PDC / MLFS of D computed from each set of frames,
must be identical (exact comparison, no tolerance), failures included.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from nba_precompute.raw.sources import RawSources
from nba_precompute.schemas import is_regular_season
from nba_precompute.transforms import mlfs, pcf, pdc, phase3, psza, tdza

NIGHTS = (dt.date(2022, 12, 14), dt.date(2026, 1, 15))
AFTER = dt.timedelta(days=7)  # the "full" frames also hold the week after D


@dataclass
class Phase3Frames:
    schedule: pl.DataFrame  # nba_schedule rows [opening night, D] (what the assets read through D)
    player_games: pl.DataFrame
    team_offense: pl.DataFrame
    team_defense: pl.DataFrame


@pytest.fixture(scope="module")
def raw(raw_data_dir) -> RawSources:
    return RawSources(raw_data_dir)


def _phase3(raw: RawSources, night: dt.date, cut: dt.date | None) -> Phase3Frames:
    """Phase 3 frames over [opening night, D + 7 days] from the raw files; ``cut``: drop every raw row
    with ``game_date >= cut`` first (box scores are dated by their game in the schedule)."""
    schedule = raw.schedule(with_2020=False)
    season = schedule.filter(pl.col("game_date") == night).get_column("season_year").max()
    opening = schedule.filter(pl.col("season_year") == season, is_regular_season(pl.col("game_id"))).get_column(
        "game_date").min()
    box, logs = raw.player_boxscores(with_2020=False), raw.team_game_logs(with_2020=False)
    shots = raw.shots(season)
    chart = [season] if shots is not None else []
    if shots is None:
        shots = pl.DataFrame(schema={"game_id": pl.String, "game_date": pl.Date, "team_id": pl.Int64,
                                     "player_id": pl.Int64, "shot_made": pl.Boolean, "shot_type": pl.String,
                                     "basic_zone": pl.String, "shot_distance": pl.Float64})
    if cut is not None:
        before = schedule.filter(pl.col("game_date") < cut).get_column("game_id").implode()
        box = box.filter(pl.col("game_id").is_in(before))
        logs = logs.filter(pl.col("game_date") < cut)
        shots = shots.filter(pl.col("game_date") < cut)
    last = night + AFTER
    return Phase3Frames(
        schedule=phase3.build_schedule(schedule, opening, night),
        player_games=phase3.build_player_game_summary(box, logs, schedule, shots, opening, last, shot_seasons=chart),
        team_offense=phase3.build_team_offense_game_summary(logs, schedule, opening, last),
        team_defense=phase3.build_team_defense_game_summary(logs, schedule, shots, opening, last, shot_seasons=chart),
    )


def _night_tables(p3: Phase3Frames, d: dt.date) -> dict[str, pl.DataFrame]:
    """The upcoming contexts of D and every Phase 4 table (rows and failures) of D from ``p3``."""
    s, pg, to = p3.schedule, p3.player_games, p3.team_offense
    upcg = phase3.build_upcoming_player_game_context(pg, to, s, d, d)
    uptgc = phase3.build_upcoming_team_game_context(s, d, d)
    tdza_rows, tdza_fail = tdza.build_team_defense_zone_analysis(p3.team_defense, s, d, d, dates=[d])
    psza_rows, psza_fail = psza.build_player_shot_zone_analysis(pg, s, d, d, dates=[d])
    pcf_rows, pcf_fail = pcf.build_player_composite_factors(upcg, psza_rows, tdza_rows, uptgc, pg, s, d, d, dates=[d])
    pdc_rows, pdc_fail = pdc.build_player_daily_cache(upcg, pg, to, psza_rows, s, d, d, dates=[d])
    mlfs_rows, mlfs_fail = mlfs.build_ml_feature_store(upcg, pdc_rows, pcf_rows, psza_rows, tdza_rows, pg, to, d, d,
                                                       dates=[d])
    return {"upcoming_player_game_context": upcg, "upcoming_team_game_context": uptgc,
            "tdza": tdza_rows, "tdza_failures": tdza_fail, "psza": psza_rows, "psza_failures": psza_fail,
            "pcf": pcf_rows, "pcf_failures": pcf_fail, "pdc": pdc_rows, "pdc_failures": pdc_fail,
            "mlfs": mlfs_rows, "mlfs_failures": mlfs_fail}


@pytest.mark.parametrize("night", NIGHTS, ids=[n.isoformat() for n in NIGHTS])
def test_rows_of_d_do_not_depend_on_box_scores_of_d_or_later(raw, night):
    full, cut = _phase3(raw, night, None), _phase3(raw, night, night)
    # the full frames do hold D and the week after; the cut ones end the day before D
    assert full.player_games.get_column("game_date").max() > night
    assert cut.player_games.get_column("game_date").max() < night
    assert_frame_equal(cut.player_games, full.player_games.filter(pl.col("game_date") < night), check_exact=True)

    with_d, without_d = _night_tables(full, night), _night_tables(cut, night)
    upcg = with_d["upcoming_player_game_context"]
    # a real night: every team scheduled on D has players, and the universe is not "who played on D"
    teams = with_d["upcoming_team_game_context"].get_column("team_abbr").n_unique()
    assert upcg.get_column("team_abbr").n_unique() == teams and upcg.height > 10 * teams
    played_on_d = full.player_games.filter((pl.col("game_date") == night) & (pl.col("minutes_played") > 0))
    assert set(upcg.get_column("player_id")) != set(played_on_d.get_column("player_id"))
    assert upcg.get_column("star_teammates_out").sum() > 0
    for name, frame in with_d.items():
        try:
            assert_frame_equal(without_d[name], frame, check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{name} of {night} differs without the box scores of D and later: {exc}") from exc
        if not name.endswith("_failures"):
            assert frame.height > 0, name
