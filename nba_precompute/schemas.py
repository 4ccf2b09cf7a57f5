"""One declaration per warehouse table: columns, logical types, units, descriptions, key, partitioning.

Everything that needs a table's shape reads it from here: the DuckDB DDL, the Polars schema used to
conform a transform's output before it is written, and the Dagster ``TableSchema`` metadata shown in
the UI. Units follow SPEC §3: every fraction is on the 0–1 scale; the only 0–100 value is
``fatigue_score``.

Logical types: ``STRING``, ``INT64``, ``FLOAT64``, ``BOOL``, ``DATE``, ``TIMESTAMP`` and
``STRING_LIST`` (a list of strings; DuckDB ``VARCHAR[]``, BigQuery ``REPEATED STRING``).

BigQuery tables are derived from the same declarations (:meth:`TableSpec.bigquery_schema`,
:meth:`TableSpec.bigquery_table`): column types and modes (``nullable=False`` → ``REQUIRED``), column
descriptions with units, day partitioning on ``partition_column`` and clustering on ``cluster_by``.
BigQuery has no NULL array: a NULL ``STRING_LIST`` is stored (and read back) as an empty list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

# The warehouse schemas (DuckDB schemas / BigQuery datasets) of SPEC §1.
ANALYTICS, PRECOMPUTE, PREDICTIONS, PROCESSING = "nba_analytics", "nba_precompute", "nba_predictions", "nba_processing"
SCHEMAS = (ANALYTICS, PRECOMPUTE, PREDICTIONS, PROCESSING)

# Columns the warehouse writer fills in (the write's timestamp and Dagster run id); transforms never
# produce them.
WRITER_COLUMNS = ("processed_at", "created_at", "run_id")

# --------------------------------------------------------------------------- identity (SPEC §2)

REGULAR_SEASON_PREFIX = "002"


# The two reads that cross a season boundary (the rest of the platform reads D's season only): the
# opening-night universe of upcoming_player_game_context takes the previous season's rosters, read from
# this many days before the season's opening night (a season and an off-season are about six months
# each); MLFS features 29/30 (games and points vs this opponent) are the played games in
# [D - OPPONENT_DAYS, D), any season. nba_precompute.raw.versions says which partitions these reads make
# depend on which nights.
PREVIOUS_SEASON_DAYS = 366
OPPONENT_DAYS = 365
# Which raw nights a table's partition D reads (its input version; ``nba_precompute.raw.versions``):
NIGHT = "box_score"  # D's own night: the box-score tables and the schedule of D
SEASON = "season_pre_game"  # D's schedule and the season's nights before D
ROSTERS = "cross_season"  # SEASON, and the previous season's nights while some team has not played yet
OPPONENT_WINDOW = "opponent_window"  # ROSTERS, and every night of the OPPONENT_DAYS before D
INPUT_WINDOWS = (NIGHT, SEASON, ROSTERS, OPPONENT_WINDOW)


def is_regular_season(game_id: pl.Expr) -> pl.Expr:
    """True for regular-season games: 10-character NBA game ids starting ``002`` (In-Season
    Tournament group and knockout games included; the tournament final ``006...`` is not). The one
    regular-season predicate of the project (SPEC §2)."""
    return game_id.str.starts_with(REGULAR_SEASON_PREFIX)


_POLARS_TYPES: dict[str, pl.DataType] = {
    "STRING": pl.String(),
    "INT64": pl.Int64(),
    "FLOAT64": pl.Float64(),
    "BOOL": pl.Boolean(),
    "DATE": pl.Date(),
    "TIMESTAMP": pl.Datetime("us", "UTC"),
    "STRING_LIST": pl.List(pl.String()),
}

_DUCKDB_TYPES: dict[str, str] = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMPTZ",
    "STRING_LIST": "VARCHAR[]",
}

# Logical type -> (BigQuery standard SQL type, forced mode or None to follow ``nullable``).
_BIGQUERY_TYPES: dict[str, tuple[str, str | None]] = {
    "STRING": ("STRING", None),
    "INT64": ("INT64", None),
    "FLOAT64": ("FLOAT64", None),
    "BOOL": ("BOOL", None),
    "DATE": ("DATE", None),
    "TIMESTAMP": ("TIMESTAMP", None),
    "STRING_LIST": ("STRING", "REPEATED"),
}
# BigQuery clusters on at most four top-level columns of these types (not FLOAT64, not REPEATED).
_BIGQUERY_CLUSTERABLE = {"STRING", "INT64", "BOOL", "DATE", "TIMESTAMP"}
BIGQUERY_MAX_CLUSTERING_COLUMNS = 4


@dataclass(frozen=True)
class Column:
    """One column: name, logical type, description and unit (``None`` for ids and labels)."""

    name: str
    type: str
    description: str
    unit: str | None = None
    nullable: bool = True

    def __post_init__(self) -> None:
        if self.type not in _POLARS_TYPES:
            raise ValueError(f"column {self.name!r}: unknown logical type {self.type!r}")

    @property
    def polars_type(self) -> pl.DataType:
        return _POLARS_TYPES[self.type]

    @property
    def duckdb_type(self) -> str:
        return _DUCKDB_TYPES[self.type]

    @property
    def full_description(self) -> str:
        return f"{self.description} [{self.unit}]" if self.unit else self.description

    @property
    def bigquery_type(self) -> str:
        return _BIGQUERY_TYPES[self.type][0]

    @property
    def bigquery_mode(self) -> str:
        """``REPEATED`` for lists, else ``REQUIRED`` / ``NULLABLE`` from ``nullable``."""
        forced = _BIGQUERY_TYPES[self.type][1]
        return forced or ("NULLABLE" if self.nullable else "REQUIRED")


@dataclass(frozen=True)
class TableSpec:
    """A warehouse table.

    ``partition_column`` is the DATE column that carries the Dagster partition key (one calendar day
    per partition); ``key`` is the grain (unique per partition); ``cluster_by`` are the id columns a
    warehouse may cluster on; ``reads`` which raw nights partition D is computed from (one of
    :data:`INPUT_WINDOWS`; its data version, ``nba_precompute.raw.versions``; ``None`` for the
    bookkeeping tables and the failures table).
    """

    schema: str
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    partition_column: str
    cluster_by: tuple[str, ...] = field(default_factory=tuple)
    enforce_key: bool = False  # DuckDB: declare ``key`` as the PRIMARY KEY (the partition log)
    reads: str | None = None  # one of INPUT_WINDOWS: the raw nights a partition reads (None: no input version)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def asset_key_path(self) -> list[str]:
        return [self.schema, self.name]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def data_columns(self) -> list[str]:
        """The columns a transform produces: every column except those the writer fills in
        (:data:`WRITER_COLUMNS`: ``processed_at``, ``created_at``, ``run_id``)."""
        return [c for c in self.column_names if c not in WRITER_COLUMNS]

    @property
    def polars_schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.polars_type for c in self.columns}

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.qualified_name} has no column {name!r}")

    def duckdb_ddl(self) -> str:
        cols = ",\n  ".join(
            f'"{c.name}" {c.duckdb_type}{"" if c.nullable else " NOT NULL"}' for c in self.columns
        )
        if self.enforce_key:
            cols += ",\n  PRIMARY KEY (" + ", ".join(f'"{k}"' for k in self.key) + ")"
        return f"CREATE TABLE IF NOT EXISTS {self.schema}.{self.name} (\n  {cols}\n)"

    def bigquery_schema(self) -> list:
        """The ``google.cloud.bigquery.SchemaField`` list of this table (types, modes, descriptions
        with units), in declaration order."""
        from google.cloud import bigquery

        return [bigquery.SchemaField(c.name, c.bigquery_type, mode=c.bigquery_mode,
                                     description=c.full_description[:1024]) for c in self.columns]

    def bigquery_table(self, table_id: str):
        """A ``google.cloud.bigquery.Table`` for ``table_id`` (``project.dataset.table``): the declared
        schema, DAY time partitioning on ``partition_column`` and clustering on ``cluster_by``.

        Raises:
            ValueError: the partition column is not a DATE, or a clustering column is not clusterable
                in BigQuery (FLOAT64 / REPEATED) or there are more than four.
        """
        from google.cloud import bigquery

        if self.column(self.partition_column).type != "DATE":
            raise ValueError(f"{self.qualified_name}: partition column {self.partition_column!r} is not a DATE")
        bad = [c for c in self.cluster_by if self.column(c).type not in _BIGQUERY_CLUSTERABLE]
        if bad or len(self.cluster_by) > BIGQUERY_MAX_CLUSTERING_COLUMNS:
            raise ValueError(f"{self.qualified_name}: BigQuery cannot cluster on {list(self.cluster_by)} "
                             f"(at most {BIGQUERY_MAX_CLUSTERING_COLUMNS} columns of types "
                             f"{sorted(_BIGQUERY_CLUSTERABLE)}; not clusterable: {bad})")
        table = bigquery.Table(table_id, schema=self.bigquery_schema())
        table.description = self.description
        table.time_partitioning = bigquery.TimePartitioning(
            type_=bigquery.TimePartitioningType.DAY, field=self.partition_column)
        if self.cluster_by:
            table.clustering_fields = list(self.cluster_by)
        return table

    def conform(self, df: pl.DataFrame) -> pl.DataFrame:
        """Select and cast ``df`` to exactly this table's columns, in order.

        Raises:
            ValueError: a declared column is missing from ``df``, ``df`` has undeclared columns, or a
                value cannot be cast to the declared type (strict cast), naming the table and columns.
        """
        missing = [c for c in self.column_names if c not in df.columns]
        extra = [c for c in df.columns if c not in self.column_names]
        if missing or extra:
            raise ValueError(
                f"{self.qualified_name}: frame does not match the declared schema "
                f"(missing columns {missing}, undeclared columns {extra})"
            )
        try:
            return df.select([pl.col(c.name).cast(c.polars_type, strict=True) for c in self.columns])
        except pl.exceptions.PolarsError as exc:  # pragma: no cover - message passthrough
            raise ValueError(f"{self.qualified_name}: cannot cast to the declared types: {exc}") from exc

    def empty_frame(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """An empty frame with the declared types (all columns, or ``columns`` in that order)."""
        schema = self.polars_schema
        return pl.DataFrame(schema={c: schema[c] for c in (columns or self.column_names)})


def _c(name: str, type_: str, description: str, unit: str | None = None, nullable: bool = True) -> Column:
    return Column(name, type_, description, unit, nullable)


FRACTION = "fraction 0-1"
NO_SHOT_CHART = ("false when its season has no shot chart (none published: 2024-25, 2025-26), so the paint "
                 "and mid-range columns are NULL")
PER_GAME = "per game"
# True shooting is points per shooting possession / 2: 0-1 scaled, but a small sample can exceed 1.
TS_RATIO = "ratio, 0-1 scale, max 1.5"
PROCESSED_AT = _c("processed_at", "TIMESTAMP", "When the row was written (UTC)", nullable=False)

# --------------------------------------------------------------------------- Phase 3: nba_analytics

NBA_SCHEDULE = TableSpec(
    schema="nba_analytics",
    name="nba_schedule",
    description="Every regular-season NBA game scheduled on the partition's date, with its season "
    "calendar. Sources: hoopR schedule.csv.gz (2022-23 on), the 2020-21 team game logs and shot chart.",
    columns=(
        _c("game_id", "STRING", "10-character NBA game id, leading zeros restored", nullable=False),
        _c("game_date", "DATE", "Game date (US Eastern, as the NBA dates it)", nullable=False),
        _c("season_year", "INT64", "Season start year (2022 = 2022-23)", nullable=False),
        _c("season_type", "STRING", "regular_season (the only game type ingested; In-Season Tournament group "
           "and knockout games are regular season, the tournament final is not)"),
        _c("game_status", "STRING", "played (both teams in the box scores; dated the night it was played), "
           "postponed (not in the box scores while a team has played since: no upstream rows expected), "
           "scheduled (not played yet)", nullable=False),
        _c("home_team_id", "INT64", "NBA team id of the home team"),
        _c("away_team_id", "INT64", "NBA team id of the away team"),
        _c("home_team_abbr", "STRING", "Home team tricode"),
        _c("away_team_abbr", "STRING", "Away team tricode"),
        _c("season_start_date", "DATE", "Opening night: first regular-season game date of the season"),
        _c("season_end_date", "DATE", "Last regular-season game date of the season"),
        PROCESSED_AT,
    ),
    key=("game_id",),
    partition_column="game_date",
    reads=NIGHT,
    cluster_by=("game_id",),
)

PLAYER_GAME_SUMMARY = TableSpec(
    schema="nba_analytics",
    name="player_game_summary",
    description="One row per player listed on a regular-season box score (DNP rows kept). Box-score "
    "counts from hoopR player_game_logs1; shot zones from NBA_<year>_Shots (SPEC §3 classifier).",
    columns=(
        _c("game_id", "STRING", "10-character NBA game id", nullable=False),
        _c("game_date", "DATE", "Game date", nullable=False),
        _c("season_year", "INT64", "Season start year", nullable=False),
        _c("player_id", "INT64", "NBA person id", nullable=False),
        _c("player_lookup", "STRING", "Full name folded to lowercase ASCII letters", nullable=False),
        _c("player_name", "STRING", "Display name"),
        _c("team_id", "INT64", "NBA team id"),
        _c("team_abbr", "STRING", "Player's team tricode", nullable=False),
        _c("opponent_team_abbr", "STRING", "Opponent tricode"),
        _c("is_home", "BOOL", "Player's team is the home team"),
        _c("is_starter", "BOOL", "Listed with a starting position"),
        _c("is_active", "BOOL", "No DNP/DND/NWT comment on the box score"),
        _c("is_dnp", "BOOL", "Did not play: no minutes recorded, or 0:00 minutes"),
        _c("dnp_reason", "STRING", "Box-score comment, e.g. 'DNP - Coach's Decision'"),
        _c("minutes_played", "FLOAT64", "Minutes played; NULL for DNP rows without minutes", "minutes"),
        _c("points", "INT64", "Points", "points"),
        _c("fg_makes", "INT64", "Field goals made (box score)", "FGM"),
        _c("fg_attempts", "INT64", "Field goals attempted (box score)", "FGA"),
        _c("box_three_pt_makes", "INT64", "Three-pointers made (box score)", "3PM"),
        _c("box_three_pt_attempts", "INT64", "Three-pointers attempted (box score)", "3PA"),
        _c("ft_makes", "INT64", "Free throws made", "FTM"),
        _c("ft_attempts", "INT64", "Free throws attempted", "FTA"),
        _c("offensive_rebounds", "INT64", "Offensive rebounds", "ORB"),
        _c("defensive_rebounds", "INT64", "Defensive rebounds", "DRB"),
        _c("rebounds", "INT64", "Total rebounds", "REB"),
        _c("assists", "INT64", "Assists", "AST"),
        _c("steals", "INT64", "Steals", "STL"),
        _c("blocks", "INT64", "Blocks", "BLK"),
        _c("turnovers", "INT64", "Turnovers", "TOV"),
        _c("personal_fouls", "INT64", "Personal fouls", "PF"),
        _c("plus_minus", "FLOAT64", "Plus-minus", "points"),
        _c("paint_attempts", "INT64", "2-pt attempts in the Restricted Area or In The Paint (Non-RA); NULL "
           "in a season without a shot chart", "FGA"),
        _c("paint_makes", "INT64", "Made paint attempts (NULL without a shot chart)", "FGM"),
        _c("mid_range_attempts", "INT64", "Every other 2-pt attempt (NULL without a shot chart)", "FGA"),
        _c("mid_range_makes", "INT64", "Made mid-range attempts (NULL without a shot chart)", "FGM"),
        _c("three_pt_attempts", "INT64", "3-pt attempts from the shot chart (from the box score in a season "
           "without one)", "FGA"),
        _c("three_pt_makes", "INT64", "3-pt makes from the shot chart (box score without one)", "FGM"),
        _c("assisted_fg_makes", "INT64", "Not in the sources: always NULL"),
        _c("unassisted_fg_makes", "INT64", "Not in the sources: always NULL"),
        _c("has_complete_shot_zones", "BOOL", "Shot-chart FGA/FGM/3PA equal the box score; false when they "
           "disagree, or when the season has no shot chart"),
        _c("data_quality_issues", "STRING_LIST", "Source disagreements found for this player-game, 'no shot "
           "chart for season ...', and source flags such as inferred:game_id (2020-21)"),
        _c("usage_rate", "FLOAT64", "Usage rate: (FGA + 0.44 FTA + TOV) x (team minutes / 5) / "
           "(minutes x (team FGA + 0.44 team FTA + team TOV)); NULL without minutes or if > 1", FRACTION),
        _c("ts_pct", "FLOAT64", "True shooting: points / (2 x (FGA + 0.44 FTA)); NULL when the "
           "denominator is 0. On the 0-1 scale of a percentage, but not a share: a lone made three "
           "gives 1.5, so the range is [0, 1.5]", TS_RATIO),
        _c("win_flag", "BOOL", "Player's team won (from the team game log)"),
        PROCESSED_AT,
    ),
    key=("game_id", "player_id"),
    partition_column="game_date",
    reads=NIGHT,
    cluster_by=("player_id", "team_abbr"),
)

TEAM_OFFENSE_GAME_SUMMARY = TableSpec(
    schema="nba_analytics",
    name="team_offense_game_summary",
    description="One row per team per regular-season game: box score, possessions, pace, offensive "
    "rating. Source: hoopR team_game_logs.",
    columns=(
        _c("game_id", "STRING", "10-character NBA game id", nullable=False),
        _c("game_date", "DATE", "Game date", nullable=False),
        _c("season_year", "INT64", "Season start year", nullable=False),
        _c("team_id", "INT64", "NBA team id"),
        _c("team_abbr", "STRING", "Team tricode", nullable=False),
        _c("opponent_team_abbr", "STRING", "Opponent tricode"),
        _c("is_home", "BOOL", "Home team"),
        _c("points", "INT64", "Points scored", "points"),
        _c("opponent_points", "INT64", "Points allowed", "points"),
        _c("fg_makes", "INT64", "FGM", "FGM"),
        _c("fg_attempts", "INT64", "FGA", "FGA"),
        _c("three_pt_makes", "INT64", "3PM", "3PM"),
        _c("three_pt_attempts", "INT64", "3PA", "3PA"),
        _c("ft_makes", "INT64", "FTM", "FTM"),
        _c("ft_attempts", "INT64", "FTA", "FTA"),
        _c("offensive_rebounds", "INT64", "ORB", "ORB"),
        _c("defensive_rebounds", "INT64", "DRB", "DRB"),
        _c("assists", "INT64", "AST", "AST"),
        _c("turnovers", "INT64", "TOV", "TOV"),
        _c("team_minutes", "INT64", "Team minutes (240 in regulation, +25 per overtime)", "minutes"),
        _c("possessions", "FLOAT64", "FGA + 0.44 FTA + TOV - ORB", "possessions"),
        _c("pace", "FLOAT64", "possessions x 48 / (team minutes / 5)", "possessions per 48 minutes"),
        _c("offensive_rating", "FLOAT64", "points / possessions x 100", "points per 100 possessions"),
        _c("win_flag", "BOOL", "points > opponent points"),
        _c("margin_of_victory", "INT64", "points - opponent points", "points"),
        PROCESSED_AT,
    ),
    key=("game_id", "team_abbr"),
    partition_column="game_date",
    reads=NIGHT,
    cluster_by=("team_abbr",),
)

TEAM_DEFENSE_GAME_SUMMARY = TableSpec(
    schema="nba_analytics",
    name="team_defense_game_summary",
    description="One row per defending team per regular-season game: the opponent's shots by zone "
    "(shot chart, SPEC §3 classifier) and box score, flipped to the defense.",
    columns=(
        _c("game_id", "STRING", "10-character NBA game id", nullable=False),
        _c("game_date", "DATE", "Game date", nullable=False),
        _c("season_year", "INT64", "Season start year", nullable=False),
        _c("defending_team_abbr", "STRING", "Defending team tricode", nullable=False),
        _c("opponent_team_abbr", "STRING", "Shooting (offensive) team tricode"),
        _c("points_allowed", "INT64", "Opponent points", "points"),
        _c("opp_fg_attempts", "INT64", "Opponent FGA (box score)", "FGA"),
        _c("opp_fg_makes", "INT64", "Opponent FGM (box score)", "FGM"),
        _c("opp_ft_attempts", "INT64", "Opponent FTA", "FTA"),
        _c("opp_offensive_rebounds", "INT64", "Opponent ORB", "ORB"),
        _c("opp_turnovers", "INT64", "Opponent TOV", "TOV"),
        _c("opp_paint_attempts", "INT64", "Opponent paint attempts (shot chart; NULL without one)", "FGA"),
        _c("opp_paint_makes", "INT64", "Opponent paint makes (NULL without a shot chart)", "FGM"),
        _c("opp_mid_range_attempts", "INT64", "Opponent mid-range attempts (NULL without a shot chart)", "FGA"),
        _c("opp_mid_range_makes", "INT64", "Opponent mid-range makes (NULL without a shot chart)", "FGM"),
        _c("opp_three_pt_attempts", "INT64", "Opponent 3-pt attempts (shot chart; box score without one)", "FGA"),
        _c("opp_three_pt_makes", "INT64", "Opponent 3-pt makes (shot chart; box score without one)", "FGM"),
        _c("points_in_paint_allowed", "INT64", "opp_paint_makes x 2 (free throws excluded)", "points"),
        _c("mid_range_points_allowed", "INT64", "opp_mid_range_makes x 2", "points"),
        _c("three_pt_points_allowed", "INT64", "opp_three_pt_makes x 3", "points"),
        _c("blocks_paint", "INT64", "Blocks by zone: not in the sources, NULL"),
        _c("blocks_mid_range", "INT64", "Not in the sources, NULL"),
        _c("blocks_three_pt", "INT64", "Not in the sources, NULL"),
        _c("opponent_possessions", "FLOAT64", "Opponent FGA + 0.44 FTA + TOV - ORB", "possessions"),
        _c("defensive_rating", "FLOAT64", "points allowed / opponent possessions x 100",
           "points per 100 possessions"),
        _c("opponent_pace", "FLOAT64", "Opponent possessions x 48 / (team minutes / 5), the same "
           "definition as team_offense_game_summary.pace", "possessions per 48 minutes"),
        _c("has_shot_chart", "BOOL", "The season has a shot chart; false: paint and mid-range columns NULL "
           "because none was published (2024-25, 2025-26)", nullable=False),
        PROCESSED_AT,
    ),
    key=("game_id", "defending_team_abbr"),
    partition_column="game_date",
    reads=NIGHT,
    cluster_by=("defending_team_abbr",),
)

UPCOMING_PLAYER_GAME_CONTEXT = TableSpec(
    schema="nba_analytics",
    name="upcoming_player_game_context",
    description="One row per player of D's pre-game universe (his most recent played game, within the 30 "
    "days before D, was for a team scheduled on D; nothing of D's box scores is read): rest, load and pace "
    "context from their own played games before D (reference §3.5 / §6.4, SPEC §4).",
    columns=(
        _c("player_id", "INT64", "NBA person id", nullable=False),
        _c("player_lookup", "STRING", "Normalised name", nullable=False),
        _c("game_id", "STRING", "Game on D", nullable=False),
        _c("game_date", "DATE", "D", nullable=False),
        _c("season_year", "INT64", "Season start year", nullable=False),
        _c("team_abbr", "STRING", "Player's team on D", nullable=False),
        _c("opponent_team_abbr", "STRING", "Opponent on D"),
        _c("home_game", "BOOL", "Player's team is at home"),
        _c("days_rest", "INT64", "Calendar days since the player's previous played game this season "
           "(NULL for his first)", "days"),
        _c("back_to_back", "BOOL", "days_rest = 1"),
        _c("opponent_days_rest", "INT64", "Calendar days since the opponent's previous game this season",
           "days"),
        _c("season_phase", "STRING", "regular_season"),
        _c("player_status", "STRING", "Injury status: no source, NULL"),
        _c("games_in_last_7_days", "INT64", "Played games in [D-7, D)", "games"),
        _c("games_in_last_14_days", "INT64", "Played games in [D-14, D)", "games"),
        _c("minutes_in_last_7_days", "FLOAT64", "Minutes in [D-7, D)", "minutes"),
        _c("minutes_in_last_14_days", "FLOAT64", "Minutes in [D-14, D)", "minutes"),
        _c("back_to_backs_last_14_days", "INT64", "Consecutive-day pairs of played games inside [D-14, D)",
           "count"),
        _c("avg_minutes_per_game_last_7", "FLOAT64", "minutes_in_last_7_days / games_in_last_7_days",
           "minutes per game"),
        _c("avg_usage_rate_last_7_games", "FLOAT64", "Mean usage rate over the last 7 played games "
           "(games, not days: legacy bug B5)", FRACTION),
        _c("fourth_quarter_minutes_last_7", "FLOAT64", "Not in the sources, NULL", "minutes"),
        _c("player_age", "FLOAT64", "Not in the sources, NULL", "years"),
        _c("projected_usage_rate", "FLOAT64", "Season usage average before D (a deliberate, simple "
           "projection; SPEC §5)", FRACTION),
        _c("star_teammates_out", "INT64", "The team's top-3 scorers (points per played game for the team "
           "this season before D, >= 5 games) other than the player who are not in D's pre-game universe or "
           "did not play the team's last game before D", "players"),
        _c("team_pace_last_10", "FLOAT64", "Mean pace of the team's last 10 games before D this season",
           "possessions per 48 minutes"),
        _c("opponent_pace_last_10", "FLOAT64", "Mean pace of the opponent's last 10 games before D",
           "possessions per 48 minutes"),
        _c("pace_differential", "FLOAT64", "team_pace_last_10 - opponent_pace_last_10",
           "possessions per 48 minutes"),
        _c("game_total", "FLOAT64", "Betting total: no source, NULL", "points"),
        _c("game_spread", "FLOAT64", "Betting spread: no source, NULL", "points"),
        _c("has_prop_line", "BOOL", "A points prop line is known (no source here: FALSE)"),
        _c("current_points_line", "FLOAT64", "No source, NULL", "points"),
        _c("prop_over_streak", "INT64", "No source, NULL"),
        _c("prop_under_streak", "INT64", "No source, NULL"),
        _c("is_production_ready", "BOOL", "Rest and load history present (player has a previous game)"),
        PROCESSED_AT,
    ),
    key=("game_date", "player_id"),
    partition_column="game_date",
    reads=ROSTERS,
    cluster_by=("player_id", "team_abbr"),
)

UPCOMING_TEAM_GAME_CONTEXT = TableSpec(
    schema="nba_analytics",
    name="upcoming_team_game_context",
    description="One row per team playing a regular-season game on D: opponent, home/away and rest.",
    columns=(
        _c("team_abbr", "STRING", "Team tricode", nullable=False),
        _c("game_id", "STRING", "Game on D", nullable=False),
        _c("game_date", "DATE", "D", nullable=False),
        _c("season_year", "INT64", "Season start year", nullable=False),
        _c("opponent_team_abbr", "STRING", "Opponent tricode"),
        _c("home_game", "BOOL", "Team is at home"),
        _c("days_rest", "INT64", "Days since the team's previous game this season (NULL for the first)",
           "days"),
        _c("back_to_back", "BOOL", "days_rest = 1"),
        _c("opponent_days_rest", "INT64", "Opponent's days_rest", "days"),
        _c("game_total", "FLOAT64", "Betting total: no source, NULL", "points"),
        _c("game_spread", "FLOAT64", "Betting spread: no source, NULL", "points"),
        _c("is_production_ready", "BOOL", "Schedule context present"),
        PROCESSED_AT,
    ),
    key=("game_date", "team_abbr"),
    partition_column="game_date",
    reads=SEASON,
    cluster_by=("team_abbr",),
)

# --------------------------------------------------------------------------- Phase 4: nba_precompute

_COMPLETENESS = (
    _c("expected_games_count", "INT64", "Games the schedule says the window should hold", "games"),
    _c("actual_games_count", "INT64", "Games found upstream for the window", "games"),
    _c("completeness_pct", "FLOAT64", "actual / expected (1 when nothing is expected)", FRACTION),
    _c("missing_games_count", "INT64", "max(0, expected - actual)", "games"),
    _c("is_production_ready", "BOOL", "completeness_pct >= 0.7 (reference §2.1)"),
)

TEAM_DEFENSE_ZONE_ANALYSIS = TableSpec(
    schema="nba_precompute",
    name="team_defense_zone_analysis",
    description="TDZA: each team's defense by shot zone over its last 15 games before D this season "
    "(reference §4, SPEC §5). Teams with fewer than 15 games get a precompute_failures row instead.",
    columns=(
        _c("team_abbr", "STRING", "Team tricode", nullable=False),
        _c("analysis_date", "DATE", "D (uses games strictly before D)", nullable=False),
        _c("season_year", "INT64", "Season start year", nullable=False),
        _c("paint_pct_allowed_last_15", "FLOAT64", "Opponent paint FG% over the window", FRACTION),
        _c("paint_attempts_allowed_per_game", "FLOAT64", "Opponent paint FGA per game", PER_GAME),
        _c("paint_points_allowed_per_game", "FLOAT64", "Opponent paint points per game", "points per game"),
        _c("paint_blocks_per_game", "FLOAT64", "Blocks by zone not in the sources: NULL", PER_GAME),
        _c("paint_defense_vs_league_avg", "FLOAT64", "paint_pct_allowed - league paint FG% "
           "(positive = worse defense)", "fraction difference"),
        _c("mid_range_pct_allowed_last_15", "FLOAT64", "Opponent mid-range FG%", FRACTION),
        _c("mid_range_attempts_allowed_per_game", "FLOAT64", "Opponent mid-range FGA per game", PER_GAME),
        _c("mid_range_points_allowed_per_game", "FLOAT64", "Opponent mid-range points per game",
           "points per game"),
        _c("mid_range_blocks_per_game", "FLOAT64", "Not in the sources: NULL", PER_GAME),
        _c("mid_range_defense_vs_league_avg", "FLOAT64", "mid_range_pct_allowed - league mid-range FG%",
           "fraction difference"),
        _c("three_pt_pct_allowed_last_15", "FLOAT64", "Opponent 3-pt FG%", FRACTION),
        _c("three_pt_attempts_allowed_per_game", "FLOAT64", "Opponent 3PA per game", PER_GAME),
        _c("three_pt_points_allowed_per_game", "FLOAT64", "Opponent 3-pt points per game", "points per game"),
        _c("three_pt_blocks_per_game", "FLOAT64", "Not in the sources: NULL", PER_GAME),
        _c("three_pt_defense_vs_league_avg", "FLOAT64", "three_pt_pct_allowed - league 3-pt FG%",
           "fraction difference"),
        _c("defensive_rating_last_15", "FLOAT64", "Mean of the per-game defensive rating",
           "points per 100 possessions"),
        _c("opponent_points_per_game", "FLOAT64", "Points allowed per game", "points per game"),
        _c("opponent_pace", "FLOAT64", "Mean opponent pace (per 48 minutes, legacy bug B19 fixed)",
           "possessions per 48 minutes"),
        _c("games_in_sample", "INT64", "Games in the window (15 on every written row)", "games"),
        _c("strongest_zone", "STRING", "Zone with the lowest vs-league value: paint / mid_range / perimeter"),
        _c("weakest_zone", "STRING", "Zone with the highest vs-league value"),
        _c("league_paint_pct", "FLOAT64", "League paint FG% over [D-30, D)", FRACTION),
        _c("league_mid_range_pct", "FLOAT64", "League mid-range FG% over [D-30, D)", FRACTION),
        _c("league_three_pt_pct", "FLOAT64", "League 3-pt FG% over [D-30, D)", FRACTION),
        _c("league_avg_teams", "INT64", "Teams with >= 10 games in [D-30, D) behind the league average",
           "teams"),
        _c("league_avg_is_default", "BOOL", "Fewer than 10 teams qualified: defaults 0.580/0.410/0.355 "
           "(paint and mid-range NULL instead in a season without a shot chart)"),
        _c("has_shot_chart", "BOOL", "Every game of the 15-game window has a zone split; " + NO_SHOT_CHART, nullable=False),
        _c("data_quality_tier", "STRING", "high (>= 15 games), medium (>= 10), low"),
        _c("calculation_notes", "STRING", "Notes such as 'No paint attempts'"),
        *_COMPLETENESS,
        PROCESSED_AT,
    ),
    key=("analysis_date", "team_abbr"),
    partition_column="analysis_date",
    reads=SEASON,
    cluster_by=("team_abbr",),
)

PLAYER_SHOT_ZONE_ANALYSIS = TableSpec(
    schema="nba_precompute",
    name="player_shot_zone_analysis",
    description="PSZA: each player's shot distribution and efficiency by zone over his last 10 (and 20) "
    "played games before D this season (reference §5, SPEC §5). Players with fewer than 10 played games "
    "get a precompute_failures INCOMPLETE_DATA row instead.",
    columns=(
        _c("player_id", "INT64", "NBA person id", nullable=False),
        _c("player_lookup", "STRING", "Normalised name", nullable=False),
        _c("analysis_date", "DATE", "D (uses games strictly before D)", nullable=False),
        _c("season_year", "INT64", "Season start year", nullable=False),
        _c("team_abbr", "STRING", "Team of the player's latest game before D"),
        _c("paint_rate_last_10", "FLOAT64", "Paint attempts / zone attempts, last 10 games", FRACTION),
        _c("mid_range_rate_last_10", "FLOAT64", "Mid-range attempts / zone attempts", FRACTION),
        _c("three_pt_rate_last_10", "FLOAT64", "3-pt attempts / zone attempts", FRACTION),
        _c("total_shots_last_10", "INT64", "Zone attempts (paint + mid + three), last 10 games", "FGA"),
        _c("games_in_sample_10", "INT64", "Played games in the 10-game window", "games"),
        _c("sample_quality_10", "STRING", "excellent (10), good (>= 7), limited (>= 5), insufficient"),
        _c("paint_pct_last_10", "FLOAT64", "Paint FG%", FRACTION),
        _c("mid_range_pct_last_10", "FLOAT64", "Mid-range FG%", FRACTION),
        _c("three_pt_pct_last_10", "FLOAT64", "3-pt FG%", FRACTION),
        _c("paint_attempts_per_game", "FLOAT64", "Paint FGA per game, last 10", PER_GAME),
        _c("mid_range_attempts_per_game", "FLOAT64", "Mid-range FGA per game, last 10", PER_GAME),
        _c("three_pt_attempts_per_game", "FLOAT64", "3PA per game, last 10", PER_GAME),
        _c("paint_rate_last_20", "FLOAT64", "Paint rate over the last 20 games; NULL below 15 games",
           FRACTION),
        _c("paint_pct_last_20", "FLOAT64", "Paint FG% over the last 20 games; NULL below 15 games", FRACTION),
        _c("games_in_sample_20", "INT64", "Played games in the 20-game window", "games"),
        _c("sample_quality_20", "STRING", "excellent (20), good (>= 14), limited (>= 10), insufficient"),
        _c("assisted_rate_last_10", "FLOAT64", "Assisted makes not in the sources: NULL", FRACTION),
        _c("unassisted_rate_last_10", "FLOAT64", "Not in the sources: NULL", FRACTION),
        _c("player_position", "STRING", "Not populated (NULL)"),
        _c("primary_scoring_zone", "STRING", "paint (paint rate >= 0.40), perimeter (three >= 0.40), "
           "mid_range (mid >= 0.35), balanced; NULL with no attempts"),
        _c("has_complete_shot_zones", "BOOL", "Every game in the 10-game window has shot-chart counts "
           "equal to the box score"),
        _c("has_shot_chart", "BOOL", "Every game of the 10-game window has a zone split; " + NO_SHOT_CHART, nullable=False),
        _c("data_quality_issues", "STRING_LIST", "Source disagreements inside the 10-game window"),
        _c("data_quality_tier", "STRING", "high (>= 10 games), medium (>= 7), low"),
        _c("calculation_notes", "STRING", "Why some columns are NULL"),
        *_COMPLETENESS,
        PROCESSED_AT,
    ),
    key=("analysis_date", "player_id"),
    partition_column="analysis_date",
    reads=SEASON,
    cluster_by=("player_id", "player_lookup"),
)

PLAYER_COMPOSITE_FACTORS = TableSpec(
    schema="nba_precompute",
    name="player_composite_factors",
    description="PCF: four composite adjustment factors (fatigue, shot-zone mismatch, pace, usage spike) "
    "for every player playing on D, from his upcoming-game context, his PSZA row and the opponent's TDZA "
    "row for D (reference §6, SPEC §5). Every player in upcoming_player_game_context is written; missing "
    "PSZA/TDZA rows give a 0.0 mismatch factor and false readiness flags.",
    columns=(
        _c("player_id", "INT64", "NBA person id", nullable=False),
        _c("player_lookup", "STRING", "Normalised name", nullable=False),
        _c("game_date", "DATE", "D, the date of the game the factors are for", nullable=False),
        _c("analysis_date", "DATE", "= game_date (uses games strictly before D)", nullable=False),
        _c("season_year", "INT64", "Season start year", nullable=False),
        _c("game_id", "STRING", "Game on D", nullable=False),
        _c("team_abbr", "STRING", "Player's team on D", nullable=False),
        _c("opponent_team_abbr", "STRING", "Opponent on D"),
        # fatigue
        _c("fatigue_score", "INT64", "100 - penalties (+5 rest bonus), clamped to [0, 100]; higher = fresher",
           "score 0-100", nullable=False),
        _c("fatigue_adjustment", "FLOAT64", "(fatigue_score - 100) / 20, in [-5, 0]", "points"),
        _c("days_rest", "INT64", "UPCG input (NULL read as 1)", "days"),
        _c("back_to_back", "BOOL", "UPCG input (NULL read as false)"),
        _c("games_in_last_7_days", "INT64", "UPCG input (NULL read as 3)", "games"),
        _c("minutes_in_last_7_days", "FLOAT64", "UPCG input (NULL read as 200)", "minutes"),
        _c("avg_minutes_per_game_last_7", "FLOAT64", "UPCG input (NULL read as 30)", "minutes per game"),
        _c("back_to_backs_last_14_days", "INT64", "UPCG input (NULL read as 0)", "count"),
        _c("player_age", "FLOAT64", "UPCG input: no source, NULL (read as 25)", "years"),
        _c("fatigue_rest_points", "INT64", "-15 back-to-back, +5 with >= 3 days rest, else 0", "score points"),
        _c("fatigue_games_points", "INT64", "-10 with >= 4 games in the last 7 days", "score points"),
        _c("fatigue_minutes_points", "INT64", "-10 with > 240 minutes in the last 7 days", "score points"),
        _c("fatigue_mpg_points", "INT64", "-8 with > 35 minutes per game over the last 7 days", "score points"),
        _c("fatigue_b2b_points", "INT64", "-12 with >= 2 back-to-backs in 14 days, -5 with one", "score points"),
        _c("fatigue_age_points", "INT64", "-10 age >= 35, -5 age >= 30", "score points"),
        # shot-zone mismatch
        _c("shot_zone_mismatch_score", "FLOAT64", "d x min(zone_rate / 0.5, 1), x 1.2 when |.| > 5, clamped "
           "to [-10, 10]; d = opponent defense vs league x 100; 0 without PSZA or opponent TDZA row; "
           "positive = favorable for the offense", "points"),
        _c("primary_scoring_zone", "STRING", "PSZA zone: paint / mid_range / perimeter / balanced "
           "(balanced and NULL use the paint fields)"),
        _c("primary_zone_frequency", "FLOAT64", "PSZA rate of the zone used (NULL when inputs missing)",
           FRACTION),
        _c("opponent_weak_zone", "STRING", "Opponent TDZA weakest_zone"),
        _c("opponent_defense_vs_league", "FLOAT64", "Opponent <zone>_defense_vs_league_avg used",
           "fraction difference"),
        _c("shot_zone_mismatch_type", "STRING", "favorable (> 2), unfavorable (< -2), neutral; NULL when "
           "inputs missing"),
        # pace
        _c("pace_score", "FLOAT64", "clamp(pace_differential / 2, -3, 3); NULL differential -> 0", "points"),
        _c("pace_differential", "FLOAT64", "UPCG team pace last 10 - opponent pace last 10",
           "possessions per 48 minutes"),
        _c("opponent_pace_last_10", "FLOAT64", "UPCG input", "possessions per 48 minutes"),
        _c("pace_environment", "STRING", "fast (differential > 2), slow (< -2), normal"),
        # usage
        _c("usage_spike_score", "FLOAT64", "(proj - base) x 100 x 0.3, x 1.30 (2+ stars out) / x 1.15 "
           "(1) when positive, clamped to [-3, 3]; 0 when base = 0", "points"),
        _c("projected_usage_rate", "FLOAT64", "UPCG season usage average before D (NULL read as 0.25)",
           FRACTION),
        _c("avg_usage_rate_last_7_games", "FLOAT64", "UPCG usage over the last 7 games (NULL read as 0.25)",
           FRACTION),
        _c("usage_differential", "FLOAT64", "proj - base after defaults", "fraction difference"),
        _c("star_teammates_out", "INT64", "UPCG input", "players"),
        _c("usage_trend", "STRING", "spike (differential > 0.02), drop (< -0.02), stable"),
        # deferred
        _c("referee_favorability_score", "FLOAT64", "Deferred factor: always 0.0", "points"),
        _c("look_ahead_pressure_score", "FLOAT64", "Deferred factor: always 0.0", "points"),
        _c("travel_impact_score", "FLOAT64", "Deferred factor: always 0.0", "points"),
        _c("opponent_strength_score", "FLOAT64", "Deferred factor: always 0.0", "points"),
        _c("total_composite_adjustment", "FLOAT64", "fatigue_adjustment + mismatch + pace + usage + "
           "deferred (unrounded)", "points"),
        # quality
        _c("data_completeness_pct", "FLOAT64", "0.2 for each input present: days_rest, projected usage, "
           "pace differential, PSZA row, opponent TDZA row", FRACTION),
        _c("missing_data_fields", "STRING_LIST", "The inputs of data_completeness_pct that are missing"),
        _c("has_warnings", "BOOL", "warning_details is not empty"),
        _c("warning_details", "STRING_LIST", "EXTREME_FATIGUE (score < 50), EXTREME_MATCHUP (|mismatch| > "
           "8), EXTREME_ADJUSTMENT (|total| > 12)"),
        _c("psza_present", "BOOL", "The player has a PSZA row for D"),
        _c("tdza_present", "BOOL", "The opponent has a TDZA row for D"),
        _c("upstream_player_shot_ready", "BOOL", "PSZA row present and production-ready"),
        _c("upstream_team_defense_ready", "BOOL", "Opponent TDZA row present and production-ready"),
        _c("upstream_player_context_ready", "BOOL", "UPCG row production-ready"),
        _c("upstream_team_context_ready", "BOOL", "Opponent upcoming_team_game_context row production-ready"),
        _c("all_upstreams_ready", "BOOL", "All four upstream flags"),
        _c("expected_games_count", "INT64", "Team's last 10 scheduled games before D", "games"),
        _c("actual_games_count", "INT64", "Those present in player_game_summary", "games"),
        _c("completeness_pct", "FLOAT64", "actual / expected (1 when nothing is expected)", FRACTION),
        _c("missing_games_count", "INT64", "max(0, expected - actual)", "games"),
        _c("own_data_ready", "BOOL", "completeness_pct >= 0.7"),
        _c("is_production_ready", "BOOL", "own_data_ready and all_upstreams_ready (reference §6.3)"),
        _c("data_quality_issues", "STRING_LIST", "own_data_incomplete, upstream_*_incomplete, and "
           "'WARNING: <factor> outside +/-<bound>' range warnings (reference §6.4)"),
        _c("calculation_version", "STRING", "Formula version label"),
        PROCESSED_AT,
    ),
    key=("game_date", "player_id"),
    partition_column="game_date",
    reads=ROSTERS,
    cluster_by=("player_id", "player_lookup"),
)

_WINDOW_COMPLETENESS = tuple(
    col
    for w, what in (("l5", "the team's last 5 scheduled games before D"),
                    ("l10", "the team's last 10 scheduled games before D"),
                    ("l7d", "the team's scheduled games in [D - (7 + break_days), D)"),
                    ("l14d", "the team's scheduled games in [D - (14 + break_days), D)"))
    for col in (
        _c(f"{w}_completeness_pct", "FLOAT64", f"Share of {what} present in player_game_summary "
           "(1 when none scheduled)", FRACTION),
        _c(f"{w}_is_complete", "BOOL", f"{w}_completeness_pct >= 0.7"),
    )
)

PLAYER_DAILY_CACHE = TableSpec(
    schema="nba_precompute",
    name="player_daily_cache",
    description="PDC: each playing player's scoring, minutes, usage and shooting aggregates over his last "
    "5 / 10 played games and the season before D, his team's pace and offensive rating over its last 10 "
    "games, his load, his PSZA zone profile and multi-window completeness (reference §7, SPEC §5). "
    "Players with fewer than 3 played games this season get an INCOMPLETE_DATA failure row, players whose "
    "last played game is more than 30 days before D a STALE_DATA row, instead.",
    columns=(
        _c("player_id", "INT64", "NBA person id", nullable=False),
        _c("player_lookup", "STRING", "Normalised name", nullable=False),
        _c("cache_date", "DATE", "D (uses games strictly before D)", nullable=False),
        _c("season_year", "INT64", "Season start year", nullable=False),
        _c("team_abbr", "STRING", "Player's team on D", nullable=False),
        _c("game_id", "STRING", "Game on D"),
        _c("points_avg_last_5", "FLOAT64", "Mean points over the last 5 played games (fewer when not "
           "available)", "points per game"),
        _c("points_avg_last_10", "FLOAT64", "Mean points over the last 10 played games", "points per game"),
        _c("points_avg_season", "FLOAT64", "Mean points over all played games this season before D",
           "points per game"),
        _c("points_std_last_10", "FLOAT64", "Sample standard deviation (ddof = 1) of points over the last 10 "
           "played games; NULL below 2 games", "points"),
        _c("minutes_avg_last_10", "FLOAT64", "Mean minutes over the last 10 played games", "minutes per game"),
        _c("usage_rate_last_10", "FLOAT64", "Mean usage rate over the last 10 played games (NULLs skipped)",
           FRACTION),
        _c("ts_pct_last_10", "FLOAT64", "Mean true-shooting % over the last 10 played games (NULLs "
           "skipped); range [0, 1.5] like ts_pct", TS_RATIO),
        _c("games_played_season", "INT64", "Played games (minutes > 0) this season before D", "games"),
        _c("player_usage_rate_season", "FLOAT64", "Mean usage rate this season before D", FRACTION),
        _c("assisted_rate_last_10", "FLOAT64", "Assisted makes not in the sources: NULL", FRACTION),
        _c("last_played_game_date", "DATE", "Date of the last played game before D"),
        _c("days_since_last_game", "INT64", "D - last_played_game_date (<= 30 on every row)", "days"),
        _c("team_pace_last_10", "FLOAT64", "Mean pace of the team's last 10 games before D this season",
           "possessions per 48 minutes"),
        _c("team_off_rating_last_10", "FLOAT64", "Mean offensive rating of those games",
           "points per 100 possessions"),
        _c("team_games_last_10", "INT64", "Team games in that window", "games"),
        _c("games_in_last_7_days", "INT64", "UPCG copy: played games in [D-7, D)", "games"),
        _c("games_in_last_14_days", "INT64", "UPCG copy: played games in [D-14, D)", "games"),
        _c("minutes_in_last_7_days", "FLOAT64", "UPCG copy", "minutes"),
        _c("minutes_in_last_14_days", "FLOAT64", "UPCG copy", "minutes"),
        _c("back_to_backs_last_14_days", "INT64", "UPCG copy", "count"),
        _c("avg_minutes_per_game_last_7", "FLOAT64", "UPCG copy", "minutes per game"),
        _c("fourth_quarter_minutes_last_7", "FLOAT64", "UPCG copy: no source, NULL", "minutes"),
        _c("player_age", "FLOAT64", "UPCG copy: no source, NULL", "years"),
        _c("primary_scoring_zone", "STRING", "PSZA copy: paint / mid_range / perimeter / balanced"),
        _c("paint_rate_last_10", "FLOAT64", "PSZA copy", FRACTION),
        _c("three_pt_rate_last_10", "FLOAT64", "PSZA copy", FRACTION),
        _c("shot_zone_data_available", "BOOL", "The zone split is known: a PSZA row exists for the player "
           "and D AND its season has a shot chart (PSZA has_shot_chart). False without a PSZA row, and in a "
           "season without a shot chart, whose PSZA row has the three-point share only (paint rate, primary "
           "zone NULL). The reference's 'a PSZA row existed' meant the same in its shot-chart-only world; "
           "what holds here is its rule that false means the shot-zone fields are NULL"),
        _c("early_season_flag", "BOOL", "Fewer than 10 played games this season before D"),
        _c("insufficient_data_reason", "STRING", "'Only N games played, need 10 minimum' when flagged"),
        _c("expected_games_count", "INT64", "L5 window: the team's last 5 scheduled games before D", "games"),
        _c("actual_games_count", "INT64", "L5 window: those present in player_game_summary", "games"),
        _c("completeness_pct", "FLOAT64", "L5 actual / expected (1 when nothing is expected)", FRACTION),
        _c("missing_games_count", "INT64", "L5 max(0, expected - actual)", "games"),
        _c("quality_tier", "STRING", "From the L5 completeness: gold >= 0.95, silver >= 0.75, bronze >= 0.50, "
           "poor >= 0.25, else unusable"),
        _c("cache_quality_score", "FLOAT64", "= L5 completeness_pct", FRACTION),
        *_WINDOW_COMPLETENESS,
        _c("break_days", "INT64", "Days without any regular-season game immediately before D (max 30), added "
           "to the day windows", "days"),
        _c("all_windows_complete", "BOOL", "All four windows >= 0.7"),
        _c("is_production_ready", "BOOL", "= all_windows_complete"),
        _c("cache_version", "STRING", "Formula version label"),
        PROCESSED_AT,
    ),
    key=("cache_date", "player_id"),
    partition_column="cache_date",
    reads=ROSTERS,
    cluster_by=("player_id", "player_lookup"),
)

# --------------------------------------------------------------------------- Phase 4: nba_predictions


# MLFS feature catalogue (reference §8.4): the ml_feature_store_v2 feature columns are generated from it,
# and the MLFS transform resolves each feature by name, default and valid range from it.

@dataclass(frozen=True)
class Feature:
    """One feature: reference §8.4 index and name, whether the quality scorer treats it as required,
    its default (``None`` = NULL with source ``missing``), its valid range (reference §8.6; ``None`` =
    unchecked), its unit and what it is."""

    index: int
    name: str
    required: bool
    default: float | None
    valid_range: tuple[float, float] | None
    unit: str
    description: str


def _f(index, name, default, valid_range, unit, description) -> Feature:
    optional = index in (25, 26, 27) or 37 <= index <= 59
    return Feature(index, name, not optional, default, valid_range, unit, description)


FEATURES: tuple[Feature, ...] = (
    _f(0, "points_avg_last_5", 10.0, (0, 70), "points per game", "Mean points, last 5 played games (PDC; "
       "Phase 3 needs 5 games)"),
    _f(1, "points_avg_last_10", 10.0, (0, 70), "points per game", "Mean points, last 10 played games"),
    _f(2, "points_avg_season", 10.0, (0, 70), "points per game", "Mean points, season before D"),
    _f(3, "points_std_last_10", 5.0, (0, 30), "points", "Sample std (ddof 1) of points, last 10"),
    _f(4, "games_in_last_7_days", 3.0, (0, 4), "games", "Played games in [D-7, D)"),
    _f(5, "fatigue_score", 50.0, (0, 100), "score 0-100", "PCF fatigue score (the only 0-100 value)"),
    _f(6, "shot_zone_mismatch_score", 0.0, (-15, 15), "points", "PCF shot-zone mismatch factor"),
    _f(7, "pace_score", 0.0, (-8, 8), "points", "PCF pace factor"),
    _f(8, "usage_spike_score", 0.0, (-8, 8), "points", "PCF usage-spike factor"),
    _f(9, "rest_advantage", 0.0, (-3, 3), "days", "clamp(days_rest - opponent_days_rest, -2, 2)"),
    _f(10, "injury_risk", 0.0, (0, 3), "level 0-3", "player_status: available/empty 0, probable 1, "
       "questionable 2, doubtful/out 3"),
    _f(11, "recent_trend", 0.0, (-2, 2), "level -2..2", "mean(last 2) - mean(previous 3) points: >= 5 -> 2, "
       ">= 2 -> 1, <= -5 -> -2, <= -2 -> -1 (needs 5 games)"),
    _f(12, "minutes_change", 0.0, (-2, 2), "level -2..2", "(minutes last 10 - season) / season: >= 0.20 -> 2, "
       ">= 0.10 -> 1, <= -0.20 -> -2, <= -0.10 -> -1"),
    _f(13, "opponent_def_rating", 112.0, (90, 130), "points per 100 possessions",
       "Opponent TDZA defensive_rating_last_15"),
    _f(14, "opponent_pace", 100.0, (90, 115), "possessions per 48 minutes", "Opponent TDZA opponent_pace"),
    _f(15, "home_away", 0.0, (0, 1), "flag", "1 at home"),
    _f(16, "back_to_back", 0.0, (0, 1), "flag", "1 on the second night of a back-to-back"),
    _f(17, "playoff_game", 0.0, (0, 1), "flag", "1 when season_phase = playoffs"),
    _f(18, "pct_paint", None, (0, 1), "fraction 0-1", "Paint share of zone attempts, last 10 (no /100)"),
    _f(19, "pct_mid_range", None, (0, 1), "fraction 0-1", "Mid-range share of zone attempts, last 10"),
    _f(20, "pct_three", None, (0, 1), "fraction 0-1", "Three share of zone attempts, last 10"),
    _f(21, "pct_free_throw", 0.15, (0, 0.5), "fraction 0-1", "FT makes / points, last 10, clamped to "
       "[0, 0.5] (needs 5 games and points)"),
    _f(22, "team_pace", 100.0, (90, 115), "possessions per 48 minutes", "Team pace, last 10 team games"),
    _f(23, "team_off_rating", 112.0, (90, 130), "points per 100 possessions", "Team offensive rating, last 10"),
    _f(24, "team_win_pct", 0.5, (0, 1), "fraction 0-1", "Team wins / games this season (needs 5 games)"),
    _f(25, "vegas_points_line", None, (0, 80), "points", "No source: NULL"),
    _f(26, "vegas_opening_line", None, (0, 80), "points", "No source: NULL"),
    _f(27, "vegas_line_move", None, (-15, 15), "points", "No source: NULL"),
    _f(28, "has_vegas_line", 0.0, (0, 1), "flag", "0.0: no line source exists here (calculated)"),
    _f(29, "avg_points_vs_opponent", 10.0, (0, 70), "points per game", "Mean points vs this opponent over "
       "the played games in [D - 365 days, D), any season; else the season average (calculated); else 10"),
    _f(30, "games_vs_opponent", 0.0, (0, 100), "games", "Played games vs this opponent in [D - 365 days, D), "
       "any season"),
    _f(31, "minutes_avg_last_10", 28.0, (0, 48), "minutes per game", "Mean minutes, last 10 played games"),
    _f(32, "ppm_avg_last_10", 0.4, (0, 1.5), "points per minute", "Mean per-game points / minutes, last 10"),
    _f(33, "dnp_rate", 0.0, (0, 1), "fraction 0-1", "DNP rows / box-score rows, last 10 rows (needs 3)"),
    _f(34, "pts_slope_10g", 0.0, (-5, 5), "points per game", "OLS slope of points on x = 1..n, last 10 "
       "played games (needs 5)"),
    _f(35, "pts_vs_season_zscore", 0.0, (-4, 4), "std units", "clamp((L5 - season) / std_last_10, -3, 3)"),
    _f(36, "breakout_flag", 0.0, (0, 1), "flag", "1 when L5 > season + 1.5 x std_last_10"),
    _f(37, "star_teammates_out", 0.0, (0, 5), "players", "UPCG: teammates >= 20 ppg listed DNP on D"),
    _f(38, "game_total_line", None, (180, 280), "points", "No source: NULL"),
    _f(39, "days_rest", None, None, "days", "UPCG days since the previous played game"),
    _f(40, "minutes_load_last_7d", None, None, "minutes", "UPCG minutes_in_last_7_days"),
    _f(41, "spread_magnitude", None, None, "points", "No source: NULL"),
    _f(42, "implied_team_total", None, None, "points", "No source: NULL"),
    _f(43, "points_avg_last_3", None, (0, 70), "points per game", "Mean points, last 3 played games"),
    _f(44, "scoring_trend_slope", 0.0, None, "points per game", "OLS slope of points on x = 1..n, last 7 "
       "played games (needs 4)"),
    _f(45, "deviation_from_avg_last3", None, None, "std units", "(L3 - mean60) / sample std60 (std 5 with "
       "one game); 60 = played games in [D-60, D)"),
    _f(46, "consecutive_games_below_avg", None, None, "games", "Most recent consecutive played games below "
       "mean60"),
    _f(47, "teammate_usage_available", None, None, "fraction 0-1", "No source (injury report): NULL"),
    _f(48, "usage_rate_last_5", 0.20, (0, 1), "fraction 0-1", "Mean usage, last 5 usage values (needs 3)"),
    _f(49, "games_since_structural_change", None, (0, 30), "games", "Played games since the last team change "
       "or gap > 14 days within 60 days (incl. D), capped at 30"),
    _f(50, "multi_book_line_std", None, None, "points", "No source: NULL"),
    _f(51, "prop_over_streak", None, None, "games", "No source: NULL"),
    _f(52, "prop_under_streak", None, None, "games", "No source: NULL"),
    _f(53, "line_vs_season_avg", None, None, "points", "No source: NULL"),
    _f(54, "prop_line_delta", None, None, "points", "No source: NULL"),
    _f(55, "over_rate_last_10", None, None, "fraction 0-1", "No source (Phase 5 output, B21): NULL"),
    _f(56, "margin_vs_line_avg_last_5", None, None, "points", "No source (Phase 5 output, B21): NULL"),
    _f(57, "blowout_minutes_risk", 0.2, (0, 1), "fraction 0-1", "Share of the team's last 10 games with "
       "|margin| >= 15"),
    _f(58, "minutes_volatility_last_10", None, None, "minutes", "Sample std of minutes, last 10 (needs 3)"),
    _f(59, "opponent_pace_mismatch", None, None, "possessions per 48 minutes", "team_pace - opponent_pace "
       "(both real values)"),
)
FEATURE_NAMES = tuple(f.name for f in FEATURES)
FEATURES_BY_NAME = {f.name: f for f in FEATURES}


def _feature_columns() -> tuple[Column, ...]:
    """Two columns per MLFS feature, in reference §8.4 order: the typed value and its source tag."""
    cols: list[Column] = []
    for f in FEATURES:
        default = "NULL" if f.default is None else f"{f.default:g}"
        kind = "required" if f.required else "optional"
        cols.append(_c(f.name, "FLOAT64", f"Feature {f.index} ({kind}, default {default}): {f.description}",
                       f.unit))
        cols.append(_c(f"{f.name}_source", "STRING", f"Source of feature {f.index}: phase4, phase3, "
                       "calculated, default or missing", nullable=False))
    return tuple(cols)


_QUALITY_0_1 = "quality 0-1"

ML_FEATURE_STORE_V2 = TableSpec(
    schema="nba_predictions",
    name="ml_feature_store_v2",
    description="MLFS: the 60 model features of reference §8.4 for every player playing on D, as typed "
    "columns with real NULLs and one source tag per feature, plus the quality score, tier, alerts and "
    "category qualities of reference §8.5 on the 0-1 scale (SPEC §5). Inputs: PDC, PCF, PSZA and the "
    "opponent's TDZA for D, with Phase 3 fallbacks.",
    columns=(
        _c("player_id", "INT64", "NBA person id", nullable=False),
        _c("player_lookup", "STRING", "Normalised name", nullable=False),
        _c("game_date", "DATE", "D (uses games strictly before D)", nullable=False),
        _c("season_year", "INT64", "Season start year", nullable=False),
        _c("game_id", "STRING", "Game on D", nullable=False),
        _c("team_abbr", "STRING", "Player's team on D", nullable=False),
        _c("opponent_team_abbr", "STRING", "Opponent on D"),
        _c("is_home", "BOOL", "Player's team is at home"),
        _c("feature_version", "STRING", "Feature-set label"),
        _c("feature_count", "INT64", "Number of features (60)", "features"),
        *_feature_columns(),
        _c("feature_quality_score", "FLOAT64", "Mean source weight (phase4 1, phase3 0.87, calculated 1, "
           "default 0.4, missing 0) over features 0-59, optional defaulted features left out; capped at 0.49 "
           "with >= 5 required defaults, at 0.69 with >= 1", _QUALITY_0_1),
        _c("quality_tier", "STRING", "gold >= 0.95, silver >= 0.85, bronze >= 0.70, poor >= 0.50, else critical"),
        _c("quality_alert_level", "STRING", "red (matchup < 0.5 or score < 0.5), yellow (required defaults, "
           "score < 0.7 or matchup < 0.7), green"),
        _c("quality_alerts", "STRING_LIST", "all_matchup_features_defaulted, composite_factors_missing, "
           "opponent_defense_missing, high_default_rate_<N>pct, matchup_quality_critical, "
           "game_context_quality_critical"),
        _c("is_quality_ready", "BOOL", "Tier gold/silver/bronze, score >= 0.7, matchup >= 0.5, no required "
           "defaults"),
        _c("is_training_ready", "BOOL", "Tier gold/silver, matchup >= 0.7, player history >= 0.8"),
        _c("matchup_quality", "FLOAT64", "Mean source weight of features 5-8, 13, 14", _QUALITY_0_1),
        _c("player_history_quality", "FLOAT64", "Mean source weight of features 0-4, 29-37, 43-46, 48, 49, "
           "54-56, 58", _QUALITY_0_1),
        _c("team_context_quality", "FLOAT64", "Mean source weight of features 22-24, 57", _QUALITY_0_1),
        _c("vegas_quality", "FLOAT64", "Mean source weight of features 25-28", _QUALITY_0_1),
        _c("game_context_quality", "FLOAT64", "Mean source weight of features 9-12, 15-21, 38-42, 47, 50-53, 59",
           _QUALITY_0_1),
        _c("required_default_count", "INT64", "Required features tagged default or missing", "features"),
        _c("phase4_feature_count", "INT64", "Features tagged phase4", "features"),
        _c("phase3_feature_count", "INT64", "Features tagged phase3", "features"),
        _c("calculated_feature_count", "INT64", "Features tagged calculated", "features"),
        _c("default_feature_count", "INT64", "Features tagged default", "features"),
        _c("missing_feature_count", "INT64", "Features tagged missing (NULL)", "features"),
        _c("default_features", "STRING_LIST", "Names of the features tagged default"),
        _c("data_source", "STRING", "phase4 (>= 90 % phase4 tags), phase4_partial (>= 50 %), phase3 (>= 50 % "
           "phase3 tags), mixed"),
        _c("has_composite_factors", "BOOL", "Features 5-8 all from PCF"),
        _c("has_opponent_defense", "BOOL", "Features 13-14 from the opponent's TDZA"),
        _c("upstream_player_daily_cache_ready", "BOOL", "PDC row present and production-ready"),
        _c("upstream_player_composite_factors_ready", "BOOL", "PCF row present and production-ready"),
        _c("upstream_player_shot_zone_ready", "BOOL", "PSZA row present and production-ready"),
        _c("upstream_team_defense_zone_ready", "BOOL", "Opponent TDZA row present and production-ready"),
        _c("is_production_ready", "BOOL", "All four upstream flags"),
        _c("games_played_season", "INT64", "Played games this season before D", "games"),
        _c("early_season_flag", "BOOL", "Fewer than 10 played games this season before D"),
        _c("data_quality_issues", "STRING_LIST", "upstream_<table>_incomplete and up to 3 "
           "range_warning:<feature>=<value> entries (reference §8.6 ranges)"),
        PROCESSED_AT,
    ),
    key=("game_date", "player_id"),
    partition_column="game_date",
    reads=OPPONENT_WINDOW,
    cluster_by=("player_id", "player_lookup"),
)

# --------------------------------------------------------------------------- processing records

PRECOMPUTE_FAILURES = TableSpec(
    schema="nba_processing",
    name="precompute_failures",
    description="Every entity a Phase 4 asset did not write for D, with its category (SPEC §6). "
    "INCOMPLETE_DATA and STALE_DATA are expected states (is_failure = false); MISSING_DEPENDENCY and "
    "PROCESSING_ERROR are failures.",
    columns=(
        _c("processor", "STRING", "Asset (table) name, e.g. player_shot_zone_analysis", nullable=False),
        _c("analysis_date", "DATE", "D", nullable=False),
        _c("entity_type", "STRING", "player, team or date", nullable=False),
        _c("entity_id", "STRING", "player_id, team tricode, or DATE_LEVEL", nullable=False),
        _c("entity_name", "STRING", "player_lookup, team tricode, or the upstream table for DATE_LEVEL rows",
           nullable=False),
        _c("failure_category", "STRING", "INCOMPLETE_DATA, STALE_DATA, MISSING_DEPENDENCY, "
           "PROCESSING_ERROR", nullable=False),
        _c("is_failure", "BOOL", "True only for MISSING_DEPENDENCY and PROCESSING_ERROR", nullable=False),
        _c("reason", "STRING", "Human-readable reason"),
        _c("games_required", "INT64", "The asset's minimum", "games"),
        _c("games_found", "INT64", "Games the entity had", "games"),
        _c("run_id", "STRING", "Dagster run id"),
        _c("created_at", "TIMESTAMP", "When the row was written (UTC)", nullable=False),
    ),
    key=("analysis_date", "processor", "entity_type", "entity_id", "entity_name", "failure_category"),
    partition_column="analysis_date",
    cluster_by=("processor", "failure_category"),
)

# The bookkeeping table: one row per (table [+ scope], day) ever written, so that "materialised, no
# games" (row_count 0) is distinguishable from "never materialised" (no row). DuckDB enforces the key.
PARTITION_LOG = TableSpec(
    schema="nba_processing",
    name="partition_log",
    description="One row per materialised (table, day): how many rows the partition holds, which run "
    "wrote it and when. Days without games are recorded with row_count 0, so 'no games' is "
    "distinguishable from 'never materialised'.",
    columns=(
        _c("table_name", "STRING", "Qualified table name, plus [column=value] when the write was "
           "scoped (e.g. nba_processing.precompute_failures[processor=player_shot_zone_analysis])",
           nullable=False),
        _c("partition_date", "DATE", "The partition (day) written", nullable=False),
        _c("row_count", "INT64", "Rows the partition holds after the write", "rows", nullable=False),
        _c("run_id", "STRING", "Dagster run id of the write"),
        _c("written_at", "TIMESTAMP", "When the write committed (UTC)", nullable=False),
    ),
    key=("table_name", "partition_date"),
    partition_column="partition_date",
    cluster_by=("table_name",),
    enforce_key=True,
)

# The input version each table partition was computed from (issue 18: ``nba_precompute.raw.versions``),
# written in the same transaction as the partition's rows, one scoped write per table.
INPUT_VERSIONS = TableSpec(
    schema="nba_processing",
    name="input_versions",
    description="One row per materialised (table, day): the data version of the raw rows the partition "
    "was computed from (nba_precompute.raw.versions). `nba-precompute refresh` rematerialises the "
    "partitions whose version in the raw data now differs.",
    columns=(
        _c("table_name", "STRING", "Qualified table name", nullable=False),
        _c("partition_date", "DATE", "The partition (day)", nullable=False),
        _c("input_version", "STRING", "md5 data version of the partition's raw inputs", nullable=False),
        _c("run_id", "STRING", "Dagster run id of the write"),
        _c("created_at", "TIMESTAMP", "When the row was written (UTC)", nullable=False),
    ),
    key=("table_name", "partition_date"),
    partition_column="partition_date",
    cluster_by=("table_name",),
)

# The columns of a failure record as a transform produces it (the writer adds run_id and created_at).
FAILURE_COLUMNS = tuple(PRECOMPUTE_FAILURES.data_columns)


def empty_failures() -> pl.DataFrame:
    """A failure-record frame with no rows: :data:`FAILURE_COLUMNS` with their declared types."""
    return PRECOMPUTE_FAILURES.empty_frame(FAILURE_COLUMNS)


PHASE3_TABLES = (
    NBA_SCHEDULE,
    PLAYER_GAME_SUMMARY,
    TEAM_OFFENSE_GAME_SUMMARY,
    TEAM_DEFENSE_GAME_SUMMARY,
    UPCOMING_PLAYER_GAME_CONTEXT,
    UPCOMING_TEAM_GAME_CONTEXT,
)
PHASE4_TABLES = (TEAM_DEFENSE_ZONE_ANALYSIS, PLAYER_SHOT_ZONE_ANALYSIS, PLAYER_COMPOSITE_FACTORS,
                 PLAYER_DAILY_CACHE, ML_FEATURE_STORE_V2)
ALL_TABLES = (*PHASE3_TABLES, *PHASE4_TABLES, PRECOMPUTE_FAILURES)  # the data tables (not the partition log)
# the bookkeeping tables, written by the writer beside the data
BOOKKEEPING_TABLES = (PARTITION_LOG, INPUT_VERSIONS)
TABLES_BY_NAME = {t.name: t for t in ALL_TABLES}
