"""The ``nba-precompute`` program: :mod:`~nba_precompute.cli.main` holds the parser and the dispatch,
one module per command (``launch``, ``seasons``, ``ui``, ``validate``, ``refresh``), and
:mod:`~nba_precompute.cli.common` what they share. Nothing outside this package imports it.
``python -m nba_precompute.cli`` is the same program.
"""

from nba_precompute.cli.main import main

__all__ = ["main"]
