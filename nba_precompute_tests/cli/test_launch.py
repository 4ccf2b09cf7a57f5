"""``nba-precompute launch`` / ``seasons``: seasons and dates become the partition range of `dg launch`;
a date that is not a partition is one line naming the nearest game dates, before Dagster starts."""

import datetime as dt
import os
import subprocess
import sys

import pytest

from nba_precompute.cli import main
from nba_precompute.cli.common import UsageError
from nba_precompute.cli.launch import partition_range
from nba_precompute.partitions import game_calendar
from nba_precompute.runs import box_score_free, dg_command, plan_runs

D = dt.date


@pytest.fixture(scope="module")
def calendar(raw_data_dir):
    return game_calendar(raw_data_dir)


def test_every_selection_becomes_a_partition_range(calendar):
    days, note = partition_range(calendar, None, None, None, all_seasons=True)
    assert (days[0], days[-1], len(days), note) == (D(2020, 12, 22), D(2026, 2, 10), 1358, "")
    days, note = partition_range(calendar, None, None, "2023-24", False)  # opening night to the eve of 2024-25
    assert (days[0], days[-1], len(days), note) == (D(2023, 10, 24), D(2024, 10, 21), 364, "")
    days, note = partition_range(calendar, None, None, "2025-26", False)  # the season in progress
    assert days[-1] == D(2026, 2, 10) and "partitions through 2026-02-10 (tonight's slate" in note
    days, note = partition_range(calendar, D(2023, 4, 1), D(2023, 7, 1), None, False)  # off-season days included
    assert (days[0], days[-1], len(days), note) == (D(2023, 4, 1), D(2023, 7, 1), 92, "")
    assert dg_command("*", days)[1:] == ["launch", "--assets", "*", "--partition-range", "2023-04-01...2023-07-01"]
    assert dg_command("*", [D(2023, 2, 1)])[-2:] == ["--partition", "2023-02-01"]


def test_tonight_runs_without_box_score_tables_and_a_missing_season_splits_the_runs(calendar):
    days, note = partition_range(calendar, D(2026, 2, 8), D(2026, 2, 12), None, False)
    assert days == [D(2026, 2, 8), D(2026, 2, 9), D(2026, 2, 10)] and "2026-02-12 is after tonight's slate" in note
    (a, first), (b, second) = plan_runs(calendar, days, "*")
    assert (a, first) == ("*", [D(2026, 2, 8), D(2026, 2, 9)])
    assert second == [D(2026, 2, 10)] and b == box_score_free("*")
    assert 'not (key:"nba_analytics/player_game_summary" or' in b
    runs = plan_runs(calendar, partition_range(calendar, None, None, None, True)[0], "*")
    assert [(r[1][0], r[1][-1]) for r in runs] == [(D(2020, 12, 22), D(2021, 5, 16)), (D(2022, 10, 18), D(2026, 2, 9)),
                                                    (D(2026, 2, 10), D(2026, 2, 10))]


@pytest.mark.parametrize(("start", "end", "season", "message"), [
    (D(2021, 12, 1), None, None, "2021-12-01: no season of the raw data covers this day (2020-21 ends 2021-05-16"),
    (D(2026, 2, 11), None, None, "2026-02-11 is after tonight's slate 2026-02-10: it can run once every night "
                                 "before it is in the raw data; the box scores of 2026-02-10 are not in yet "
                                 "(4 game(s): 0022500771, 0022500772, 0022500773, 0022500774)"),
    (D(2021, 7, 1), D(2021, 8, 1), None, "2021-07-01..2021-08-01 holds no partition"),
    (D(2023, 3, 1), D(2023, 2, 1), None, "END 2023-02-01 is before START 2023-03-01"),
    (None, None, "2021-22", "season 2021-22 is not in the raw data; seasons: 2020-21, 2022-23, 2023-24, 2024-25, 2025-26"),
    (None, None, None, "say what to launch"),
])
def test_bad_selections_are_one_clear_line(calendar, start, end, season, message):
    with pytest.raises(UsageError) as err:
        partition_range(calendar, start, end, season, False)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_the_console_command_refuses_before_dagster_starts(capsys, monkeypatch, raw_data_dir):
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw_data_dir))
    assert main(["launch", "2026-02-11"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: 2026-02-11 is after tonight's slate 2026-02-10")
    assert main(["launch", "--season", "2022-23", "--dry-run"]) == 0
    assert "dg launch --assets '*' --partition-range 2022-10-18...2023-10-23" in capsys.readouterr().out
    monkeypatch.setenv("NBA_RAW_DATA_DIR", "/nonexistent/raw")
    assert main(["launch", "--all-seasons", "--dry-run"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "schedule.csv.gz: raw file not found (set NBA_RAW_DATA_DIR" in line


def test_seasons_lists_partitions_shot_charts_and_tonight(capsys, monkeypatch, raw_data_dir):
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw_data_dir))
    assert main(["seasons"]) == 0
    out = capsys.readouterr().out
    assert "2024-25  2024-10-22         163         364  2025-10-20  2025-04-13    none published (zone columns NULL)" in out
    assert "2025-26  2025-10-21         110         113  2026-02-10  2026-04-12" in out
    assert "all seasons: 1358 partitions (737 game dates), 2020-12-22...2026-02-10" in out
    assert ("tonight: 2026-02-10, 4 game(s) scheduled (0022500771, 0022500772, 0022500773, 0022500774); last night "
            "in the raw data: 2026-02-09; run it with: nba-precompute launch 2026-02-10") in out


def test_ui_runs_dg_dev_on_the_project_instance(capsys, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr("nba_precompute.runs.run_in_own_session",
                        lambda cmd, env: calls.append((cmd, env)) or 0)
    (tmp_path / ".dagster_home").mkdir()
    (tmp_path / ".dagster_home" / "dagster.yaml").write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["ui", "--port", "3111"]) == 0
    (cmd, env), = calls
    assert cmd[1:] == ["dev", "--port", "3111"] and cmd[0].endswith("dg")
    assert env["DAGSTER_HOME"] == str((tmp_path / ".dagster_home").resolve())
    assert "dg dev --port 3111" in capsys.readouterr().err
    # an explicit DAGSTER_HOME wins
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    assert main(["ui"]) == 0
    assert calls[-1][1]["DAGSTER_HOME"] == str(tmp_path / "elsewhere") and calls[-1][0][1:] == ["dev"]


def test_the_console_script_launches_without_importing_dagster(raw_data_dir):
    """`nba-precompute launch/seasons/ui` and every --help start without Dagster (dg loads it in its own
    process); validate and refresh import it when they run."""
    code = ("import sys; from nba_precompute.cli import main; "
            "rc = main(sys.argv[1:]); "
            "print(rc, sorted(m for m in sys.modules if m == 'dagster' or m.startswith('dagster.')))")
    env = {**os.environ, "NBA_RAW_DATA_DIR": str(raw_data_dir)}
    out = subprocess.run([sys.executable, "-c", code, "launch", "--season", "2022-23", "--dry-run"], env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0 []"
    seasons = subprocess.run([sys.executable, "-c", code, "seasons"], env=env, capture_output=True, text=True,
                             check=True)
    assert seasons.stdout.strip().splitlines()[-1] == "0 []"
    assert "371 partition(s): dg launch --assets '*' --partition-range 2022-10-18...2023-10-23" in out.stdout
    helped = subprocess.run([sys.executable, "-m", "nba_precompute.cli", "--help"], env=env,
                            capture_output=True, text=True)
    assert helped.returncode == 0 and "{validate,refresh,launch,seasons,ui}" in helped.stdout
    bad = subprocess.run([sys.executable, "-m", "nba_precompute.cli", "launch", "2021-12-01"], env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: 2021-12-01: no season of the raw data covers")


def test_a_bare_year_is_refused_naming_both_seasons(capsys, monkeypatch, raw_data_dir):
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw_data_dir))
    # the shot files name seasons by their end year, the partitions by the start year: 2023 is either
    assert main(["launch", "--season", "2023", "--dry-run"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("error: season '2023' is ambiguous: 2022-23 or 2023-24?")
    assert "--season 2023-24" in line
    assert main(["launch", "--season", "2023-24", "--dry-run"]) == 0
    assert "--partition-range 2023-10-24..." in capsys.readouterr().out


@pytest.mark.parametrize(("assets", "problem"), [
    ("nosuch*", "selects no asset to materialise"),
    ("group:phase4_precomput", "selects no asset to materialise"),  # a mistyped group
    ("group:raw", "selects no asset to materialise"),  # the raw files: external, never materialised
    ("key:\"x", "is not an asset selection (Invalid selection string"),
])
def test_an_asset_selection_that_matches_nothing_is_a_usage_error(capsys, monkeypatch, raw_data_dir, assets,
                                                                   problem):
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw_data_dir))
    started = []
    monkeypatch.setattr("nba_precompute.runs.subprocess.call", lambda cmd, env: started.append(cmd) or 1)
    assert main(["launch", "--assets", assets, "2023-01-05"]) == 2
    assert started == []  # refused before dg starts
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith(f"error: --assets {assets!r} {problem}")
    assert "asset groups: group:phase3_analytics, group:phase4_precompute, group:phase4_predictions" in line


def test_a_valid_asset_selection_is_launched(capsys, monkeypatch, raw_data_dir):
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw_data_dir))
    assert main(["launch", "--dry-run", "--assets", "nba_precompute/player_daily_cache*", "2023-01-05"]) == 0
    assert "dg launch --assets 'nba_precompute/player_daily_cache*' --partition 2023-01-05" in capsys.readouterr().out


BOX_ONLY = 'key:"nba_analytics/player_game_summary" or key:"nba_analytics/team_offense_game_summary"'


def test_box_score_tables_alone_have_no_run_tonight(calendar):
    days = [D(2026, 2, 8), D(2026, 2, 9), D(2026, 2, 10)]
    assert plan_runs(calendar, days, BOX_ONLY, box_scores_only=True) == [(BOX_ONLY, days[:2])]
    assert plan_runs(calendar, days[-1:], BOX_ONLY, box_scores_only=True) == []


def test_a_box_score_selection_over_tonight_drops_tonight_and_says_why(capsys, monkeypatch, raw_data_dir):
    """dg launch refuses a selection that selects nothing: tonight's box-score-free run of a selection of
    box-score tables only is not planned (issue 19)."""
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw_data_dir))
    assert main(["launch", "--dry-run", "--assets", BOX_ONLY, "2026-02-08", "2026-02-10"]) == 0
    out = capsys.readouterr().out
    assert (f"2 partition(s): dg launch --assets '{BOX_ONLY}' --partition-range 2026-02-08...2026-02-09") in out
    assert "2026-02-10 is tonight's slate: its box scores are not in yet" in out and "no run for 2026-02-10" in out
    assert "2026-02-10" not in "".join(ln for ln in out.splitlines() if "dg launch" in ln)
    # tonight alone: nothing to launch, a usage error before dg starts
    assert main(["launch", "--dry-run", "--assets", BOX_ONLY, "2026-02-10"]) == 2
    out, err = capsys.readouterr()
    assert "dg launch" not in out
    (line,) = err.strip().splitlines()
    assert line.startswith("error: 2026-02-10 is tonight's slate: its box scores are not in yet") and \
        line.endswith("nothing to launch")
    # a selection with a pre-game table keeps tonight's run (without the box-score tables)
    mixed = 'key:"nba_analytics/player_game_summary" or key:"nba_analytics/nba_schedule"'
    assert main(["launch", "--dry-run", "--assets", mixed, "2026-02-10"]) == 0
    out = capsys.readouterr().out
    assert f"1 partition(s): dg launch --assets '{box_score_free(mixed)}' --partition 2026-02-10" in out
