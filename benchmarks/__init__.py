"""The project's benchmarks (not part of the installed package; they need the ``dev`` extra).

``python benchmarks/bench.py`` (or ``python -m benchmarks.bench``) from the repository root: the main
command side by side with what it is made of (README "Benchmark"); ``benchmarks/ui_pages.py`` and
``benchmarks/ui_graphql_smoke.py``: the Dagster UI at full scale (README "UI at full scale").
"""
