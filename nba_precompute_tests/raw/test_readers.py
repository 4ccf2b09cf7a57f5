"""Bad input gets a clear error naming the file and the problem."""

import gzip
import io
import zipfile
from pathlib import Path

import polars as pl
import pytest

from nba_precompute.raw import readers
from nba_precompute.raw.readers import RawDataError

SCHEDULE_CSV = (
    "season,game_date,game_id_nba,home_team_id,away_team_id,home_team_tricode,away_team_tricode\n"
    "2022,2022-10-18,22200001,1610612738,1610612755,BOS,PHI\n"
)
SHOTS_HEADER = ("GAME_ID,GAME_DATE,TEAM_ID,PLAYER_ID,SHOT_MADE,SHOT_TYPE,BASIC_ZONE,SHOT_DISTANCE\n")
SHOTS_ROW = "22200001,10-18-2022,1610612738,1627759,TRUE,2PT Field Goal,Restricted Area,1\n"


def _write_gz(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as fh:
        fh.write(text)


def _write_zip(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("NBA_2023_Shots.csv", text)
        zf.writestr("__MACOSX/._NBA_2023_Shots.csv", "junk")


def test_schedule_restores_leading_zeros(tmp_path):
    _write_gz(tmp_path / readers.SCHEDULE_FILE, SCHEDULE_CSV)
    df = readers.read_schedule(tmp_path)
    assert df.get_column("game_id").to_list() == ["0022200001"]
    assert df.schema["game_date"] == pl.Date


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(RawDataError, match=r"schedule\.csv\.gz: raw file not found"):
        readers.read_schedule(tmp_path)


def test_missing_column_names_the_column(tmp_path):
    _write_gz(tmp_path / readers.SCHEDULE_FILE, SCHEDULE_CSV.replace("game_id_nba", "gid"))
    with pytest.raises(RawDataError, match=r"schedule\.csv\.gz: missing required column\(s\) \['game_id_nba'\]"):
        readers.read_schedule(tmp_path)


def test_unparseable_date_names_column_and_value(tmp_path):
    _write_gz(tmp_path / readers.SCHEDULE_FILE, SCHEDULE_CSV.replace("2022-10-18", "18/10/2022"))
    with pytest.raises(RawDataError, match=r"column 'game_date' has 1 unparseable value\(s\), e\.g\. \['18/10/2022'\]"):
        readers.read_schedule(tmp_path)


def test_unparseable_minutes_is_an_error_not_a_null(tmp_path):
    header = ("game_id,team_id,team_tricode,person_id,first_name,family_name,position,comment,minutes,"
              "plus_minus_points," + ",".join(readers._BOX_COUNTS) + "\n")
    counts = ",".join("1" for _ in readers._BOX_COUNTS)
    good = f"0022200001,1,BOS,7,A,B,,,12:30,1.0,{counts}\n"
    bad = f"0022200001,1,BOS,8,C,D,,,twelve,1.0,{counts}\n"
    _write_gz(tmp_path / readers.PLAYER_BOXSCORE_FILE, header + good)
    df = readers.read_player_boxscores(tmp_path)
    assert df.get_column("minutes_played").to_list() == [12.5]
    _write_gz(tmp_path / readers.PLAYER_BOXSCORE_FILE, header + good + bad)
    with pytest.raises(RawDataError, match=r"player_game_logs1\.csv\.gz: column 'minutes' .*'twelve'"):
        readers.read_player_boxscores(tmp_path)


def test_truncated_gzip(tmp_path):
    path = tmp_path / readers.SCHEDULE_FILE
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as fh:
        fh.write(SCHEDULE_CSV.encode() * 200)
    path.parent.mkdir(parents=True)
    path.write_bytes(buf.getvalue()[:-30])
    with pytest.raises(RawDataError, match=r"schedule\.csv\.gz: truncated or corrupt file"):
        readers.read_schedule(tmp_path)


def test_truncated_zip(tmp_path):
    path = tmp_path / readers.SHOTS_FILE.format(end_year=2023)
    _write_zip(path, SHOTS_HEADER + SHOTS_ROW * 50)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(RawDataError, match=r"NBA_2023_Shots\.csv\.zip: truncated or corrupt file"):
        readers.read_shots(tmp_path, 2023)


def test_shots_read_and_unknown_shot_type(tmp_path):
    path = tmp_path / readers.SHOTS_FILE.format(end_year=2023)
    _write_zip(path, SHOTS_HEADER + SHOTS_ROW)
    df = readers.read_shots(tmp_path, 2023)
    assert df.row(0, named=True)["game_id"] == "0022200001"
    assert df.row(0, named=True)["shot_made"] is True
    _write_zip(path, SHOTS_HEADER + SHOTS_ROW.replace("2PT Field Goal", "Free Throw"))
    with pytest.raises(RawDataError, match=r"SHOT_TYPE.*Free Throw"):
        readers.read_shots(tmp_path, 2023)


def test_minutes_rounding_artefact_60_seconds_is_a_full_minute():
    df = pl.DataFrame({"m": ["17:60", "0:00", "35:07", None]})
    got = df.select(readers.minutes_expr("m")).to_series().to_list()
    assert got[0] == pytest.approx(18.0) and got[1] == 0.0 and got[2] == pytest.approx(35 + 7 / 60)
    assert got[3] is None


def test_fractional_count_is_unparseable_not_truncated_and_the_line_is_named(tmp_path):
    header = ("game_id,team_id,team_tricode,person_id,first_name,family_name,position,comment,minutes,"
              "plus_minus_points," + ",".join(readers._BOX_COUNTS) + "\n")
    counts = ",".join("1" for _ in readers._BOX_COUNTS)
    good = f"0022200001,1,BOS,7,A,B,,,12:30,1.0,{counts}\n"
    bad = f"0022200001,1,BOS,8,C,D,,,12:30,1.0,2.5{counts[1:]}\n"
    _write_gz(tmp_path / readers.PLAYER_BOXSCORE_FILE, header + good + good.replace(",7,", ",9,") + bad)
    with pytest.raises(RawDataError, match=r"column 'field_goals_made' has 1 unparseable value\(s\), e\.g\. "
                                           r"\['2\.5'\] \(first at line\(s\) \[4\]\)"):
        readers.read_player_boxscores(tmp_path)


def _real_team_logs_with(raw_data_dir: Path, tmp_path: Path, line: int, change) -> tuple[Path, str]:
    """A copy of the real team game logs with line ``line`` (1-based, header = 1) replaced by
    ``change(its text)``; returns the copy's directory and the new line."""
    src = raw_data_dir / readers.TEAM_GAME_LOG_FILE
    with gzip.open(src, "rt") as fh:
        lines = fh.read().splitlines()
    assert len(lines) > 2000
    lines[line - 1] = change(lines[line - 1])
    _write_gz(tmp_path / readers.TEAM_GAME_LOG_FILE, "\n".join(lines) + "\n")
    return tmp_path, lines[line - 1]


@pytest.mark.real_data
@pytest.mark.parametrize("change, what", [
    (lambda line: '"oops', "a quote opened on this line is not closed on it"),
    (lambda line: line + ",7,8", "field(s) where the header has"),
], ids=["stray quote", "extra fields"])
def test_a_malformed_line_is_named_in_one_short_line(tmp_path, raw_data_dir, change, what):
    """A stray quote (polars' own error quotes thousands of rows) or a record with more fields than the
    header in a mutated copy of the real team game logs: one short message naming the file, the line,
    what is wrong and the line's text."""
    raw, text = _real_team_logs_with(raw_data_dir, tmp_path, 1001, change)
    with pytest.raises(RawDataError) as err:
        readers.read_team_game_logs(raw)
    message = str(err.value)
    assert message.startswith(f"{raw / readers.TEAM_GAME_LOG_FILE}: malformed CSV at line 1001: ")
    assert what in message and f"the line reads {text[:120]!r}" in message
    assert "\n" not in message and len(message) < 800
