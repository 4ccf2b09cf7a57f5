"""The UI at full scale, in a real browser: how long each page a user opens takes to show its data.

    python benchmarks/ui_pages.py                          # one season (2022-23), 3 runs of every page
    python benchmarks/ui_pages.py --all-seasons            # the all-seasons instance (736 partitions in the issue, 1,358 now)
    python benchmarks/ui_pages.py --all-seasons --instance-runs 10 --runs 1 --json ten-runs.json
    python benchmarks/ui_pages.py --all-seasons --keep      # keeps the instance: measure it again with
    python benchmarks/ui_pages.py --instance /tmp/ui-bench-XXXX

1. Builds a fresh ``DAGSTER_HOME`` (a copy of ``.dagster_home/dagster.yaml``) and DuckDB file in a
   temporary directory and materialises them with the product's own command, ``nba-precompute launch
   --season S`` / ``--all-seasons``, ``--instance-runs`` times (the same range again each time: the
   instance then holds K runs' worth of materialisations and check evaluations).
2. Starts ``dagster-webserver`` alone on a loopback port (``nba_precompute_tests/ui/services.py``; no
   daemon, nothing is launched).
3. Times the GraphQL documents the UI sends (``benchmarks/ui_queries.py``, copied from Dagster's web
   app): the Partitions tab's ``PartitionHealthQuery``, the Checks tab's ``AssetChecksQuery`` and
   ``AssetGraphLiveQuery`` (sent together; each asks for ``partitionStatuses`` of every check) and each
   check's ``AssetCheckPartitionHealthQuery``, POSTed to ``/graphql``, for PSZA and MLFS.
4. Opens every page in headless Debian Chromium, each in a fresh browser context (no cached data), and
   times from the navigation (or the click, for the in-page tabs) to the moment a selector that only
   the data can produce is visible; see ``PAGES`` for the selector of each page.

Prints a table (median and every run, load average before and after each measurement) and writes JSON
(``--json``, default ``test-artifacts/ui-bench/ui_pages.json``). Not a test: nothing here asserts a time.
The smoke check for CI is ``benchmarks/ui_graphql_smoke.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script: the repository's packages, and benchmarks/
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import bench  # noqa: E402
from benchmarks.ui_queries import (  # noqa: E402
    ASSET_CHECK_PARTITION_HEALTH_QUERY,
    ASSET_CHECKS_QUERY,
    ASSET_GRAPH_LIVE_QUERY,
    PARTITION_HEALTH_QUERY,
)
from nba_precompute_tests.ui.services import DagsterServices  # noqa: E402

PSZA = ("nba_precompute", "player_shot_zone_analysis")
MLFS = ("nba_predictions", "ml_feature_store_v2")
ASSETS = {"PSZA": PSZA, "MLFS": MLFS}
CHECK = "minimum_games"
CHECKS = ("minimum_games", "incomplete_rate_within_band", "upstream_complete", "valid_values")
CHROMIUM = os.environ.get("NBA_UI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
PAGE_TIMEOUT_S = 600.0  # the all-seasons Checks tab took 83 s in the issue; a page that never renders fails


def load() -> list[float]:
    return bench.load_average()


# --------------------------------------------------------------------------------------------------
# the instance


@dataclass
class Instance:
    """A materialised instance: its ``DAGSTER_HOME``, DuckDB file, partitions and launch runs."""

    home: Path
    duckdb_path: Path
    first: str
    last: str
    partitions: int
    run_ids: list[str]
    launches: list[dict]


def _launch_runs(home: Path) -> list[str]:
    """The run ids of the instance, oldest first."""
    from dagster import DagsterInstance

    with bench._dagster_home(home):
        instance = DagsterInstance.from_config(str(home))
        try:
            return [r.run_id for r in reversed(instance.get_runs())]
        finally:
            instance.dispose()


def build_instance(workdir: Path, scope: list[str], instance_runs: int, raw_dir: Path) -> Instance:
    """A fresh instance and warehouse under ``workdir``, materialised ``instance_runs`` times with
    ``nba-precompute launch SCOPE`` (the README's command; ``run_measured`` raises when it fails)."""
    home = bench.fresh_home(workdir)
    duckdb_path = workdir / "warehouse.duckdb"
    env = bench.bench_env(home, raw_dir, duckdb_path)
    launches = []
    for i in range(instance_runs):
        cmd = bench.main_command(*scope)
        print(f"materialising ({i + 1}/{instance_runs}): nba-precompute launch {' '.join(scope)}   "
              f"load {load()}", flush=True)
        r = bench.run_measured(cmd, env, workdir / f"launch-{i + 1}.log", home=home)
        # a command may make several Dagster runs (--all-seasons: 3): run_s and events are summed over them
        print(f"  {r['wall_s']:.1f} s, {r['runs']} Dagster run(s) {bench._fmt_s(r['run_s'])} summed, "
              f"{r['events']} events, {r['run_status']}", flush=True)
        launches.append({k: r[k] for k in ("wall_s", "runs", "run_s", "events", "materializations",
                                           "check_evaluations", "run_status", "load_average")})
    log = (workdir / "launch-1.log").read_text()
    m = re.search(r"(\d+) partition\(s\) (\d{4}-\d\d-\d\d)\.\.\.(\d{4}-\d\d-\d\d)", log)
    if not m:
        raise RuntimeError(f"no partition range in {workdir / 'launch-1.log'}")
    return Instance(home, duckdb_path, m.group(2), m.group(3), int(m.group(1)), _launch_runs(home), launches)


def save_instance(inst: Instance, workdir: Path) -> None:
    """``workdir/instance.json``: what :func:`load_instance` reads back (``--keep``, then ``--instance``)."""
    fields = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(inst).items()}
    (workdir / "instance.json").write_text(json.dumps(fields, indent=1))


def load_instance(workdir: Path) -> Instance:
    """The instance :func:`save_instance` described in ``workdir`` (built by an earlier ``--keep`` run)."""
    fields = json.loads((workdir / "instance.json").read_text())
    return Instance(**{**fields, "home": Path(fields["home"]), "duckdb_path": Path(fields["duckdb_path"])})


def start_webserver(inst: Instance, raw_dir: Path, log_dir: Path) -> DagsterServices:
    """The webserver alone on the instance, replayed as of its last partition (``NBA_PRECOMPUTE_TODAY``,
    unless the environment sets it): the asset's Plots view draws the calendar's newest 120 partitions,
    which on the clock's today would be days after the shipped data, none materialised."""
    services = DagsterServices(inst.home, {"NBA_PRECOMPUTE_DUCKDB_PATH": str(inst.duckdb_path),
                                           "NBA_RAW_DATA_DIR": str(raw_dir.resolve()),
                                           "NBA_PRECOMPUTE_WAREHOUSE": "duckdb",
                                           "NBA_PRECOMPUTE_TODAY": os.environ.get("NBA_PRECOMPUTE_TODAY") or inst.last},
                               log_dir=log_dir, daemon=False)
    services.start(timeout=180)
    services.graphql("mutation { setNuxSeen }")  # the first-visit dialog would cover the page
    return services


# --------------------------------------------------------------------------------------------------
# GraphQL


def graphql_queries(assets: dict[str, tuple[str, ...]] = ASSETS) -> list[tuple[str, str, dict]]:
    """(name, document, variables) of every timed query: per asset, the Partitions tab's query, the
    Checks tab's two queries (each asks for every check's ``partitionStatuses``) and each check's
    partition query."""
    out = []
    for short, key in assets.items():
        asset = {"path": list(key)}
        out.append((f"{short} PartitionHealthQuery (Partitions tab: assetPartitionStatuses)",
                    PARTITION_HEALTH_QUERY, {"assetKey": asset}))
        out.append((f"{short} AssetChecksQuery (Checks tab: partitionStatuses of the {len(CHECKS)} checks)",
                    ASSET_CHECKS_QUERY, {"assetKey": asset}))
        out.append((f"{short} AssetGraphLiveQuery (every asset page, with the Checks tab's: the same statuses)",
                    ASSET_GRAPH_LIVE_QUERY, {"assetKeys": [asset]}))
        for check in CHECKS:
            out.append((f"{short} AssetCheckPartitionHealthQuery {check} (its partitionStatuses)",
                        ASSET_CHECK_PARTITION_HEALTH_QUERY, {"assetKey": asset, "checkName": check}))
    return out


def time_graphql(services: DagsterServices, query: str, variables: dict, timeout: float = PAGE_TIMEOUT_S) -> dict:
    """One POST of ``query``: seconds, response size, load average before and after."""
    before = load()
    t0 = time.perf_counter()
    data = services.graphql(query, variables, timeout=timeout)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "bytes": len(json.dumps(data)), "load_before": before, "load_after": load()}


# --------------------------------------------------------------------------------------------------
# pages in the browser


@dataclass
class Page:
    """A page a user opens: ``url`` (relative to the webserver), optionally a ``click`` after the page
    showed ``ready`` (then the time is measured from the click), and ``rendered``: waits until the
    page's data is on screen. ``selector`` documents what ``rendered`` waits for."""

    name: str
    url: str
    selector: str
    rendered: Callable  # (page, expect) -> None
    ready: Callable | None = None
    click: Callable | None = None


PLOTS_HOLD_S = 1.0
PLOTS_STATE_JS = """() => {
  const text = document.body.innerText;
  if (text.includes('Loading plots\u2026')) return null;
  if (document.querySelectorAll('canvas').length > 0) return 'charts';
  return text.includes('Asset plots are automatically generated by metadata') ? 'no-plots message' : null;
}"""


def settled(page, state_js: str, hold_s: float, timeout_s: float = PAGE_TIMEOUT_S, poll_s: float = 0.05) -> dict:
    """Poll ``state_js`` until it returns the same non-null state for ``hold_s``; returns the state and
    ``settled_at`` (``time.perf_counter()`` of its first moment), which ``time_page`` measures to."""
    deadline = time.perf_counter() + timeout_s
    state, since = None, None
    while time.perf_counter() < deadline:
        now = time.perf_counter()
        current = page.evaluate(state_js)
        if current is None or current != state:
            state, since = current, (now if current is not None else None)
        elif now - since >= hold_s:
            return {"state": state, "settled_at": since}
        time.sleep(poll_s)
    raise TimeoutError(f"page state not settled after {timeout_s:.0f} s (last: {state})")


def asset_url(key: tuple[str, ...], query: str = "") -> str:
    return "/assets/" + "/".join(key) + (f"?{query}" if query else "")


def pages_for(short: str, key: tuple[str, ...], inst: Instance) -> list[Page]:
    """The pages of one asset (and the launch run's page, for PSZA), each with its rendered-selector."""
    import re as _re

    last, n = inst.last, inst.partitions
    run_id = inst.run_ids[-1]

    def text(t, exact=True):
        return lambda page, expect: expect(page.get_by_text(t, exact=exact).first).to_be_visible()

    def all_of(*waits):
        def wait(page, expect):
            for w in waits:
                w(page, expect)
        return wait

    def check_overview(page, expect):  # the selected check's latest result: its partition and verdict
        expect(page.get_by_text(f"Checks ({len(CHECKS)})", exact=True)).to_be_visible()
        expect(page.get_by_text("Evaluation result", exact=True)).to_be_visible()
        expect(page.get_by_text(last, exact=True).first).to_be_visible()

    def check_history(page, expect):
        expect(page.get_by_role("row").filter(has_text=last).first).to_be_visible()

    def check_partitions(page, expect):
        expect(page.get_by_text(f"Passed ({n})", exact=True)).to_be_visible()

    def plots(page, expect):
        # The toggle briefly shows the no-plots message before its query starts: wait for the final
        # state (no spinner; chart canvases, or the message when the newest 120 partitions have no
        # materialisation: the replay's today is the instance's last partition, so there are charts)
        # held for PLOTS_HOLD_S, and count the time to its first moment; the state is reported.
        return settled(page, PLOTS_STATE_JS, PLOTS_HOLD_S)

    def run_page(page, expect):
        expect(page.get_by_text(_re.compile(r"^Succeeded \([1-9]\d*\)$")).first).to_be_visible()
        expect(page.get_by_text(_re.compile(r"^(ASSET_MATERIALIZATION|ASSET_CHECK_EVALUATION|STEP_SUCCESS|"
                                            r"RUN_SUCCESS)$")).first).to_be_visible()

    check_url = asset_url(key, f"view=checks&checkDetail={CHECK}")
    out = [
        Page(f"{short} asset overview", asset_url(key),
             f"latest materialised partition '{last}' and 'Latest check results'",
             all_of(text("Latest check results"), text(last))),
        Page(f"{short} Partitions tab", asset_url(key, "view=partitions"),
             f"'Materialized ({n})'", text(f"Materialized ({n})")),
        Page(f"{short} Checks tab", asset_url(key, "view=checks"),
             f"'Checks ({len(CHECKS)})', 'Evaluation result', latest partition '{last}'", check_overview),
        Page(f"{short} check {CHECK}: overview", check_url,
             f"'Checks ({len(CHECKS)})', 'Evaluation result', latest partition '{last}'", check_overview),
        Page(f"{short} check {CHECK}: Execution history (from the click)", check_url,
             f"a table row holding '{last}'", check_history, ready=check_overview,
             click=lambda page: page.locator("button[role=tab]#execution-history").click()),
        Page(f"{short} check {CHECK}: Partitions (from the click)", check_url,
             f"'Passed ({n})'", check_partitions, ready=check_overview,
             click=lambda page: page.locator("button[role=tab]#partitions").click()),
        Page(f"{short} plots (Overview -> Metadata -> Plots, from the click)", asset_url(key),
             f"no 'Loading plots…', and chart <canvas>es (or the no-plots message) there, held {PLOTS_HOLD_S:.0f} s",
             plots,
             ready=all_of(text("Latest check results"), text(last)),
             click=lambda page: page.get_by_role("button", name="Plots").click()),
    ]
    if short == "PSZA":
        out.append(Page("run page of the (last) launch run", f"/runs/{run_id}",
                        "'Succeeded (N>0)' steps and an event type in the log", run_page))
    return out


def time_page(browser, base_url: str, page_def: Page, screenshot: Path | None = None) -> dict:
    """Open ``page_def`` in a fresh context; seconds from navigation (or click) to rendered."""
    from playwright.sync_api import expect

    expect.set_options(timeout=PAGE_TIMEOUT_S * 1000)  # Playwright's default is 5 s
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, base_url=base_url)
    context.set_default_timeout(PAGE_TIMEOUT_S * 1000)
    try:
        page = context.new_page()
        before = load()
        t0 = time.perf_counter()
        page.goto(page_def.url, wait_until="commit", timeout=PAGE_TIMEOUT_S * 1000)
        if page_def.ready is not None:
            page_def.ready(page, expect)
        if page_def.click is not None:
            ready_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            page_def.click(page)
        else:
            ready_s = None
        outcome = page_def.rendered(page, expect)
        seconds = (outcome["settled_at"] if outcome else time.perf_counter()) - t0
        after = load()
        if screenshot is not None:
            page.screenshot(path=str(screenshot))
        return {"seconds": seconds, "before_click_s": ready_s, "load_before": before, "load_after": after,
                **({"state": outcome["state"]} if outcome else {})}
    finally:
        context.close()


# --------------------------------------------------------------------------------------------------
# report


def _fmt_load(x: list[float]) -> str:
    return f"{x[0]:.2f}"


def table(rows: list[dict]) -> str:
    """Markdown table: item, median seconds, every run, load average (1 min) before -> after each run."""
    lines = ["| measurement | median s | runs (s) | load avg 1 min before → after each run |",
             "|---|---|---|---|"]
    for r in rows:
        runs = r["runs"]
        secs = [x["seconds"] for x in runs]
        lines.append(f"| {r['name']} | **{statistics.median(secs):.2f}** | "
                     f"{' / '.join(f'{s:.2f}' for s in secs)} | "
                     f"{', '.join(_fmt_load(x['load_before']) + '→' + _fmt_load(x['load_after']) for x in runs)} |")
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--season", default=None, help="materialise this season (default 2022-23)")
    scope.add_argument("--all-seasons", action="store_true", help="materialise every season (1,358 partitions)")
    p.add_argument("--runs", type=int, default=3, help="measurements of each page and query (default 3)")
    p.add_argument("--instance-runs", type=int, default=1,
                   help="launch the range K times into the instance before measuring (default 1)")
    p.add_argument("--json", type=Path, default=REPO_ROOT / "test-artifacts" / "ui-bench" / "ui_pages.json")
    p.add_argument("--no-browser", action="store_true", help="GraphQL timings only")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary instance and warehouse (reuse them with --instance DIR)")
    p.add_argument("--instance", type=Path, default=None, metavar="DIR",
                   help="measure the instance a --keep run left in DIR instead of building one")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    raw_dir = Path(os.environ.get("NBA_RAW_DATA_DIR", REPO_ROOT.parent / "shared" / "data" / "nba"))
    scope = ["--all-seasons"] if args.all_seasons else ["--season", args.season or "2022-23"]
    out_dir = args.json.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    workdir = args.instance or Path(tempfile.mkdtemp(prefix="ui-bench-"))
    started = load()
    print(f"load average at the start: {started}   workdir {workdir}", flush=True)
    result: dict = {"scope": " ".join(scope), "instance_runs": args.instance_runs, "runs": args.runs,
                    "load_average_start": started, "machine": bench.machine_info()}
    if args.instance is not None:
        inst = load_instance(workdir)
        result.update(scope="instance " + str(workdir), instance_runs=len(inst.launches))
    else:
        inst = build_instance(workdir, scope, args.instance_runs, raw_dir)
        save_instance(inst, workdir)
    result.update(partitions=inst.partitions, first=inst.first, last=inst.last, launches=inst.launches)
    services = start_webserver(inst, raw_dir, out_dir / "logs")
    browser_rows: list[dict] = []
    graphql_rows: list[dict] = []
    try:
        queries = graphql_queries()
        pages = [] if args.no_browser else [p for short, key in ASSETS.items() for p in pages_for(short, key, inst)]
        graphql_rows = [{"name": name, "runs": []} for name, _, _ in queries]
        browser_rows = [{"name": p.name, "url": p.url, "rendered_when": p.selector, "runs": []} for p in pages]
        playwright = browser = None
        if pages:
            from playwright.sync_api import sync_playwright
            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for i in range(args.runs):  # interleaved: run i of everything, then run i + 1
                for row, (name, query, variables) in zip(graphql_rows, queries):
                    r = time_graphql(services, query, variables)
                    row["runs"].append(r)
                    print(f"[{i + 1}/{args.runs}] graphql {name}: {r['seconds']:.2f} s  "
                          f"(load {r['load_before'][0]:.2f} -> {r['load_after'][0]:.2f})", flush=True)
                for row, page_def in zip(browser_rows, pages):
                    shot = out_dir / (re.sub(r"[^A-Za-z0-9]+", "-", page_def.name).strip("-") + ".png") if i == 0 else None
                    r = time_page(browser, services.url, page_def, shot)
                    row["runs"].append(r)
                    print(f"[{i + 1}/{args.runs}] page {page_def.name}: {r['seconds']:.2f} s {r.get('state', '')} "
                          f"(load {r['load_before'][0]:.2f} -> {r['load_after'][0]:.2f})", flush=True)
        finally:
            if browser is not None:
                browser.close()
                playwright.stop()
    finally:
        services.stop()
    result.update(graphql=graphql_rows, pages=browser_rows, load_average_end=load())
    args.json.write_text(json.dumps(result, indent=1))
    print(f"\n{inst.partitions} partitions {inst.first}...{inst.last}, {result['instance_runs']} launch run(s) "
          f"in the instance; load average {started} at the start, {result['load_average_end']} at the end\n")
    print(table(graphql_rows))
    if browser_rows:
        print()
        print(table(browser_rows))
    print(f"\nJSON: {args.json}; screenshots and webserver log: {out_dir}")
    if not args.keep and args.instance is None:
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"instance kept in {workdir}: measure it again with --instance {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
