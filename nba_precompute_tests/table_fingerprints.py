"""A fingerprint of every table of a DuckDB warehouse, for "same input, same bytes" comparisons."""

import hashlib

import duckdb
import polars as pl

# written by the writer, different on every run by design
VOLATILE = {"processed_at", "created_at", "run_id", "written_at"}


def fingerprints(path: str) -> dict[str, tuple[int, str]]:
    """``{schema.table: (rows, sha256)}`` over every column except :data:`VOLATILE`, rows in a total
    order (sorted by every column), floats written with their shortest round-trip repr: two tables
    have the same fingerprint only if they hold the same values to the last bit."""
    con = duckdb.connect(path, read_only=True)
    try:
        catalog = con.execute("SELECT current_database()").fetchone()[0]
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                             "WHERE table_catalog = ? ORDER BY 1, 2", [catalog]).fetchall()
        out = {}
        for schema, name in tables:
            df = con.execute(f"SELECT * FROM {schema}.{name}").pl()
            df = df.select([c for c in df.columns if c not in VOLATILE])
            df = df.with_columns([pl.col(c).list.join("\u241f") for c, t in df.schema.items()
                                  if isinstance(t, pl.List)]).sort(df.columns, nulls_last=True)
            out[f"{schema}.{name}"] = (df.height, hashlib.sha256(df.write_csv().encode()).hexdigest())
        return out
    finally:
        con.close()
