#!/usr/bin/env python3
"""The peer of bench/ingest.py: the Python tool's pattern, one
`INSERT ... ON CONFLICT (run_id, step, progress) DO UPDATE` and one commit per
row, into an existing run. PostgreSQL through psycopg 3 (Debian's
python3-psycopg; the connection comes from the PG* environment variables),
SQLite through Python's sqlite3 module.

Usage: peer_per_row.py postgres RUN_ID ROWS
       peer_per_row.py sqlite RUN_ID ROWS DB_PATH
Prints one JSON object: {"rows": ROWS, "seconds": time of the insert loop}.
Connecting is not timed (the tool connects once per run).
"""
import json
import sys
import time

COLUMNS = ("train_loss", "train_acc", "val_loss", "val_acc")


def value(step, column):
    """0.dddddd, the same numbers as bench/write_lines.c."""
    return ((step * 2654435761 + column * 40503) % 1000000) / 1e6


def upsert_sql(placeholder):
    names = ", ".join(COLUMNS)
    marks = ", ".join([placeholder] * (3 + len(COLUMNS)))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS)
    return (f"INSERT INTO metrics (run_id, step, progress, {names}) VALUES ({marks}) "
            f"ON CONFLICT (run_id, step, progress) DO UPDATE SET {updates}")


def main():
    engine, run_id, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if engine == "postgres":
        import psycopg
        conn = psycopg.connect("")
        sql = upsert_sql("%s")
    elif engine == "sqlite":
        import sqlite3
        conn = sqlite3.connect(sys.argv[4], timeout=60)
        conn.execute("PRAGMA foreign_keys=ON")
        sql = upsert_sql("?")
    else:
        raise SystemExit(__doc__)
    start = time.perf_counter()
    for step in range(rows):
        conn.execute(sql, (run_id, step, 0.0, *(value(step, c) for c in range(len(COLUMNS)))))
        conn.commit()
    seconds = time.perf_counter() - start
    conn.close()
    print(json.dumps({"rows": rows, "seconds": seconds}))


if __name__ == "__main__":
    main()
