"""Dagster wiring: assets, checks and resources. Transforms live in ``nba_precompute.transforms``."""
