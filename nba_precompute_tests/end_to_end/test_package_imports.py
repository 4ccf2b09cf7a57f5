"""The installed package needs nothing from the ``dev`` extra: every module of ``nba_precompute``
imports in a fresh interpreter where ``psutil``, ``playwright`` and ``pytest`` cannot be imported (the
benchmark, which needs ``psutil``, lives in ``benchmarks/`` at the repository root)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

DEV_ONLY = ("psutil", "playwright", "pytest")

_SCRIPT = textwrap.dedent('''
    import importlib, importlib.abc, pkgutil, sys

    BLOCKED = set(sys.argv[1:])

    class DevExtras(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (dev extra, blocked)", name=name)
            return None

    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            del sys.modules[name]
    sys.meta_path.insert(0, DevExtras())

    import nba_precompute

    names = ["nba_precompute"] + [m.name for m in pkgutil.walk_packages(nba_precompute.__path__, "nba_precompute.")]
    for name in names:
        importlib.import_module(name)
    leaked = sorted(n for n in sys.modules if n.split(".")[0] in BLOCKED)
    assert not leaked, leaked
    print(len(names), nba_precompute.__file__)
''')


def test_every_module_imports_without_the_dev_extra():
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, *DEV_ONLY], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    count, where = proc.stdout.split()
    assert int(count) > 30
    # this repository's package (not another installed copy), and no benchmark module left in it
    package = Path(where).parent
    assert package == REPO_ROOT / "nba_precompute"
    assert not sorted(package.glob("bench*"))
