"""Pure Polars transforms: DataFrames in, DataFrames out. No Dagster, no I/O.

A date range is always one computation: functions take every analysis date of the range at once and
never loop over dates or players in Python.
"""
