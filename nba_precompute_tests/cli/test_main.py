"""The ``nba-precompute`` program as a package (issue 19): every command's ``--help`` is complete and
plain text, plans go to stdout and diagnostics to stderr, nothing outside ``nba_precompute/cli/``
imports it, and Dagster's beta warning stays out of the ``dg`` runs' output."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nba_precompute import runs
from nba_precompute.cli import main
from nba_precompute.cli.main import COMMANDS, build_parser

PACKAGE = Path(__file__).resolve().parents[2] / "nba_precompute"
REST = re.compile(r"`|:(func|mod|class|data|meth|attr|ref):")


def _help(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_is_plain_and_complete(capsys, command):
    text = _help(capsys, [command] if command else [])
    assert not REST.search(text), REST.search(text)
    usage, description, *rest = text.split("\n\n")
    assert usage.startswith("usage: nba-precompute" + (f" {command}" if command else ""))
    # the description is whole sentences (nothing cut mid-sentence), the epilog too when there is one
    paragraphs = [p for p in text.split("\n\n")[1:] if not p.lstrip().startswith(("positional", "options:"))
                  and not p.startswith(" ")]
    assert paragraphs and all(p.rstrip().endswith(".") for p in paragraphs), paragraphs
    assert description[0].isupper()
    # every argument and every command says what it is
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    actions = sub._choices_actions if command is None else sub.choices[command]._actions
    assert all(a.help for a in actions), [a.dest for a in actions if not a.help]


def test_nothing_outside_the_cli_package_imports_it():
    importers = []
    for path in PACKAGE.rglob("*.py"):
        if PACKAGE / "cli" in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                     if isinstance(node, ast.ImportFrom) else [])
            if any(n == "nba_precompute.cli" or n.startswith("nba_precompute.cli.") for n in names):
                importers.append(str(path.relative_to(PACKAGE)))
    assert importers == []


def test_the_launch_plan_is_on_stdout_and_diagnostics_on_stderr(capsys, monkeypatch, raw_data_dir, tmp_path):
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw_data_dir))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./.dagster_home: the note that the run is not kept
    assert main(["launch", "--dry-run", "2026-02-08", "2026-02-12"]) == 0
    out, err = capsys.readouterr()
    narrowed, *plan = out.splitlines()
    assert narrowed.startswith("note: 2026-02-08..2026-02-12: its partitions are 2026-02-08...2026-02-10; ")
    assert plan == [
        "note: 2026-02-10 is tonight's slate: its pre-game tables are built now, its box-score tables when its box "
        "scores arrive",
        "2 partition(s): dg launch --assets '*' --partition-range 2026-02-08...2026-02-09",
        "1 partition(s): dg launch --assets " + "'" + runs.box_score_free("*").replace("'", "'\"'\"'") + "'"
        + " --partition 2026-02-10",
    ]
    (note,) = err.splitlines()
    assert note.startswith("note: DAGSTER_HOME is not set")


def _child(code: str, env: dict[str, str]) -> str:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                          timeout=300).stderr


def test_dg_runs_get_no_dagster_beta_warning_and_every_other_warning(monkeypatch):
    """The environment of the dg commands ignores the asset-selection parser's BetaWarning, which every
    dg launch printed first, and the one on the sensor's owners, which loading the definitions printed,
    and nothing else."""
    code = ("import warnings; from dagster import AssetSelection; AssetSelection.from_string('*'); "
            "from nba_precompute.definitions import defs; defs().resolve_all_job_defs(); warnings.warn('another warning')")
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    env, _ = runs.project_env()
    plain = {k: v for k, v in env.items() if k != "PYTHONWARNINGS"}
    printed = _child(code, plain)  # what dg launch prints otherwise
    assert "BetaWarning: Parameter `include_sources`" in printed and "BetaWarning: Parameter `owners`" in printed
    err = _child(code, env)
    assert "BetaWarning" not in err and "UserWarning: another warning" in err
    # filters set by the user stay, ahead of the project's
    monkeypatch.setenv("PYTHONWARNINGS", "error::ResourceWarning")
    assert runs.project_env()[0]["PYTHONWARNINGS"].split(",")[0] == "error::ResourceWarning"


@pytest.mark.parametrize("command", [["validate", "2022-10-18"], ["refresh", "--dry-run"]])
def test_a_warehouse_error_is_the_first_and_only_line_on_stderr(tmp_path, raw_data_dir, command):
    """validate and refresh import Dagster: what they print on stderr starts with their own line, no
    warning before it."""
    env = {**os.environ, "NBA_RAW_DATA_DIR": str(raw_data_dir)}
    res = subprocess.run([sys.executable, "-m", "nba_precompute.cli", *command, "--duckdb-path",
                          str(tmp_path / "absent.duckdb")], env=env, capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[2])
    assert res.returncode == 3 and res.stdout == ""
    (line,) = res.stderr.splitlines()
    assert line.startswith(f"error: DuckDB warehouse {tmp_path / 'absent.duckdb'} does not exist")
