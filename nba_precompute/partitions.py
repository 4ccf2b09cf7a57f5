"""The one daily partitions definition and the history mappings (SPEC §2).

Partition key = calendar date D of the games (US Eastern, as the NBA dates them). The definition
starts at the first ingested season's opening night (2022-10-18, the first regular-season date of
the 2022-23 schedule; a test checks this against the raw schedule) and ends with that season's last
regular-season date (2023-04-09): the seasons whose shot charts are in the raw data. A date outside it
is rejected by Dagster with an "unknown partition" error before anything runs.
"""

from __future__ import annotations

import datetime as dt

from dagster import DailyPartitionsDefinition, TimeWindowPartitionMapping

FIRST_OPENING_NIGHT = "2022-10-18"
LAST_PARTITION = "2023-04-09"
PARTITIONS_TIMEZONE = "America/New_York"
# A regular season spans fewer than 200 days, so this window always reaches back to opening night.
SEASON_LOOKBACK_DAYS = 200

daily_partitions = DailyPartitionsDefinition(
    start_date=FIRST_OPENING_NIGHT,
    end_date=(dt.date.fromisoformat(LAST_PARTITION) + dt.timedelta(days=1)).isoformat(),  # exclusive
    timezone=PARTITIONS_TIMEZONE,
)


def history_before_d() -> TimeWindowPartitionMapping:
    """Partition D depends on the upstream days [D - SEASON_LOOKBACK_DAYS, D - 1] (the as-of rule)."""
    return TimeWindowPartitionMapping(start_offset=-SEASON_LOOKBACK_DAYS, end_offset=-1,
                                      allow_nonexistent_upstream_partitions=True)


def history_through_d() -> TimeWindowPartitionMapping:
    """Partition D depends on the upstream days [D - SEASON_LOOKBACK_DAYS, D] (history plus D itself)."""
    return TimeWindowPartitionMapping(start_offset=-SEASON_LOOKBACK_DAYS, end_offset=0,
                                      allow_nonexistent_upstream_partitions=True)
