"""The run-log messages of the Phase 3 assets."""

from __future__ import annotations

import polars as pl

from nba_precompute.defs.phase3 import shot_zone_disagreement_message


def _flagged(n: int) -> pl.DataFrame:
    return pl.DataFrame({"game_id": [f"00222000{i:02d}" for i in reversed(range(n))],
                         "player_lookup": [f"player{i}" for i in reversed(range(n))],
                         "data_quality_issues": [[f"zone_mismatch:fga {i}"] for i in reversed(range(n))]})


def test_the_disagreement_warning_lists_what_it_counts():
    msg = shot_zone_disagreement_message(_flagged(7))
    assert msg.startswith("7 player-game(s) where the shot chart and the box score disagree (kept, "
                          "has_complete_shot_zones = false); first 5: 0022200000 player0: zone_mismatch:fga 0; ")
    assert msg.count("player") == 1 + 5 and "player4" in msg and "player5" not in msg
    # few: every one listed, no "first N"
    msg = shot_zone_disagreement_message(_flagged(3))
    assert msg == ("3 player-game(s) where the shot chart and the box score disagree (kept, has_complete_shot_zones "
                   "= false): 0022200000 player0: zone_mismatch:fga 0; 0022200001 player1: zone_mismatch:fga 1; "
                   "0022200002 player2: zone_mismatch:fga 2")
    assert "first" not in shot_zone_disagreement_message(_flagged(5))
