"""Compute the Phase 4 tables of a small real range with the project's transforms (no Dagster) and print
one hash per output frame, as JSON: run by ``test_determinism.py`` under several ``POLARS_MAX_THREADS``.

    python -m nba_precompute_tests.end_to_end.determinism_worker RAW_DIR [SEED]

With ``SEED``, the Phase 3 frames the Phase 4 transforms read are shuffled and cut into chunks of
random sizes first (what a warehouse may return: BigQuery guarantees no row order), which must not
change a bit of the Phase 4 tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sys

import polars as pl

from nba_precompute.raw.sources import RawSources
from nba_precompute.schemas import is_regular_season
from nba_precompute.transforms import mlfs, pcf, pdc, phase3, psza, tdza

# the season's opening night to the end of the range is the history; Phase 4 over [START, END]
SEASON = 2022
START, END = dt.date(2022, 12, 5), dt.date(2022, 12, 18)


def frame_hash(df: pl.DataFrame) -> str:
    """A hash of a frame's column names, types and every value to the bit, in row order (not of its
    memory layout: chunking does not change it)."""
    h = hashlib.sha256(repr(list(df.schema.items())).encode())
    if df.height:
        for seed in (0, 1):
            h.update(df.hash_rows(seed=seed).to_numpy().tobytes())
    return h.hexdigest()


def scrambled(df: pl.DataFrame, seed: int) -> pl.DataFrame:
    """``df``'s rows in a random order, as several chunks of random sizes."""
    if df.height < 2:
        return df
    df = df.sample(fraction=1.0, shuffle=True, seed=seed)
    rng = random.Random(seed)
    cuts = sorted({0, df.height, *(rng.randrange(1, df.height) for _ in range(6))})
    return pl.concat([df.slice(a, b - a) for a, b in zip(cuts, cuts[1:])], rechunk=False)


def tables(raw_dir: str, seed: int | None = None) -> dict[str, pl.DataFrame]:
    raw = RawSources(raw_dir)
    schedule = raw.schedule(with_2020=False)
    season = schedule.filter(pl.col("season_year") == SEASON, is_regular_season(pl.col("game_id")))
    opening = season.get_column("game_date").min()
    box, logs, shots = raw.player_boxscores(with_2020=False), raw.team_game_logs(with_2020=False), raw.shots(SEASON)
    s = phase3.build_schedule(schedule, opening, END)
    pg = phase3.build_player_game_summary(box, logs, schedule, shots, opening, END, shot_seasons=[SEASON])
    to = phase3.build_team_offense_game_summary(logs, schedule, opening, END)
    td = phase3.build_team_defense_game_summary(logs, schedule, shots, opening, END, shot_seasons=[SEASON])
    days = sorted(set(s.filter(pl.col("game_date").is_between(START, END)).get_column("game_date")))
    upcg = phase3.build_upcoming_player_game_context(pg, to, s, START, END)
    uptgc = phase3.build_upcoming_team_game_context(s, START, END)
    out = {"player_game_summary": pg, "team_offense": to, "team_defense": td, "upcg": upcg, "uptgc": uptgc}
    if seed is not None:  # Phase 4 reads the Phase 3 tables in any order
        s, pg, to, td, upcg, uptgc = (scrambled(f, seed + i) for i, f in enumerate((s, pg, to, td, upcg, uptgc)))
    out["tdza"], out["tdza_failures"] = tdza.build_team_defense_zone_analysis(td, s, START, END, dates=days)
    out["psza"], out["psza_failures"] = psza.build_player_shot_zone_analysis(pg, s, START, END, dates=days)
    out["pcf"], out["pcf_failures"] = pcf.build_player_composite_factors(
        upcg, out["psza"], out["tdza"], uptgc, pg, s, START, END, dates=days)
    out["pdc"], out["pdc_failures"] = pdc.build_player_daily_cache(upcg, pg, to, out["psza"], s, START, END, dates=days)
    out["mlfs"], out["mlfs_failures"] = mlfs.build_ml_feature_store(
        upcg, out["pdc"], out["pcf"], out["psza"], out["tdza"], pg, to, START, END, dates=days)
    return out


if __name__ == "__main__":
    frames = tables(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)
    print(json.dumps({"threads": pl.thread_pool_size(),
                      "rows": {k: v.height for k, v in frames.items()},
                      "hashes": {k: frame_hash(v) for k, v in frames.items()}}))
