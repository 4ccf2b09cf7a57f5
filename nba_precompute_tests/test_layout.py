"""The tests mirror the package (README "Tests"): the tests of ``nba_precompute/a/b.py`` are in
``nba_precompute_tests/a/test_b.py`` (or ``a/test_b_<aspect>.py`` when one module has several test
files). Only the folders in ``NOT_MIRRORED`` hold tests of no single module, and the few files in
``EXCEPTIONS`` are named, with the reason, below."""
from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "nba_precompute"

# the whole pipeline on real data and cross-cutting tests; browser and webserver tests; the repo-root
# benchmarks/ scripts
NOT_MIRRORED = ("end_to_end", "ui", "benchmarks")
EXCEPTIONS = {
    "test_layout.py": "this check: the test tree itself",
    "transforms/test_season_boundaries.py": "every table's \"this season\" windows at a season's opening night",
}


def mirrored_module(test_file: Path) -> Path | None:
    """The module of ``nba_precompute/`` that ``test_file`` (relative to the tests' root) mirrors:
    ``a/test_b.py`` → ``a/b.py`` (or the package ``a/b/``), else the longest ``a/b.py`` with ``test_b_*``;
    None when no module matches."""
    parts = test_file.stem.removeprefix("test_").split("_")
    for n in range(len(parts), 0, -1):
        stem = "_".join(parts[:n])
        for candidate in (test_file.parent / f"{stem}.py", test_file.parent / stem / "__init__.py"):
            if (PACKAGE / candidate).is_file():
                return candidate
    return None


def test_every_test_module_mirrors_a_module_of_the_package():
    test_files = [p.relative_to(TESTS) for p in TESTS.rglob("test_*.py")]
    assert len(test_files) > 20
    checked = [p for p in test_files if p.parts[0] not in NOT_MIRRORED and p.as_posix() not in EXCEPTIONS]
    unmirrored = sorted(p.as_posix() for p in checked if mirrored_module(p) is None)
    assert unmirrored == [], (
        f"test files that mirror no module of nba_precompute/: {unmirrored}; move each to the folder and "
        f"name of the module it tests, or to one of {NOT_MIRRORED}")


def test_the_exceptions_are_still_needed():
    for name in EXCEPTIONS:
        assert (TESTS / name).is_file(), f"{name} is listed as an exception but does not exist"
        if name != "test_layout.py":
            assert mirrored_module(Path(name)) is None, f"{name} mirrors a module now: drop the exception"


def test_the_rule_finds_the_module():
    assert mirrored_module(Path("cli/test_main.py")) == Path("cli/main.py")
    assert mirrored_module(Path("defs/phase4/test_factory_reads.py")) == Path("defs/phase4/factory.py")
    assert mirrored_module(Path("defs/test_data_versions.py")) == Path("defs/data_versions.py")
    assert mirrored_module(Path("test_warehouse.py")) == Path("warehouse/__init__.py")
    assert mirrored_module(Path("test_duckdb_warehouse.py")) is None
