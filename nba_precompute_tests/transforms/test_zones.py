import polars as pl

from nba_precompute.transforms.zones import zone_counts, zone_expr


def _shots(rows):
    return pl.DataFrame(rows, schema={"player_id": pl.Int64, "shot_type": pl.String, "basic_zone": pl.String,
                                      "shot_distance": pl.Float64, "shot_made": pl.Boolean}, orient="row")


def test_one_classifier_for_every_zone_label():
    shots = _shots([
        (1, "3PT Field Goal", "Above the Break 3", 26.0, True),
        (1, "3PT Field Goal", "Backcourt", 45.0, False),        # a three is a three wherever it is
        (1, "2PT Field Goal", "Restricted Area", 1.0, True),
        (1, "2PT Field Goal", "In The Paint (Non-RA)", 9.0, False),  # paint by label even beyond 8 ft
        (1, "2PT Field Goal", "Mid-Range", 7.0, True),          # mid-range by label even within 8 ft
        (1, "2PT Field Goal", None, 8.0, True),                 # no label: <= 8 ft is paint
        (1, "2PT Field Goal", None, 8.5, False),                # no label: > 8 ft is mid-range
    ])
    zones = shots.select(zone_expr()).to_series().to_list()
    assert zones == ["three_pt", "three_pt", "paint", "paint", "mid_range", "paint", "mid_range"]


def test_zone_counts_sum_attempts_and_makes_per_group():
    shots = _shots([
        (1, "3PT Field Goal", "Left Corner 3", 23.0, True),
        (1, "3PT Field Goal", "Left Corner 3", 23.0, False),
        (1, "2PT Field Goal", "Restricted Area", 2.0, True),
        (2, "2PT Field Goal", "Mid-Range", 15.0, False),
    ])
    out = zone_counts(shots, ["player_id"]).sort("player_id")
    assert out.row(0, named=True) == {
        "player_id": 1, "paint_attempts": 1, "paint_makes": 1, "mid_range_attempts": 0, "mid_range_makes": 0,
        "three_pt_attempts": 2, "three_pt_makes": 1,
    }
    assert out.row(1, named=True)["mid_range_attempts"] == 1
    assert out.row(1, named=True)["mid_range_makes"] == 0
