"""Embedded DuckDB warehouse: one file, schemas ``nba_analytics``, ``nba_precompute``,
``nba_predictions``, ``nba_processing``; no server.

Two operations, both driven by the table declarations in ``nba_precompute.schemas``:

* :meth:`DuckDBWarehouse.read` - the rows of a table whose partition column lies in a date window
  (the filter is pushed into the SQL);
* :meth:`DuckDBWarehouse.replace_partitions` - replace every partition (day) of a date range in one
  transaction: DELETE the range, INSERT the new rows by column name, record each day in
  ``nba_processing.partition_log``. Either everything is written or nothing is: a failure rolls the
  transaction back and the previous partitions stay as they were. Days without rows are recorded as
  materialised-and-empty, so "no games" is distinguishable from "never run".

Schema set-up (schemas, ``CREATE TABLE IF NOT EXISTS``, the column check) runs once per table and
declaration: a table whose declaration passed the check carries its fingerprint (a hash of its DDL) as
its DuckDB table comment, so later runs read every table's fingerprint in one query and set up only a
table that is new or whose declaration changed.

DuckDB allows one writer process at a time; the Dagster definitions use the in-process executor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from nba_precompute.schemas import PARTITION_LOG, SCHEMAS, TableSpec
from nba_precompute.warehouse.base import (
    PARTITION_LOG_SCHEMA,
    ROW_COUNTS_SCHEMA,
    PartitionWrite,
    WarehouseError,
    WarehouseLockedError,
    now_utc,
    partition_log_rows,
    prepare_writes,
)


class DuckDBWarehouse:
    """Reads and atomically replaces daily partitions in one DuckDB file."""

    kind = "duckdb"

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._session: duckdb.DuckDBPyConnection | None = None
        self._session_wanted = False
        # tables whose DDL and columns were verified by a committed write of this instance, or found set
        # up for their declaration by a previous one (table comment = fingerprint)
        self._verified: set[str] = set()

    def open_session(self) -> None:
        """Keep one read-write connection open until :meth:`close_session` (e.g. for a Dagster run).

        Attaching the file costs tens of milliseconds and a run makes dozens of reads and writes;
        inside a session each call gets a cursor of the one open connection instead. DuckDB refuses a
        second attachment of the same file in one process, so a session must be closed before another
        connection to the file is opened (the Dagster resource closes it when the run ends).

        The connection is opened on the first use, not here: a run that fails before touching the
        warehouse (a bad raw file, a wrong ``NBA_RAW_DATA_DIR``) leaves no empty DuckDB file behind,
        and reads of a file that does not exist yet create nothing.
        """
        self._session_wanted = True

    def _session_connection(self) -> duckdb.DuckDBPyConnection | None:
        if self._session is None and self._session_wanted:
            self._session = self._attach(read_only=False)
        return self._session

    def close_session(self) -> None:
        self._session_wanted = False
        if self._session is not None:
            self._session.close()
            self._session = None

    CATALOG = "nba_warehouse"

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection with the file attached under the fixed catalog name ``nba_warehouse``.

        Attaching under a fixed alias (instead of ``duckdb.connect(path)``, whose catalog is named after
        the file) keeps schema names unambiguous whatever the file is called: a file named
        ``nba_precompute.duckdb`` would otherwise shadow the ``nba_precompute`` schema. Inside a session
        (:meth:`open_session`) this is a cursor of the session's connection; closing it is cheap.
        """
        session = self._session_connection()
        if session is not None:
            cur = session.cursor()
            cur.execute(f"USE {self.CATALOG}")
            cur.execute("SET TimeZone = 'UTC'")
            return cur
        return self._attach(read_only)

    def _attach(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        if not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        elif not Path(self.path).exists():
            raise WarehouseError(f"DuckDB warehouse {self.path} does not exist: materialise the assets first")
        con = duckdb.connect(":memory:")
        mode = " (READ_ONLY)" if read_only else ""
        escaped = self.path.replace("'", "''")
        try:
            con.execute(f"ATTACH '{escaped}' AS {self.CATALOG}{mode}")
        except duckdb.Error as exc:
            con.close()
            raise self._attach_error(exc) from exc
        con.execute(f"USE {self.CATALOG}")
        con.execute("SET TimeZone = 'UTC'")
        return con

    def _attach_error(self, exc: duckdb.Error) -> WarehouseError:
        """The error to raise when the file cannot be attached: :class:`WarehouseLockedError` when
        another process holds its lock (DuckDB: "Could not set lock on file ... Conflicting lock is held
        in ... (PID n)"), else :class:`WarehouseError` naming the file."""
        text = str(exc)
        if "could not set lock" in text.lower() or "conflicting lock" in text.lower():
            pid = re.search(r"\(PID (\d+)\)", text)
            holder = f"process {pid.group(1)}" if pid else "another process"
            return WarehouseLockedError(
                f"DuckDB warehouse {self.path} is locked: {holder} has it open for writing (usually a "
                "running Dagster run; DuckDB admits no other process meanwhile); retry when it has finished")
        return WarehouseError(f"cannot open the DuckDB warehouse {self.path}: {text}")

    def check_readable(self) -> None:
        """Raise unless the file can be opened for reading now: :class:`WarehouseError` when it does not
        exist or is not a DuckDB file, :class:`WarehouseLockedError` when another process holds its
        write lock. Inside a session (:meth:`open_session`) it is readable by definition."""
        if self._session is None and not self._session_wanted:
            self._attach(read_only=True).close()

    def table_ref(self, table: TableSpec) -> str:
        """The name of ``table`` in DuckDB SQL (``schema.name``)."""
        return table.qualified_name

    # ------------------------------------------------------------------ reads
    def table_exists(self, con: duckdb.DuckDBPyConnection, table: TableSpec | str) -> bool:
        schema, name = (table.schema, table.name) if isinstance(table, TableSpec) else table.split(".")
        return bool(con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? "
            "AND table_name = ?", [self.CATALOG, schema, name],
        ).fetchone()[0])

    def exists(self, table: TableSpec) -> bool:
        """True when ``table`` has been created in the file (by a first write)."""
        if not Path(self.path).exists():
            return False
        with self.connect(read_only=True) as con:
            return self.table_exists(con, table)

    def read(self, table: TableSpec, start: dt.date | None = None, end: dt.date | None = None,
             columns: Sequence[str] | None = None) -> pl.DataFrame:
        """Rows of ``table`` with ``start <= partition column <= end`` (either bound optional).

        Returns a frame with the declared types; an empty frame when the table was never written.
        """
        cols = list(columns) if columns else table.column_names
        if not Path(self.path).exists():
            return table.empty_frame().select(cols)
        with self.connect(read_only=True) as con:
            if not self.table_exists(con, table):
                return table.empty_frame().select(cols)
            where, params = [], []
            if start is not None:
                where.append(f'"{table.partition_column}" >= ?')
                params.append(start)
            if end is not None:
                where.append(f'"{table.partition_column}" <= ?')
                params.append(end)
            sql = f"SELECT {', '.join(f'{chr(34)}{c}{chr(34)}' for c in cols)} FROM {table.qualified_name}"
            if where:
                sql += " WHERE " + " AND ".join(where)
            df = con.execute(sql, params).pl()
        return df.cast({c: table.column(c).polars_type for c in cols})

    def partition_log(self, table: TableSpec, start: dt.date, end: dt.date) -> pl.DataFrame:
        """Materialised days of ``table`` in [start, end]: ``partition_date``, ``row_count``, ``run_id``,
        ``written_at``."""
        schema = PARTITION_LOG_SCHEMA
        if not Path(self.path).exists():
            return pl.DataFrame(schema=schema)
        with self.connect(read_only=True) as con:
            if not self.table_exists(con, PARTITION_LOG):
                return pl.DataFrame(schema=schema)
            df = con.execute(
                f"SELECT partition_date, row_count, run_id, written_at FROM {PARTITION_LOG.qualified_name} "
                "WHERE table_name = ? AND partition_date BETWEEN ? AND ? ORDER BY partition_date",
                [table.qualified_name, start, end],
            ).pl()
        return df.cast(schema)

    def row_counts(self, table: TableSpec, start: dt.date, end: dt.date) -> pl.DataFrame:
        """Rows ``table`` holds per day of [start, end], counted in SQL: ``partition_date``,
        ``row_count`` (days without rows absent; an empty frame when the table does not exist)."""
        if not Path(self.path).exists():
            return pl.DataFrame(schema=ROW_COUNTS_SCHEMA)
        with self.connect(read_only=True) as con:
            if not self.table_exists(con, table):
                return pl.DataFrame(schema=ROW_COUNTS_SCHEMA)
            part = f'"{table.partition_column}"'
            df = con.execute(
                f"SELECT {part} AS partition_date, count(*) AS row_count FROM {table.qualified_name} "
                f"WHERE {part} BETWEEN ? AND ? GROUP BY 1 ORDER BY 1", [start, end]).pl()
        return df.cast(ROW_COUNTS_SCHEMA)

    def query(self, sql: str, params: Sequence[object] = ()) -> pl.DataFrame:
        """Run a read-only SQL query and return a Polars frame."""
        with self.connect(read_only=True) as con:
            return con.execute(sql, list(params)).pl()

    # ------------------------------------------------------------------ writes
    @staticmethod
    def schema_fingerprint(table: TableSpec) -> str:
        """The table comment marking ``table`` as set up for its current declaration."""
        digest = hashlib.sha256((table.duckdb_ddl() + PARTITION_LOG.duckdb_ddl()).encode()).hexdigest()[:16]
        return f"nba_precompute schema {digest}"

    def _set_up_tables(self, con: duckdb.DuckDBPyConnection, tables: Sequence[TableSpec]) -> set[str]:
        """The tables among ``tables`` already set up in the file for their current declaration (their
        comment is their fingerprint), read in one query."""
        comments = {f"{schema}.{name}": comment for schema, name, comment in con.execute(
            "SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE database_name = ?",
            [self.CATALOG]).fetchall()}
        return {t.qualified_name for t in tables if comments.get(t.qualified_name) == self.schema_fingerprint(t)}

    def _ensure(self, con: duckdb.DuckDBPyConnection, table: TableSpec) -> None:
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(table.duckdb_ddl())
        existing = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? AND table_schema = ? "
            "AND table_name = ? ORDER BY ordinal_position", [self.CATALOG, table.schema, table.name]).fetchall()]
        if existing != table.column_names:
            raise WarehouseError(
                f"{table.qualified_name} in {self.path} has columns {existing}, but the declared schema is "
                f"{table.column_names}; drop the table (or the file) and rematerialise"
            )
        con.execute(PARTITION_LOG.duckdb_ddl())
        con.execute(f"COMMENT ON TABLE {table.qualified_name} IS '{self.schema_fingerprint(table)}'")

    def replace_partitions(self, writes: Sequence[PartitionWrite], start: dt.date, end: dt.date,
                           run_id: str | None = None, days: Sequence[dt.date] | None = None) -> dict[str, int]:
        """Replace the days [start, end] of every table in ``writes`` in ONE transaction, recording the
        partitions ``days`` (default: every day of the range) in the partition log.

        Each frame is conformed to its declared schema (``processed_at`` / ``created_at`` / ``run_id``
        are filled in when absent). Raises :class:`WarehouseError` - and writes nothing - when a row's
        partition date lies outside [start, end], a key is NULL or duplicated, or the frame does not
        match the schema. Returns the rows written per table.
        """
        now = now_utc()
        prepared = prepare_writes(writes, start, end, run_id, now, days)

        counts: dict[str, int] = {}
        con = self.connect()
        try:
            con.execute("BEGIN TRANSACTION")
            pending = [w.table for w, _ in prepared if w.table.qualified_name not in self._verified]
            ready = self._set_up_tables(con, pending) if pending else set()
            for w, df in prepared:
                t = w.table
                if t.qualified_name not in self._verified and t.qualified_name not in ready:
                    self._ensure(con, t)
                scope_sql = "".join(f' AND "{k}" = ?' for k in w.scope)
                con.execute(
                    f'DELETE FROM {t.qualified_name} WHERE "{t.partition_column}" BETWEEN ? AND ?{scope_sql}',
                    [start, end, *w.scope.values()],
                )
                if df.height:
                    con.register("__incoming", df.to_arrow())
                    cols = ", ".join(f'"{c}"' for c in t.column_names)
                    con.execute(f"INSERT INTO {t.qualified_name} ({cols}) SELECT {cols} FROM __incoming")
                    con.unregister("__incoming")
                log_name = w.log_name
                per_day = partition_log_rows(w, df, start, end, run_id, now, days)
                con.execute(f"DELETE FROM {PARTITION_LOG.qualified_name} WHERE table_name = ? AND partition_date BETWEEN ? AND ?",
                            [log_name, start, end])
                con.register("__log", per_day.to_arrow())
                con.execute(f"INSERT INTO {PARTITION_LOG.qualified_name} SELECT * FROM __log")
                con.unregister("__log")
                counts[log_name] = df.height
            con.execute("COMMIT")
            self._verified.update(w.table.qualified_name for w, _ in prepared)
        except Exception as exc:
            con.execute("ROLLBACK")
            if isinstance(exc, WarehouseError):
                raise
            raise WarehouseError(f"writing {[w.table.qualified_name for w in writes]} failed and was rolled "
                                 f"back: {exc}") from exc
        finally:
            con.close()
        return counts
