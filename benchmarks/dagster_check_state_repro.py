"""Reproduction for the upstream report (README, "UI at full scale"): Dagster's asset-check partition
statuses cost ~0.1 ms-0.2 ms of Python per partition record with a daily partitions definition.

    python benchmarks/dagster_check_state_repro.py            # 1,358 daily partitions, 4 checks
    python benchmarks/dagster_check_state_repro.py --days 3000

No instance, no project code in the timed part: it builds ``AssetCheckPartitionInfo`` records (one per
partition and check, as ``SqlEventLogStorage.get_asset_check_partition_info`` returns them for an
asset whose checks ran once per partition, a few failed) and times what Dagster 1.13.27's
``EventLogStorage.get_asset_check_state`` does with them for every ``AssetChecksQuery`` /
``AssetGraphLiveQuery`` of the UI: ``AssetCheckState.empty().with_updates(...)``, i.e.
``dagster._core.storage.asset_check_state._process_partition_records``, which per record calls
``partitions_def.has_partition_key`` and ``SerializableEntitySubset.from_coercible_value`` (which
validates the key again and builds a one-partition subset) and unions it in; with a
``TimeWindowPartitionsDefinition`` each of those recomputes the first and last partition windows from
the clock (``_get_current_timestamp()`` outside a ``partition_loading_context``, so the lru caches keyed
on the timestamp never hit). Then the same inside one ``partition_loading_context`` (what a one-line
upstream fix would give), and the project's replacement
(``nba_precompute.dagster_storage._state_with_partition_records``: one subset per outcome), whose result
is checked equal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def main(argv=None) -> int:
    from dagster import AssetCheckKey, AssetKey, DailyPartitionsDefinition
    from dagster import __version__ as dagster_version
    from dagster._core.definitions.partitions.context import partition_loading_context
    from dagster._core.storage.asset_check_execution_record import (
        AssetCheckExecutionRecordStatus,
        AssetCheckPartitionInfo,
    )
    from dagster._core.storage.asset_check_state import AssetCheckState

    from nba_precompute.dagster_storage import _state_with_partition_records

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, default=1358, help="daily partitions (default 1,358: every season)")
    p.add_argument("--checks", type=int, default=4)
    args = p.parse_args(argv)

    start = dt.date(2020, 12, 22)
    end = start + dt.timedelta(days=args.days)
    days = DailyPartitionsDefinition(start_date=start.isoformat(), end_date=end.isoformat(),
                                     timezone="America/New_York")
    keys = days.get_partition_keys()
    assert len(keys) == args.days
    asset = AssetKey(["repro", "asset"])
    checks = [AssetCheckKey(asset, f"check_{i}") for i in range(args.checks)]

    def records(check: AssetCheckKey) -> list[AssetCheckPartitionInfo]:
        return [AssetCheckPartitionInfo(
            check_key=check, partition_key=k,
            latest_execution_status=(AssetCheckExecutionRecordStatus.FAILED if n % 97 == 0
                                     else AssetCheckExecutionRecordStatus.SUCCEEDED),
            latest_planned_run_id="run", latest_check_event_storage_id=10_000 + n,
            latest_materialization_storage_id=n, latest_target_materialization_storage_id=n)
            for n, k in enumerate(keys)]

    by_check = {c: records(c) for c in checks}
    print(f"Dagster {dagster_version}: {args.checks} checks x {args.days} daily partitions "
          f"= {args.checks * args.days} partition records")

    def timed(label: str, update) -> dict:
        t0 = time.perf_counter()
        states = {c: update(c, by_check[c]) for c in checks}
        print(f"  {label}: {time.perf_counter() - t0:.3f} s")
        return states

    dagsters = timed("Dagster's AssetCheckState.with_updates, record by record",
                     lambda c, r: AssetCheckState.empty().with_updates(c, days, r, {}))
    with partition_loading_context():
        in_context = timed("the same inside one partition_loading_context",
                           lambda c, r: AssetCheckState.empty().with_updates(c, days, r, {}))
        ours = timed("one subset per outcome (nba_precompute.dagster_storage)",
                     lambda c, r: _state_with_partition_records(AssetCheckState.empty(), c, days, r))
    equal = dagsters == in_context == ours
    print(f"  equal states: {equal}")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
