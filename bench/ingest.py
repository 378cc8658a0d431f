#!/usr/bin/env python3
"""Metric ingestion benchmark: how fast rows of the 4-metric shape
(train_loss train_acc val_loss val_acc) reach the database, with default
durability, measured in the same run against a physical reference and the
Python tool's per-row pattern, on PostgreSQL (with --pg-flags) and SQLite.

Methods, per engine:
  end to end   sqltrack-run [FLAGS] -e bench -- write_lines lines N @metrics:
               a child writes N lines to $SQLTRACK_METRICS; wall time until the
               wrapper exits; the rows are checked (count and sums) afterwards.
  reference    PostgreSQL: psql "\\copy metrics (...) FROM file (FORMAT csv)";
               SQLite: the sqlite3 shell's ".import --csv"; into a fresh run.
  peer         bench/peer_per_row.py: one INSERT ... ON CONFLICT DO UPDATE and
               one commit per row (psycopg / Python's sqlite3), on --peer-rows
               rows, scaled to rows/s.
Methods run in rotation --repeat times; medians are reported. Targets: end to
end >= 0.75 x reference and >= 20 x peer (--check-targets makes a miss fail).

Usage: bench/ingest.py [--build DIR] [--rows N] [--peer-rows N] [--repeat R]
                       [--pg-flags '-a 127.0.0.1:54329 -u postgres -d bench']
                       [--no-sqlite] [--keep] [--check-targets]
"""
import argparse
import json
import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COLUMNS = ("train_loss", "train_acc", "val_loss", "val_acc")
ALL_COLUMNS = "run_id, step, progress, " + ", ".join(COLUMNS)
EXPERIMENT = "bench"

# Written next to the C writer when no C compiler is found; prints the same text.
PY_WRITER = r'''
import os, sys
NAMES = (" train_loss=", " train_acc=", " val_loss=", " val_acc=")
def v(step, c):
    return "0.%06d" % ((step * 2654435761 + c * 40503) % 1000000)
mode, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if mode == "lines":
    if path == "@metrics":
        path = os.environ["SQLTRACK_METRICS"]
    if len(sys.argv) > 4:
        with open(sys.argv[4], "w") as f:
            f.write(os.environ.get("SQLTRACK_RUN_ID", "") + "\n")
with open(path, "w", buffering=1 << 16) as out:
    chunk = []
    for step in range(n):
        if mode == "csv":
            chunk.append("%s,%d,0.0,%s,%s,%s,%s\n" % (sys.argv[4], step, v(step, 0), v(step, 1), v(step, 2), v(step, 3)))
        else:
            chunk.append("step=%d progress=0.0%s%s%s%s%s%s%s%s\n" % (step, NAMES[0], v(step, 0), NAMES[1], v(step, 1), NAMES[2], v(step, 2), NAMES[3], v(step, 3)))
        if len(chunk) == 4096:
            out.write("".join(chunk))
            chunk.clear()
    out.write("".join(chunk))
'''


class Failure(Exception):
    pass


def expected_sums(rows):
    """count, sum(step), and per column the sum of round(value * 1e6)."""
    sums = [0, 0, 0, 0]
    for step in range(rows):
        base = step * 2654435761
        for c in range(4):
            sums[c] += (base + c * 40503) % 1000000
    return (rows, rows * (rows - 1) // 2, *sums)


CHECK_SQL = ("SELECT count(*), coalesce(sum(step), 0), "
             + ", ".join(f"coalesce(sum(CAST(round({c} * 1000000) AS BIGINT)), 0)" for c in COLUMNS)
             + " FROM metrics WHERE run_id = {run_id}")


def split_host_port(text):
    """Like sqltrack's -a: host, host:port, [v6]:port, or a socket directory."""
    if text.startswith("/") or text.startswith("@"):
        directory, _, port = text.rpartition(":")
        return (directory, port) if directory and port.isdigit() else (text, None)
    if text.startswith("["):
        close = text.find("]")
        if close >= 0:
            rest = text[close + 1:]
            return text[1:close], (rest[1:] if rest.startswith(":") else None)
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, port
    return text, None


def libpq_env(flags):
    """PG* variables for psql and psycopg from sqltrack's connection flags."""
    env = {}
    args = shlex.split(flags)
    i = 0
    while i < len(args):
        arg, value = args[i], None
        if "=" in arg and arg.startswith("--"):
            arg, value = arg.split("=", 1)
        elif arg.startswith("-") and not arg.startswith("--") and len(arg) > 2:
            arg, value = arg[:2], arg[2:]
        if value is None and i + 1 < len(args):
            value = args[i + 1]
            i += 1
        i += 1
        if arg in ("-a", "--host"):
            host, port = split_host_port(value)
            env["PGHOST"] = host
            if port:
                env["PGPORT"] = port
        elif arg in ("-u", "--user"):
            env["PGUSER"] = value
        elif arg in ("-d", "--database"):
            env["PGDATABASE"] = value
        elif arg in ("-s", "--schema"):
            env["PGOPTIONS"] = f"-c search_path={value}"
    return env


def clean_env(extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQLTRACK_")}
    env.update(extra)
    return env


def run_timed(argv, env, cwd, timeout, stderr_path=None):
    """Runs argv; returns (seconds, exit status, stderr text)."""
    with open(stderr_path or os.devnull, "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = "timeout"
        seconds = time.perf_counter() - start
    text = open(stderr_path).read() if stderr_path else ""
    return seconds, rc, text


def check(argv, env, cwd, what):
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise Failure(f"{what} failed ({shlex.join(argv)}): {proc.stderr.strip()}")
    return proc.stdout


def build_writer(work):
    """Compiles bench/write_lines.c; falls back to the Python writer."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    exe = os.path.join(work, "write_lines")
    if compiler:
        proc = subprocess.run([compiler, "-O2", "-o", exe, os.path.join(HERE, "write_lines.c")],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            return [exe], "C (write_lines.c)"
        print(f"note: {compiler} failed, using the Python writer: {proc.stderr.strip()}")
    script = os.path.join(work, "write_lines.py")
    with open(script, "w") as f:
        f.write(PY_WRITER)
    return [sys.executable, script], "Python"


def find_psycopg_python():
    candidates = [sys.executable, "/usr/bin/python3"]
    for python in candidates:
        if os.path.exists(python) and subprocess.run(
                [python, "-c", "import psycopg"], capture_output=True).returncode == 0:
            return python
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("note: installing python3-psycopg with apt-get")
        subprocess.run(["apt-get", "install", "-y", "python3-psycopg"],
                       stdout=subprocess.DEVNULL, check=False)
        if subprocess.run(["/usr/bin/python3", "-c", "import psycopg"],
                          capture_output=True).returncode == 0:
            return "/usr/bin/python3"
    return None


class Engine:
    """What differs between PostgreSQL and SQLite."""

    def __init__(self, name, work, flags, env, args):
        self.name, self.work, self.flags, self.env, self.args = name, work, flags, env, args
        self.runs = []

    def sqltrack(self, *argv):
        return [os.path.join(self.args.build_bin, "sqltrack"), *self.flags, *argv]

    def wrapper(self, *argv):
        return [os.path.join(self.args.build_bin, "sqltrack-run"), *self.flags, *argv]


class Postgres(Engine):
    column_type = "DOUBLE PRECISION"
    add_column = "ADD COLUMN IF NOT EXISTS"
    reference_name = "psql \\copy"

    def sql(self, text):
        return check(["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", text],
                     self.env, self.work, "psql").strip()

    def new_run(self):
        run_id = int(self.sql(
            f"INSERT INTO experiments (name) VALUES ('{EXPERIMENT}') ON CONFLICT (name) DO NOTHING; "
            f"INSERT INTO runs (experiment_id, status, time_started) SELECT id, 'COMPLETED', now() "
            f"FROM experiments WHERE name = '{EXPERIMENT}' RETURNING id"))
        self.runs.append(run_id)
        return run_id

    def reference_argv(self, csv_path):
        return ["psql", "-qX", "-v", "ON_ERROR_STOP=1", "-c",
                f"\\copy metrics ({ALL_COLUMNS}) FROM '{csv_path}' WITH (FORMAT csv)"]

    def sums(self, run_id):
        return tuple(int(x) for x in self.sql(CHECK_SQL.format(run_id=run_id)).split("|"))

    def cleanup(self):
        if self.runs:
            self.sql(f"DELETE FROM runs WHERE id IN ({', '.join(map(str, self.runs))})")


class Sqlite(Engine):
    column_type = "REAL"
    add_column = "ADD COLUMN"
    reference_name = "sqlite3 .import"

    @property
    def path(self):
        return self.env["SQLTRACK_DSN_PATH"]

    def query(self, text, *params):
        conn = sqlite3.connect(self.path, timeout=60)
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            rows = conn.execute(text, params).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()

    def new_run(self):
        self.query("INSERT OR IGNORE INTO experiments (name) VALUES (?)", EXPERIMENT)
        run_id = self.query(
            "INSERT INTO runs (experiment_id, status, time_started) SELECT id, 'COMPLETED', "
            "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now') FROM experiments WHERE name = ? "
            "RETURNING id", EXPERIMENT)[0][0]
        self.runs.append(run_id)
        return run_id

    def reference_argv(self, csv_path):
        return ["sqlite3", "-bail", "-cmd", "PRAGMA foreign_keys=ON", self.path,
                f".import --csv {csv_path} metrics"]

    def sums(self, run_id):
        return tuple(int(x) for x in self.query(CHECK_SQL.format(run_id=run_id))[0])

    def cleanup(self):
        pass  # the database lives in the temporary directory


def bench_engine(engine, args, writer, peer_python, expected, peer_expected):
    work = engine.work
    migration = os.path.join(work, "bench_ingest_v001.sql")
    with open(migration, "w") as f:
        f.write("BEGIN;\n" + "".join(
            f"ALTER TABLE metrics {engine.add_column} {c} {engine.column_type};\n" for c in COLUMNS)
            + "END;\n")
    check(engine.sqltrack("setup", migration), engine.env, work, "sqltrack setup")

    times = {"writer → /dev/null": [], "end to end (sqltrack-run)": [],
             engine.reference_name: [], "peer: per-row upsert+commit": []}
    rows_of = {name: args.rows for name in times}
    rows_of["peer: per-row upsert+commit"] = args.peer_rows
    failures = []

    def end_to_end():
        run_id_file = os.path.join(work, "run_id")
        if os.path.exists(run_id_file):
            os.unlink(run_id_file)
        argv = engine.wrapper("-e", EXPERIMENT, "--", *writer, "lines", str(args.rows),
                              "@metrics", run_id_file)
        stderr_path = os.path.join(work, "wrapper.stderr")
        seconds, rc, stderr = run_timed(argv, engine.env, work, args.timeout, stderr_path)
        run_id = open(run_id_file).read().strip() if os.path.exists(run_id_file) else ""
        problems = []
        if rc != 0:
            problems.append(f"exit status {rc}")
        if not run_id:
            problems.append("the run was not recorded (no SQLTRACK_RUN_ID)")
        else:
            engine.runs.append(int(run_id))
            got = engine.sums(int(run_id))
            if got != expected:
                problems.append(f"rows in the database for run {run_id}: count={got[0]} (expected "
                                f"{expected[0]}), sums {got[1:]} (expected {expected[1:]})")
        problem = "; ".join(problems)
        if problem:
            failures.append(f"[{engine.name}] end to end: {problem}\n  command: {shlex.join(argv)}"
                            f"\n  stderr: {stderr.strip()[-2000:] or '(empty)'}")
            return None
        if stderr.strip():
            print(f"note [{engine.name}] wrapper stderr: {stderr.strip()[-500:]}")
        return seconds

    def reference():
        run_id = engine.new_run()
        csv_path = os.path.join(work, "rows.csv")
        check([*writer, "csv", str(args.rows), csv_path, str(run_id)], engine.env, work, "writer")
        argv = engine.reference_argv(csv_path)
        seconds, rc, stderr = run_timed(argv, engine.env, work, args.timeout,
                                        os.path.join(work, "reference.stderr"))
        os.unlink(csv_path)
        got = engine.sums(run_id) if rc == 0 else None
        if rc != 0 or got != expected:
            failures.append(f"[{engine.name}] reference: status {rc}, rows {got}, expected "
                            f"{expected}\n  command: {shlex.join(argv)}\n  stderr: {stderr.strip()}")
            return None
        return seconds

    def peer():
        if engine.name == "PostgreSQL" and not peer_python:
            return None
        run_id = engine.new_run()
        argv = [peer_python or sys.executable, os.path.join(HERE, "peer_per_row.py"),
                "postgres" if engine.name == "PostgreSQL" else "sqlite",
                str(run_id), str(args.peer_rows)]
        if engine.name == "SQLite":
            argv.append(engine.path)
        out = check(argv, engine.env, work, "peer")
        got = engine.sums(run_id)
        if got != peer_expected:
            failures.append(f"[{engine.name}] peer: rows {got}, expected {peer_expected}")
            return None
        return json.loads(out)["seconds"]

    def dev_null():
        seconds, rc, stderr = run_timed([*writer, "lines", str(args.rows), "/dev/null"],
                                        engine.env, work, args.timeout)
        return seconds if rc == 0 else None

    methods = [("writer → /dev/null", dev_null), ("end to end (sqltrack-run)", end_to_end),
               (engine.reference_name, reference), ("peer: per-row upsert+commit", peer)]
    for rep in range(args.repeat):
        for name, method in methods:
            seconds = method()
            if seconds is not None:
                times[name].append(seconds)
            print(f"  [{engine.name}] round {rep + 1}/{args.repeat} {name}: "
                  + (f"{seconds:.3f} s" if seconds is not None else "failed/skipped"), flush=True)
    if not args.keep:
        engine.cleanup()
    return times, rows_of, failures


def report(engine_name, times, rows_of, reference_name):
    rate = {}
    print(f"\n{engine_name}: median of {max(len(t) for t in times.values())} rounds")
    print(f"{'method':30} {'rows':>9} {'seconds':>9} {'rows/s':>11}")
    for name, samples in times.items():
        if not samples:
            print(f"{name:30} {rows_of[name]:9d} {'—':>9} {'—':>11}")
            continue
        median = statistics.median(samples)
        rate[name] = rows_of[name] / median
        print(f"{name:30} {rows_of[name]:9d} {median:9.3f} {rate[name]:11,.0f}")
    e2e = rate.get("end to end (sqltrack-run)")
    ref = rate.get(reference_name)
    peer = rate.get("peer: per-row upsert+commit")
    results = []
    if e2e and ref:
        ok = e2e >= 0.75 * ref
        print(f"end to end / {reference_name}: {e2e / ref:.2f}  (target ≥ 0.75: "
              f"{'holds' if ok else 'MISSED'})")
        results.append(ok)
    if e2e and peer:
        ok = e2e >= 20 * peer
        print(f"end to end / peer: {e2e / peer:.1f}  (target ≥ 20: {'holds' if ok else 'MISSED'})")
        results.append(ok)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default="build", help="build directory (default: build)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--peer-rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg-flags", default="",
                        help="sqltrack connection flags, e.g. '-a 127.0.0.1:54329 -u postgres -d bench'")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's runs in PostgreSQL")
    parser.add_argument("--check-targets", action="store_true",
                        help="exit 1 when a target is missed (always exit 1 when rows are wrong)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per command")
    args = parser.parse_args()
    args.build_bin = os.path.abspath(os.path.join(args.build, "src", "cli"))
    for exe in ("sqltrack", "sqltrack-run"):
        if not os.access(os.path.join(args.build_bin, exe), os.X_OK):
            raise SystemExit(f"ingest.py: {os.path.join(args.build_bin, exe)} not found (--build DIR)")

    work = tempfile.mkdtemp(prefix="sqltrack-ingest-")
    try:
        writer, writer_kind = build_writer(work)
        peer_python = find_psycopg_python() if args.pg_flags else None
        print(f"rows: {args.rows}, peer sample: {args.peer_rows}, rounds: {args.repeat}, "
              f"writer: {writer_kind}, peer python: {peer_python or sys.executable}")
        expected = expected_sums(args.rows)
        peer_expected = expected_sums(args.peer_rows)
        engines = []
        if args.pg_flags:
            pg_work = os.path.join(work, "pg")
            os.mkdir(pg_work)
            engines.append(Postgres("PostgreSQL", pg_work, shlex.split(args.pg_flags),
                                    clean_env(libpq_env(args.pg_flags)), args))
            if not peer_python:
                print("warning: psycopg not importable (install python3-psycopg): no PostgreSQL peer")
        else:
            print("note: no --pg-flags, PostgreSQL skipped")
        if not args.no_sqlite:
            lite_work = os.path.join(work, "sqlite")
            os.mkdir(lite_work)
            engines.append(Sqlite("SQLite", lite_work, [], clean_env({
                "SQLTRACK_ENGINE": "sqlite",
                "SQLTRACK_DSN_PATH": os.path.join(lite_work, "sqltrack.db")}), args))
        outcomes, failures = [], []
        for engine in engines:
            times, rows_of, engine_failures = bench_engine(engine, args, writer, peer_python,
                                                           expected, peer_expected)
            failures += engine_failures
            outcomes += report(engine.name, times, rows_of, engine.reference_name)
        for failure in failures:
            print(f"\nFAILED {failure}")
        if failures:
            sys.exit(1)
        if args.check_targets and not all(outcomes):
            sys.exit(1)
    except Failure as e:
        raise SystemExit(f"ingest.py: {e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
