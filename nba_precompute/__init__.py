"""nba_precompute: NBA Phase 4 precompute tables as daily-partitioned Dagster assets.

Layers (see README.md):

* ``nba_precompute.raw``        readers of the real NBA.com files (typed, validated, clear errors)
* ``nba_precompute.transforms`` pure Polars: DataFrames in, DataFrames out, no Dagster
* ``nba_precompute.warehouse``  storage (embedded DuckDB by default)
* ``nba_precompute.defs``       Dagster wiring: assets, checks, resources
* ``nba_precompute.definitions`` the one ``Definitions`` object (the code location)
"""

__version__ = "0.1.0"
