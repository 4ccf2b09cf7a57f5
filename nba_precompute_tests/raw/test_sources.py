"""RawSources shared between the game calendar and the Phase 3 steps of a run: the box scores are parsed
once per run process, and never reused once a file has changed."""

import datetime as dt
import os

import pytest

from nba_precompute.defs.resources import RawDataResource
from nba_precompute.partitions import GameCalendar, game_calendar
from nba_precompute.raw import readers
from nba_precompute.raw.sources import RawSources, raw_fingerprint
from nba_precompute_tests.raw_copies import HOOPR, season_copy

NIGHT = dt.date(2026, 2, 9)  # box scores of the nights before it are in the copy


@pytest.fixture
def raw(raw_data_dir, tmp_path):
    season_copy(raw_data_dir, tmp_path, 2025, NIGHT)
    return tmp_path


@pytest.fixture
def box_score_parses(monkeypatch):
    calls = []
    real = readers.read_player_boxscores

    def counting(raw_dir):
        calls.append(raw_dir)
        return real(raw_dir)

    monkeypatch.setattr(readers, "read_player_boxscores", counting)
    return calls


def test_a_run_parses_the_box_scores_once(raw, box_score_parses):
    calendar = game_calendar(raw)  # as the run process loads the definitions
    resource = RawDataResource(directory=str(raw))
    resource.setup_for_execution(None)
    inputs = resource.phase3_inputs(NIGHT - dt.timedelta(days=1), NIGHT - dt.timedelta(days=1))
    assert inputs.player_boxscores.height > 0
    assert len(box_score_parses) == 1
    # the calendar is the one of the directory's files, parsed afresh
    fresh = GameCalendar.from_game_dates(RawSources(raw).game_dates())
    assert len(box_score_parses) == 2
    assert calendar.seasons.equals(fresh.seasons) and calendar.game_dates == fresh.game_dates
    assert calendar.not_in == fresh.not_in and calendar.tonight == NIGHT
    # handed over once: another run of the same process parses its own
    other = RawDataResource(directory=str(raw))
    other.setup_for_execution(None)
    other.phase3_inputs(NIGHT - dt.timedelta(days=1), NIGHT - dt.timedelta(days=1))
    assert len(box_score_parses) == 3


def test_a_changed_file_is_parsed_again(raw):
    kept = RawSources.for_calendar(raw, raw_fingerprint(raw))
    assert RawSources.take(raw) is kept
    assert RawSources.take(raw) is not kept  # once only
    kept = RawSources.for_calendar(raw, raw_fingerprint(raw))
    box = raw / HOOPR / "player_game_logs1.csv.gz"
    os.utime(box, ns=(box.stat().st_atime_ns, box.stat().st_mtime_ns + 1_000_000_000))  # a new file landed
    assert RawSources.take(raw) is not kept
