"""The one shot-zone classifier (SPEC §3, fixes legacy bug B17) and per-game zone counts."""

from __future__ import annotations

import polars as pl

ZONES = ("paint", "mid_range", "three_pt")
PAINT_BASIC_ZONES = ("Restricted Area", "In The Paint (Non-RA)")
PAINT_MAX_DISTANCE_FT = 8.0


def zone_expr() -> pl.Expr:
    """Zone of each shot: ``three_pt``, ``paint`` or ``mid_range``.

    ``three_pt`` = SHOT_TYPE "3PT Field Goal"; ``paint`` = a 2-pt attempt whose BASIC_ZONE is
    "Restricted Area" or "In The Paint (Non-RA)"; ``mid_range`` = any other 2-pt attempt. Only where
    the zone label is missing: ``paint`` = 2-pt with SHOT_DISTANCE <= 8 ft.
    Needs columns ``shot_type``, ``basic_zone``, ``shot_distance``.
    """
    is_three = pl.col("shot_type") == "3PT Field Goal"
    labelled_paint = pl.col("basic_zone").is_in(PAINT_BASIC_ZONES)
    distance_paint = pl.col("shot_distance") <= PAINT_MAX_DISTANCE_FT
    paint = pl.when(pl.col("basic_zone").is_null()).then(distance_paint).otherwise(labelled_paint)
    return (
        pl.when(is_three).then(pl.lit("three_pt"))
        .when(paint.fill_null(False)).then(pl.lit("paint"))
        .otherwise(pl.lit("mid_range"))
    )


def zone_counts(shots: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Zone attempts and makes per group.

    Input: one row per field-goal attempt with ``shot_type``, ``basic_zone``, ``shot_distance``,
    ``shot_made`` and the ``by`` columns. Output: one row per group with ``paint_attempts``,
    ``paint_makes``, ``mid_range_attempts``, ``mid_range_makes``, ``three_pt_attempts``,
    ``three_pt_makes`` (Int64 counts).
    """
    z = shots.with_columns(zone_expr().alias("zone"), pl.col("shot_made").cast(pl.Int64).alias("made"))
    aggs = []
    for zone in ZONES:
        in_zone = pl.col("zone") == zone
        aggs.append(in_zone.cast(pl.Int64).sum().alias(f"{zone}_attempts"))
        aggs.append((in_zone.cast(pl.Int64) * pl.col("made")).sum().alias(f"{zone}_makes"))
    return z.group_by(by).agg(aggs)
