"""What a Phase 4 asset reads: each upstream over its window (``factory.read_inputs``)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from nba_precompute.defs.phase4.factory import read_inputs
from nba_precompute.defs.phase4.tables import MLFS, PDC
from nba_precompute.schemas import PLAYER_GAME_SUMMARY, TEAM_OFFENSE_GAME_SUMMARY


class _Reads:
    kind = "memory"

    def __init__(self):
        self.reads: dict[str, tuple] = {}

    def read(self, table, start=None, end=None, columns=None):
        self.reads[table.qualified_name] = (start, end)
        return pl.DataFrame()


def test_only_mlfs_player_history_reaches_365_days_back():
    opening, start, end = dt.date(2023, 10, 24), dt.date(2023, 11, 10), dt.date(2023, 11, 12)
    schedule = pl.DataFrame()
    wh = _Reads()
    read_inputs(wh, MLFS, schedule, opening, start, end)
    # games vs this opponent: [D - 365 days, D) for every D of the run, across seasons
    assert wh.reads[PLAYER_GAME_SUMMARY.qualified_name] == (dt.date(2022, 11, 10), end)
    assert wh.reads[TEAM_OFFENSE_GAME_SUMMARY.qualified_name] == (opening, end)
    wh = _Reads()
    read_inputs(wh, PDC, schedule, opening, start, end)
    assert wh.reads[PLAYER_GAME_SUMMARY.qualified_name] == (opening, end)
