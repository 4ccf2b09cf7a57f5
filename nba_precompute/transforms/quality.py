"""Data-quality rules shared by the Phase 4 assets, their asset checks and the validation report
(SPEC §6). Pure Polars, no Dagster.

Three things live here:

* **Value validation** (the ``PROCESSING_ERROR`` category): :func:`value_violations` lists, per row,
  every rule the row breaks - NULL key, duplicate key, a non-finite float, a fraction outside [0, 1],
  or a value outside its range from reference §2.8 / §6.4 on the scales of this project (SPEC §3).
  :func:`split_invalid_rows` withholds the offending rows from a write and turns them into
  ``precompute_failures`` rows (``PROCESSING_ERROR``, ``is_failure = true``).
* **Incomplete-rate bands** (the ``incomplete_rate_within_band`` check): the week of the season and the
  expected upper edge of the share of entities below the asset's minimum for that week (:class:`Band`;
  each Phase 4 table declares its own bands in ``nba_precompute.defs.phase4.tables``).
* **Per-day check results** (:func:`daily_check_results`): one row per analysis date with the numbers
  the four asset checks report, computed for a whole date range in one pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import polars as pl

from nba_precompute.schemas import FRACTION, TableSpec, empty_failures
from nba_precompute.transforms.coverage import (
    INCOMPLETE_DATA,
    MISSING_DEPENDENCY,
    PROCESSING_ERROR,
    STALE_DATA,
)
from nba_precompute.transforms.coverage import entity_columns as entity_columns  # re-exported (checks use it)

# --------------------------------------------------------------------------- value validation


@dataclass(frozen=True)
class RangeRule:
    """``column`` must lie in [low, high] (inclusive; ``None`` = unbounded). NULL passes: a NULL is a
    documented "not computable" value, never an out-of-range one."""

    column: str
    low: float | None
    high: float | None
    source: str

    def describe(self) -> str:
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"{self.column} in [{lo}, {hi}] ({self.source})"


def ranges(source: str, spec: Mapping[str, tuple[float | None, float | None]]) -> tuple[RangeRule, ...]:
    """Range rules ``{column: (low, high)}`` citing ``source`` (e.g. "reference §2.8"). Each Phase 4
    table declares its own (``nba_precompute.defs.phase4.tables``); rates that the legacy code kept on
    0-100 are fractions here and are covered by the generic "every fraction in [0, 1]" rule."""
    return tuple(RangeRule(col, lo, hi, source) for col, (lo, hi) in spec.items())


def range_rules(table: TableSpec, extra: Sequence[RangeRule] = ()) -> tuple[RangeRule, ...]:
    """Every range rule for ``table``: [0, 1] for each column declared with the fraction unit (SPEC §3)
    and ``extra`` (the table's declared ranges). Rules naming a column the table does not have are
    dropped."""
    rules = [RangeRule(c.name, 0.0, 1.0, "fraction, SPEC §3") for c in table.columns if c.unit == FRACTION]
    rules += list(extra)
    names = set(table.column_names)
    return tuple(r for r in rules if r.column in names)


def value_violations(rows: pl.DataFrame, table: TableSpec,
                     rules: Sequence[RangeRule] | None = None) -> pl.DataFrame:
    """The rows of ``rows`` (a frame with ``table``'s columns, extra columns ignored) that break a rule,
    with a ``violations`` list column of human-readable messages.

    Rules: NULL in a key column; duplicated key (every copy is reported); a FLOAT64 value that is NaN
    or infinite; a value outside a :class:`RangeRule` (default :func:`range_rules`). Returns an empty
    frame (same columns + ``violations``) when every row is valid. One vectorised pass.
    """
    rules = range_rules(table) if rules is None else tuple(rules)
    present = set(rows.columns)
    key = [k for k in table.key if k in present]
    checks: list[pl.Expr] = []
    for k in key:
        checks.append(pl.when(pl.col(k).is_null()).then(pl.lit(f"NULL key column {k}")))
    if key:
        checks.append(pl.when(pl.struct(key).is_duplicated()).then(
            pl.lit(f"duplicate key ({', '.join(key)})")))
    for c in table.columns:
        if c.type == "FLOAT64" and c.name in present:
            checks.append(pl.when(~pl.col(c.name).is_finite()).then(
                pl.format("{} = {} is not a finite number", pl.lit(c.name), pl.col(c.name))))
    for r in rules:
        if r.column not in present:
            continue
        v = pl.col(r.column).cast(pl.Float64)
        bad = pl.lit(False)
        if r.low is not None:
            bad = bad | (v < r.low)
        if r.high is not None:
            bad = bad | (v > r.high)
        checks.append(pl.when(bad.fill_null(False)).then(
            pl.format("{} = {} outside {}", pl.lit(r.column), v, pl.lit(r.describe()))))
    if not checks:
        return rows.head(0).with_columns(pl.lit(None, pl.List(pl.String)).alias("violations"))
    out = rows.with_columns(pl.concat_list(checks).list.drop_nulls().alias("violations"))
    return out.filter(pl.col("violations").list.len() > 0)


def split_invalid_rows(rows: pl.DataFrame, table: TableSpec, processor: str,
                       rules: Sequence[RangeRule] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Withhold invalid rows from a Phase 4 write (SPEC §6, ``PROCESSING_ERROR``).

    Returns ``(valid_rows, failures)``: ``valid_rows`` are the rows of ``rows`` that break no rule of
    :func:`value_violations`; ``failures`` has one ``precompute_failures`` row (coverage.FAILURE_COLUMNS)
    per offending entity and day, category ``PROCESSING_ERROR``, ``is_failure = true``, the reason
    listing every broken rule. An invalid row is never written as if it were fine.

    Raises:
        ValueError: a row has a NULL partition date (it cannot be attributed to a partition).
    """
    part = table.partition_column
    if rows.get_column(part).null_count():
        raise ValueError(f"{table.qualified_name}: {rows.get_column(part).null_count()} row(s) with NULL "
                         f"{part}; a Phase 4 row must belong to a daily partition")
    bad = value_violations(rows.with_row_index("__row"), table, rules)
    if bad.is_empty():
        return rows, empty_failures()
    valid = rows.with_row_index("__row").join(bad.select("__row"), on="__row", how="anti").drop("__row")
    etype, _, ident, name = entity_columns(table)
    failures = bad.select(
        pl.lit(processor).alias("processor"), pl.col(part).alias("analysis_date"),
        pl.lit(etype).alias("entity_type"), ident.alias("entity_id"), name.alias("entity_name"),
        pl.col("violations").list.join("; ").alias("reason"),
    ).group_by("processor", "analysis_date", "entity_type", "entity_id", "entity_name", maintain_order=True).agg(
        pl.col("reason").unique(maintain_order=True).str.join(" | ")
    ).select(
        "processor", "analysis_date", "entity_type", "entity_id", "entity_name",
        pl.lit(PROCESSING_ERROR).alias("failure_category"), pl.lit(True).alias("is_failure"),
        pl.format("invalid value(s), row withheld: {}", pl.col("reason")).alias("reason"),
        pl.lit(None, pl.Int64).alias("games_required"), pl.lit(None, pl.Int64).alias("games_found"),
    )
    return valid, failures


# --------------------------------------------------------------------------- incomplete-rate bands


@dataclass(frozen=True)
class Band:
    """Expected upper edge of the incomplete rate (0-1) for season weeks [first_week, last_week]
    (``last_week`` None = open-ended). Only a rate *above* ``upper`` is worth a WARN (of the
    ``incomplete_rate_within_band`` check); fewer incomplete entities than expected is good news."""

    first_week: int
    last_week: int | None
    upper: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.upper <= 1.0:
            raise ValueError(f"band upper edge {self.upper} is not a fraction in [0, 1]")
        if self.first_week < 1 or (self.last_week is not None and self.last_week < self.first_week):
            raise ValueError(f"band weeks {self.first_week}-{self.last_week} are not a valid range")

    def label(self) -> str:
        weeks = f"week {self.first_week}" if self.last_week == self.first_week else (
            f"weeks {self.first_week}+" if self.last_week is None else f"weeks {self.first_week}-{self.last_week}")
        return f"{weeks}: incomplete rate <= {self.upper:.0%}"


def bands(*edges: tuple[int, int | None, float]) -> tuple[Band, ...]:
    """Build a band list from ``(first_week, last_week, upper)`` triples; weeks must not overlap."""
    out = tuple(sorted((Band(*e) for e in edges), key=lambda b: b.first_week))
    for a, b in pairwise(out):
        if a.last_week is None or a.last_week >= b.first_week:
            raise ValueError(f"bands overlap: {a.label()} and {b.label()}")
    return out


def band_frame(band_list: Sequence[Band]) -> pl.DataFrame:
    """The bands as a frame: ``band_first_week``, ``band_last_week``, ``band_upper``, ``band_label``."""
    return pl.DataFrame(
        {"band_first_week": [b.first_week for b in band_list],
         "band_last_week": [b.last_week for b in band_list],
         "band_upper": [b.upper for b in band_list],
         "band_label": [b.label() for b in band_list]},
        schema={"band_first_week": pl.Int64, "band_last_week": pl.Int64, "band_upper": pl.Float64,
                "band_label": pl.String},
    )


def attach_band(df: pl.DataFrame, band_list: Sequence[Band] | None, week_col: str = "season_week") -> pl.DataFrame:
    """Add ``band_upper`` (0-1) and ``band_label`` for each row's ``week_col`` (NULL when no band covers
    the week or ``band_list`` is empty/None)."""
    bf = band_frame(band_list or ())
    out = df.with_row_index("__i")
    week = pl.col(week_col)
    match = out.select("__i", week_col).join(bf, how="cross").filter(
        (week >= pl.col("band_first_week"))
        & (pl.col("band_last_week").is_null() | (week <= pl.col("band_last_week")))
    ).select("__i", "band_upper", "band_label")
    return out.join(match, on="__i", how="left").sort("__i").drop("__i")


# --------------------------------------------------------------------------- per-day check results


def incomplete_rate(incomplete: pl.Expr, total: pl.Expr) -> pl.Expr:
    """The incomplete rate (0-1): entities below the minimum (INCOMPLETE_DATA) / entities accounted
    for; 0.0 when there are none. The one formula behind the ``minimum_games`` and
    ``incomplete_rate_within_band`` checks, the materialisation metadata and the validation report."""
    return pl.when(total > 0).then(incomplete / total).otherwise(0.0)


def above_band(rate: pl.Expr | None = None, upper: pl.Expr | None = None) -> pl.Expr:
    """The ``incomplete_rate_within_band`` verdict: the rate is strictly above the band's upper edge
    (at the edge is within; no band is never above). Shared by the check and the validation report."""
    rate = pl.col("incomplete_rate") if rate is None else rate
    upper = pl.col("band_upper") if upper is None else upper
    return (upper.is_not_null() & (rate > upper)).fill_null(False)


_SAMPLE = 10


def daily_check_results(days: pl.DataFrame, failures: pl.DataFrame, invalid_written: pl.DataFrame,
                        band_list: Sequence[Band] | None) -> pl.DataFrame:
    """The numbers behind the four asset checks, one row per analysis date.

    Args:
        days: one row per date: ``analysis_date``, ``season_week`` (NULL before opening night),
            ``materialized`` (the partition was written), ``rows_written``.
        failures: ``precompute_failures`` rows of one processor over those dates.
        invalid_written: rows found in the warehouse table that break a value rule
            (:func:`value_violations`): ``analysis_date``, ``entity_id``, ``violations``.
        band_list: incomplete-rate bands of the asset (None/empty: no band, ``above_band`` never true).

    Returns ``days`` plus: ``incomplete`` / ``stale`` (entities with INCOMPLETE_DATA / STALE_DATA),
    ``entities_total`` (= rows + incomplete + stale + entity-level true failures), ``incomplete_rate``
    (incomplete / entities_total, 0-1; 0 when there are no entities), ``band_upper`` / ``band_label``,
    ``above_band`` (:func:`above_band`); ``missing_dependency_entities``, ``missing_partitions`` (the DATE_LEVEL reasons),
    ``affected_entities`` (up to 10 ids); ``processing_errors`` (failure rows), ``invalid_written``
    (rows in the table breaking a rule), ``processing_error_samples`` (up to 10 reasons).
    """
    f = failures
    is_date = pl.col("entity_id") == "DATE_LEVEL"

    def count(cat: str, date_level: bool | None = None) -> pl.Expr:
        cond = pl.col("failure_category") == cat
        if date_level is not None:
            cond = cond & (is_date if date_level else ~is_date)
        return cond.sum().cast(pl.Int64)

    per_day = f.group_by("analysis_date").agg(
        count(INCOMPLETE_DATA, False).alias("incomplete"),
        count(STALE_DATA, False).alias("stale"),
        count(MISSING_DEPENDENCY, False).alias("missing_dependency_entities"),
        count(MISSING_DEPENDENCY, True).alias("missing_dependency_date_level"),
        count(PROCESSING_ERROR).alias("processing_errors"),
        pl.col("reason").filter((pl.col("failure_category") == MISSING_DEPENDENCY) & is_date)
        .sort().alias("missing_partitions"),
        pl.col("entity_id").filter((pl.col("failure_category") == MISSING_DEPENDENCY) & ~is_date)
        .sort().head(_SAMPLE).alias("affected_entities"),
        pl.format("{}: {}", pl.col("entity_id"), pl.col("reason"))
        .filter(pl.col("failure_category") == PROCESSING_ERROR).sort().head(_SAMPLE)
        .alias("processing_error_samples"),
    )
    inv = invalid_written.group_by("analysis_date").agg(
        pl.len().cast(pl.Int64).alias("invalid_written"),
        pl.format("{} (in table): {}", pl.col("entity_id"), pl.col("violations").list.join("; "))
        .sort().head(_SAMPLE).alias("__inv_samples"),
    )
    zero = ["incomplete", "stale", "missing_dependency_entities", "missing_dependency_date_level",
            "processing_errors", "invalid_written"]
    out = days.join(per_day, on="analysis_date", how="left").join(inv, on="analysis_date", how="left")
    out = out.with_columns(
        *[pl.col(c).fill_null(0) for c in zero],
        *[pl.col(c).fill_null(pl.lit([], pl.List(pl.String)))
          for c in ("missing_partitions", "affected_entities", "processing_error_samples", "__inv_samples")],
    ).with_columns(
        (pl.col("rows_written") + pl.col("incomplete") + pl.col("stale")
         + pl.col("missing_dependency_entities") + pl.col("processing_errors")).alias("entities_total"),
        pl.concat_list("processing_error_samples", "__inv_samples").list.head(_SAMPLE)
        .alias("processing_error_samples"),
    ).drop("__inv_samples").with_columns(
        incomplete_rate(pl.col("incomplete"), pl.col("entities_total")).alias("incomplete_rate"),
    )
    out = attach_band(out, band_list)
    return out.with_columns(above_band().alias("above_band")).sort("analysis_date")

