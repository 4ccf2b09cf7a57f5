"""Rolling "last N games before D" and "games in [D - k days, D)" for every D at once.

Technique (LAYOUT.md): number each entity's games in date order within a season and keep running
totals of every counted column; for each analysis date D an as-of join finds the entity's last game
strictly before D (the as-of rule, SPEC §2); the sum over the last N games is then
``cum[i] - cum[i - N]`` and the window's game count is ``min(i, N)``. A day window [D - k, D) is
``state(D) - state(D - k)``. Seasons are part of the entity key, so numbering restarts every season.
Everything is linear in the number of games plus the number of (entity, D) pairs; no Python loops.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

GAME_NO = "game_number"


def number_games(games: pl.DataFrame, by: Sequence[str], cum_cols: Sequence[str],
                 date_col: str = "game_date") -> pl.DataFrame:
    """Add ``game_number`` (1..n per ``by`` in date order) and ``cum_<c>`` running totals.

    NULLs count as 0 in the running totals; pass an explicit 0/1 indicator column to count non-NULL
    values. Input must hold at most one row per (``by``, ``date_col``).
    """
    by = list(by)
    # the running float sums are sequential in this order (deterministic); a stable sort keeps it
    # deterministic even for input breaking the one-row-per-(by, date) rule
    return games.sort([*by, date_col], maintain_order=True).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(by).alias(GAME_NO),
        *[pl.col(c).fill_null(0).cast(pl.Float64).cum_sum().over(by).alias(f"cum_{c}") for c in cum_cols],
    )


def state_before(keys: pl.DataFrame, numbered: pl.DataFrame, by: Sequence[str], cum_cols: Sequence[str],
                 key_date: str = "analysis_date", date_col: str = "game_date", suffix: str = "",
                 extra_cols: Sequence[str] = ()) -> pl.DataFrame:
    """Attach, for each key row, the entity's state after its last game strictly before ``key_date``.

    Adds ``game_number{suffix}`` (0 when there is none), ``cum_<c>{suffix}`` (0 when none),
    ``last_game_date{suffix}`` and any ``extra_cols`` of that last game (NULL when none).
    """
    by = list(by)
    right = numbered.select(
        *by, pl.col(date_col).alias("__asof_date"), pl.col(date_col).alias(f"last_game_date{suffix}"),
        pl.col(GAME_NO).alias(f"{GAME_NO}{suffix}"),
        *[pl.col(f"cum_{c}").alias(f"cum_{c}{suffix}") for c in cum_cols],
        *[pl.col(c).alias(f"{c}{suffix}") for c in extra_cols],
    ).sort("__asof_date")
    out = keys.sort(key_date).join_asof(
        right, left_on=key_date, right_on="__asof_date", by=by, strategy="backward",
        allow_exact_matches=False, check_sortedness=False,
    ).drop("__asof_date")
    return out.with_columns(
        pl.col(f"{GAME_NO}{suffix}").fill_null(0),
        *[pl.col(f"cum_{c}{suffix}").fill_null(0.0) for c in cum_cols],
    )


def last_n_window(with_state: pl.DataFrame, numbered: pl.DataFrame, by: Sequence[str],
                  cum_cols: Sequence[str], n: int) -> pl.DataFrame:
    """Sums over the last ``n`` games before D, from rows already carrying :func:`state_before`.

    Adds ``games_last_{n}`` (= min(game_number, n)) and ``sum_<c>_last_{n}`` for each column.
    """
    by = list(by)
    start = numbered.select(
        *by, pl.col(GAME_NO).alias("__start_no"),
        *[pl.col(f"cum_{c}").alias(f"__start_{c}") for c in cum_cols],
    )
    out = with_state.with_columns((pl.col(GAME_NO) - n).alias("__start_no")).join(
        start, on=[*by, "__start_no"], how="left"
    )
    return out.with_columns(
        pl.min_horizontal(pl.col(GAME_NO), pl.lit(n)).cast(pl.Int64).alias(f"games_last_{n}"),
        *[(pl.col(f"cum_{c}") - pl.col(f"__start_{c}").fill_null(0.0)).alias(f"sum_{c}_last_{n}")
          for c in cum_cols],
    ).drop("__start_no", *[f"__start_{c}" for c in cum_cols])


def day_window(keys: pl.DataFrame, numbered: pl.DataFrame, by: Sequence[str], cum_cols: Sequence[str],
               days: int, key_date: str = "analysis_date", date_col: str = "game_date",
               name: str | None = None) -> pl.DataFrame:
    """Counts and sums over the games in [D - ``days``, D) for each key row.

    Adds ``games_{name}`` and ``sum_<c>_{name}`` (``name`` defaults to ``last_{days}d``).
    """
    name = name or f"last_{days}d"
    tmp = "__window_start"
    now = state_before(keys, numbered, by, cum_cols, key_date, date_col, suffix="__now")
    now = now.with_columns((pl.col(key_date) - pl.duration(days=days)).alias(tmp))
    then = state_before(now, numbered, by, cum_cols, tmp, date_col, suffix="__then")
    return then.with_columns(
        (pl.col(f"{GAME_NO}__now") - pl.col(f"{GAME_NO}__then")).alias(f"games_{name}"),
        *[(pl.col(f"cum_{c}__now") - pl.col(f"cum_{c}__then")).alias(f"sum_{c}_{name}") for c in cum_cols],
    ).drop(
        tmp, f"{GAME_NO}__now", f"{GAME_NO}__then", "last_game_date__now", "last_game_date__then",
        *[f"cum_{c}__now" for c in cum_cols], *[f"cum_{c}__then" for c in cum_cols],
    )
