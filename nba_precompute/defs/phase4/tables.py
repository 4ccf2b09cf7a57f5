"""The five Phase 4 tables, each declared once.

A :class:`Phase4Table` says everything the platform needs to know about a Phase 4 table: its
warehouse declaration (``schemas.py``), the pure Polars transform that computes it, which upstream
tables it reads over which window and under which transform parameter, its minimum games (the
INCOMPLETE_DATA threshold), the expected incomplete-rate bands of its ``incomplete_rate_within_band`` check, its
value ranges (the PROCESSING_ERROR rules beyond "every fraction in [0, 1]") and the universe the
validation report counts it against. :mod:`nba_precompute.defs.phase4.factory` builds the asset, its
reads, its failure records and its four asset checks from this declaration alone.

Adding a sixth table: declare its columns in ``schemas.py``, write its transform in
``transforms/`` (frames in, ``(rows, failures)`` out) and append one ``Phase4Table`` to
:data:`PHASE4_TABLES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from nba_precompute.schemas import (
    ML_FEATURE_STORE_V2,
    NBA_SCHEDULE,
    PLAYER_COMPOSITE_FACTORS,
    PLAYER_DAILY_CACHE,
    PLAYER_GAME_SUMMARY,
    PLAYER_SHOT_ZONE_ANALYSIS,
    TEAM_DEFENSE_GAME_SUMMARY,
    TEAM_DEFENSE_ZONE_ANALYSIS,
    TEAM_OFFENSE_GAME_SUMMARY,
    UPCOMING_PLAYER_GAME_CONTEXT,
    UPCOMING_TEAM_GAME_CONTEXT,
    TableSpec,
)
from nba_precompute.transforms import mlfs, pcf, pdc, psza, tdza
from nba_precompute.transforms.quality import Band, RangeRule, bands, ranges
from nba_precompute.transforms.validation import PLAYERS_BEFORE, TEAMS_BEFORE, UPCOMING_PLAYERS

# Upstream windows, relative to the analysis date D of each partition:
SAME_DAY = "same_day"  # partition D only (a Phase 4 table of the same day, the upcoming context of D)
BEFORE = "before"      # the season's history: every partition from opening night to D - 1 (the as-of rule)
THROUGH = "through"    # the season's history and D itself
WINDOWS = (SAME_DAY, BEFORE, THROUGH)

PRECOMPUTE_GROUP = "phase4_precompute"
PREDICTIONS_GROUP = "phase4_predictions"


@dataclass(frozen=True)
class Upstream:
    """One upstream table of a Phase 4 table.

    ``window`` is one of :data:`WINDOWS`; ``param`` the transform parameter that receives the rows
    (``None``: a declared dependency the transform does not read, e.g. the schedule for MLFS);
    ``columns`` an optional projection of the read. ``lookback_days``: a ``before`` / ``through``
    window that reaches further back than the season's opening night, to ``lookback_days`` before the
    run's first day (MLFS's games vs this opponent: the 365 days before D, across seasons).
    """

    table: TableSpec
    window: str
    param: str | None
    columns: tuple[str, ...] | None = None
    lookback_days: int | None = None

    def __post_init__(self) -> None:
        if self.window not in WINDOWS:
            raise ValueError(f"{self.table.qualified_name}: unknown upstream window {self.window!r}, "
                             f"expected one of {WINDOWS}")


@dataclass(frozen=True)
class Phase4Table:
    """A Phase 4 table, declared once (see the module docstring).

    ``transform(**{param: rows for each upstream}, start=, end=, dates=)`` (``dates``: the run's
    partitions, the game dates of [start, end]) returns ``(rows, failures)`` for those dates: rows
    with ``spec.data_columns``, failures with ``schemas.FAILURE_COLUMNS`` whose ``processor`` is
    :attr:`processor`. ``minimum_games`` is ``None`` for tables without a minimum of their own (PCF,
    MLFS write every player playing on D).
    """

    spec: TableSpec
    abbreviation: str  # TDZA, PSZA, ... (logs, benchmark, README)
    transform: Callable[..., tuple[pl.DataFrame, pl.DataFrame]]
    upstream: tuple[Upstream, ...]
    group: str
    universe: str
    minimum_games: int | None = None
    bands: tuple[Band, ...] = ()
    ranges: tuple[RangeRule, ...] = ()

    @property
    def processor(self) -> str:
        """The ``processor`` value of this table's rows in ``nba_processing.precompute_failures``."""
        return self.spec.name


TDZA = Phase4Table(
    spec=TEAM_DEFENSE_ZONE_ANALYSIS,
    abbreviation="TDZA",
    transform=tdza.build_team_defense_zone_analysis,
    upstream=(Upstream(TEAM_DEFENSE_GAME_SUMMARY, BEFORE, "team_defense"),
              Upstream(NBA_SCHEDULE, THROUGH, "schedule")),
    group=PRECOMPUTE_GROUP,
    universe=TEAMS_BEFORE,
    minimum_games=tdza.MIN_GAMES,
    # derived from the real 2022-23 season (README "Expected bands"): weeks 1-4 100 %, week 5 7-87 %
    # (teams reach 15 games), week 6 on 0 %
    bands=bands((1, 5, 1.00), (6, None, 0.10)),
    ranges=ranges("reference §2.8", {
        "paint_attempts_allowed_per_game": (0, 100),
        "mid_range_attempts_allowed_per_game": (0, 100),
        "three_pt_attempts_allowed_per_game": (0, 100),
        "paint_points_allowed_per_game": (0, 150),
        "defensive_rating_last_15": (70, 140),
        "opponent_points_per_game": (70, 150),
        "paint_defense_vs_league_avg": (-1, 1),
        "mid_range_defense_vs_league_avg": (-1, 1),
        "three_pt_defense_vs_league_avg": (-1, 1),
        "games_in_sample": (0, 15),
    }),
)

PSZA = Phase4Table(
    spec=PLAYER_SHOT_ZONE_ANALYSIS,
    abbreviation="PSZA",
    transform=psza.build_player_shot_zone_analysis,
    upstream=(Upstream(PLAYER_GAME_SUMMARY, BEFORE, "player_games"),
              Upstream(NBA_SCHEDULE, THROUGH, "schedule")),
    group=PRECOMPUTE_GROUP,
    universe=PLAYERS_BEFORE,
    minimum_games=psza.MIN_GAMES,
    # SPEC §6 defaults
    bands=bands((1, 3, 1.00), (4, 4, 0.60), (5, 8, 0.40), (9, None, 0.25)),
    ranges=ranges("reference §2.8", {
        "paint_attempts_per_game": (0, 40),
        "mid_range_attempts_per_game": (0, 40),
        "three_pt_attempts_per_game": (0, 40),
        "games_in_sample_10": (0, 10),
        "games_in_sample_20": (0, 20),
        "total_shots_last_10": (0, 400),
    }),
)

PCF = Phase4Table(
    spec=PLAYER_COMPOSITE_FACTORS,
    abbreviation="PCF",
    transform=pcf.build_player_composite_factors,
    upstream=(Upstream(PLAYER_SHOT_ZONE_ANALYSIS, SAME_DAY, "psza", columns=pcf.PSZA_INPUT),
              Upstream(TEAM_DEFENSE_ZONE_ANALYSIS, SAME_DAY, "tdza", columns=pcf.TDZA_INPUT),
              Upstream(UPCOMING_PLAYER_GAME_CONTEXT, SAME_DAY, "upcg"),
              Upstream(UPCOMING_TEAM_GAME_CONTEXT, SAME_DAY, "uptgc", columns=pcf.UPTGC_INPUT),
              Upstream(PLAYER_GAME_SUMMARY, BEFORE, "present_games",
                       columns=("game_id", "team_abbr", "season_year", "paint_attempts")),
              Upstream(NBA_SCHEDULE, THROUGH, "schedule")),
    group=PRECOMPUTE_GROUP,
    universe=UPCOMING_PLAYERS,
    ranges=ranges("reference §6.4", {
        "fatigue_score": (0, 100),
        "shot_zone_mismatch_score": (-15, 15),
        "pace_score": (-8, 8),
        "usage_spike_score": (-8, 8),
        "referee_favorability_score": (-10, 10),
        "look_ahead_pressure_score": (-5, 5),
        "travel_impact_score": (-5, 5),
        "opponent_strength_score": (-10, 10),
        "total_composite_adjustment": (-30, 30),
    }),
)

PDC = Phase4Table(
    spec=PLAYER_DAILY_CACHE,
    abbreviation="PDC",
    transform=pdc.build_player_daily_cache,
    upstream=(Upstream(UPCOMING_PLAYER_GAME_CONTEXT, SAME_DAY, "upcg"),
              Upstream(PLAYER_SHOT_ZONE_ANALYSIS, SAME_DAY, "psza", columns=pdc.PSZA_INPUT),
              Upstream(PLAYER_GAME_SUMMARY, BEFORE, "player_games"),
              Upstream(TEAM_OFFENSE_GAME_SUMMARY, BEFORE, "team_offense"),
              Upstream(NBA_SCHEDULE, THROUGH, "schedule")),
    group=PRECOMPUTE_GROUP,
    universe=UPCOMING_PLAYERS,
    minimum_games=pdc.MIN_GAMES,
    # derived from the real 2022-23 season with the pre-game universe (its day maxima: week 1 37 %,
    # week 2 36 %, week 3 18 %, weeks 4-5 13 %, weeks 6-8 7 %, week 9 on 5 %), with head-room
    bands=bands((1, 1, 1.00), (2, 2, 0.45), (3, 3, 0.25), (4, 5, 0.15), (6, 8, 0.10), (9, None, 0.06)),
    ranges=ranges("true shooting definition", {"ts_pct_last_10": (0, 1.5)}),
)

MLFS = Phase4Table(
    spec=ML_FEATURE_STORE_V2,
    abbreviation="MLFS",
    transform=mlfs.build_ml_feature_store,
    upstream=(Upstream(PLAYER_DAILY_CACHE, SAME_DAY, "pdc", columns=mlfs.PDC_INPUT),
              Upstream(PLAYER_COMPOSITE_FACTORS, SAME_DAY, "pcf", columns=mlfs.PCF_INPUT),
              Upstream(PLAYER_SHOT_ZONE_ANALYSIS, SAME_DAY, "psza", columns=mlfs.PSZA_INPUT),
              Upstream(TEAM_DEFENSE_ZONE_ANALYSIS, SAME_DAY, "tdza", columns=mlfs.TDZA_INPUT),
              Upstream(UPCOMING_PLAYER_GAME_CONTEXT, SAME_DAY, "upcg"),
              Upstream(PLAYER_GAME_SUMMARY, BEFORE, "player_games", lookback_days=mlfs.OPPONENT_DAYS),
              Upstream(TEAM_OFFENSE_GAME_SUMMARY, BEFORE, "team_offense"),
              Upstream(NBA_SCHEDULE, THROUGH, None)),
    group=PREDICTIONS_GROUP,
    universe=UPCOMING_PLAYERS,
    ranges=ranges("reference §6.4", {"fatigue_score": (0, 100)}),
)

# In dependency order (a table's same-day upstreams come before it).
PHASE4_TABLES: tuple[Phase4Table, ...] = (TDZA, PSZA, PCF, PDC, MLFS)
PHASE4_BY_NAME = {t.spec.name: t for t in PHASE4_TABLES}
