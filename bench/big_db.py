#!/usr/bin/env python3
"""A year-old database and how fast sqltrack reads it.

Makes (or reuses) a PostgreSQL database with RUNS runs in EXPERIMENTS experiments, STEPS
steps each and 8 metric columns (m0..m7): 10 000 x 1 000 = 10 million metric rows by default,
written by the server itself (generate_series), then times each read a user makes, as the
median of --repeat runs:

  status            sqltrack-run status                          (the 50 newest runs)
  status_metric     sqltrack-run status -e E --metric m0 --limit 1000   (sparklines)
  run_summary       psql: select * from run_summary where experiment = E
  export_last       sqltrack export -e E --metrics last
  report            sqltrack report -e E --limit 50
  compare           sqltrack compare of 5 runs

  bench/big_db.py --build build --pg-flags "-a /tmp/pg/socket:5432 -u postgres -d big"
  bench/big_db.py --build build --pg-flags "..." --runs 100 --steps 1000   # 100 000 rows

--sqlite FILE instead of --pg-flags makes and reads a SQLite database (its metrics table is
clustered on (run_id, step, progress), so a run's rows lie together):

  bench/big_db.py --build build --sqlite /tmp/big.db --runs 1000   # 1 million rows

--covering-index m0 (PostgreSQL) then adds, by a migration as the README shows, an index on metrics
(run_id, step, progress) INCLUDE (m0), vacuums metrics (an index-only scan needs the pages
marked all-visible) and times the reads again: the sparklines of m0 are then read from the
index alone.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest import clean_env, libpq_env  # noqa: E402  (the same flag rules as sqltrack's)

COLUMNS = [f"m{c}" for c in range(8)]


def sqlite_file(env):
    return env.get("SQLTRACK_DSN_PATH")


def run_sql(env, sql, *extra):
    """Runs SQL with psql, or with the sqlite3 shell when env names a SQLite file."""
    if sqlite_file(env):
        done = subprocess.run(["sqlite3", "-bail", sqlite_file(env)], input=sql, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"big_db: sqlite3 failed: {done.stderr.strip()}")
        return done.stdout
    done = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", *extra, "-c", sql],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"big_db: psql failed: {done.stderr.strip()}")
    return done.stdout


def apply_migration(args, env, sqltrack, name, text):
    """A migration script applied by `sqltrack setup`, as a user applies one."""
    with tempfile.TemporaryDirectory() as work:
        script = os.path.join(work, name)
        with open(script, "w") as out:
            out.write(text)
        subprocess.run([sqltrack, *args.pg_flags.split(), "setup", script], env=env, check=True,
                       capture_output=True)


def make_database(args, env, sqltrack):
    """The schema by `sqltrack setup` and a migration that adds the metric columns, then the
    rows, unless the database already holds this many."""
    add = ("ALTER TABLE metrics ADD COLUMN {} REAL;\n" if sqlite_file(env) else
           "ALTER TABLE metrics ADD COLUMN IF NOT EXISTS {} DOUBLE PRECISION;\n")
    apply_migration(args, env, sqltrack, "big_db_v001.sql",
                    "".join(add.format(column) for column in COLUMNS))
    have = int(run_sql(env, "select count(*) from runs where client_id like 'big-db-%'"))
    if have == args.runs:
        print(f"big_db: reusing the {have} runs already there")
        return
    started = time.monotonic()
    run_sql(env, "delete from runs where client_id like 'big-db-%'")
    if sqlite_file(env):
        make_sqlite_rows(args, env)
    else:
        make_postgres_rows(args, env)
    rows = int(run_sql(env, "select count(*) from metrics"))
    print(f"big_db: {args.runs} runs, {rows} metric rows written in {time.monotonic() - started:.0f} s")


def make_sqlite_rows(args, env):
    values = ", ".join(f"1.0 / (s.n + {c} + 1) + abs(random() % 1000) * 0.00001"
                       for c in range(len(COLUMNS)))
    run_sql(env, f"""
pragma journal_mode = wal;
begin;
with recursive e(n) as (select 1 union all select n + 1 from e where n < {args.experiments})
insert or ignore into experiments (name) select 'big-' || n from e;
with recursive r(n) as (select 1 union all select n + 1 from r where n < {args.runs})
insert into runs (experiment_id, status, time_created, time_started, time_updated, time_ended,
                  exit_code, client_id, hostname, args, tags)
select x.id, 'COMPLETED', strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', '-' || n || ' minutes'),
       strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', '-' || n || ' minutes'),
       strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', '-' || n || ' minutes', '+1 hour'),
       strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', '-' || n || ' minutes', '+1 hour'), 0,
       'big-db-' || n, 'node' || (n % 50), json_array('train.py', '--lr', n),
       json_object('seed', cast(n % 5 as text))
from r join experiments x on x.name = 'big-' || (1 + n % {args.experiments});
with recursive s(n) as (select 0 union all select n + 1 from s where n < {args.steps - 1})
insert into metrics (run_id, step, progress, {", ".join(COLUMNS)})
select r.id, s.n, 0.0, {values}
from runs r cross join s where r.client_id like 'big-db-%';
commit;
analyze;
""")


def make_postgres_rows(args, env):
    run_sql(env, f"""
insert into experiments (name) select 'big-' || e from generate_series(1, {args.experiments}) e
  on conflict (name) do nothing;
insert into runs (experiment_id, status, time_created, time_started, time_updated, time_ended,
                  exit_code, client_id, hostname, args, tags)
select x.id, 'COMPLETED', now() - (r || ' minutes')::interval, now() - (r || ' minutes')::interval,
       now() - (r || ' minutes')::interval + interval '1 hour',
       now() - (r || ' minutes')::interval + interval '1 hour', 0, 'big-db-' || r, 'node' || (r % 50),
       jsonb_build_array('train.py', '--lr', r), jsonb_build_object('seed', (r % 5)::text)
from generate_series(1, {args.runs}) r
join experiments x on x.name = 'big-' || (1 + r % {args.experiments});
""")
    values = ", ".join(f"1.0 / (s + {c} + 1) + random() * 0.01" for c in range(len(COLUMNS)))
    run_sql(env, f"""
insert into metrics (run_id, step, progress, {", ".join(COLUMNS)})
select r.id, s, 0, {values}
from runs r cross join generate_series(0, {args.steps - 1}) s
where r.client_id like 'big-db-%';
analyze;
""")


def add_covering_index(args, env, sqltrack, column):
    """The index a user adds for a metric plotted on a big table, by `sqltrack setup`."""
    started = time.monotonic()
    apply_migration(args, env, sqltrack, f"big_db_cover_{column}.sql",
                    f"CREATE INDEX IF NOT EXISTS metrics_{column}_by_run ON metrics "
                    f"(run_id, step, progress) INCLUDE ({column});\n")
    run_sql(env, "vacuum analyze metrics")
    size = run_sql(env, f"select pg_size_pretty(pg_relation_size('metrics_{column}_by_run')) "
                        "|| ' (the primary key: ' || "
                        "pg_size_pretty(pg_relation_size('metrics_pkey')) || ')'").strip()
    print(f"big_db: index metrics_{column}_by_run made and metrics vacuumed in "
          f"{time.monotonic() - started:.0f} s; its size {size}")


def read_commands(args, env, sqltrack, run_tool, work):
    experiment = "big-1"
    ids = run_sql(env, "select r.id from runs r join experiments e on e.id = r.experiment_id "
                    "where e.name = 'big-1' order by r.id desc limit 5").split()
    flags = args.pg_flags.split()
    return {
        "status": [run_tool, *flags, "status"],
        "status_metric": [run_tool, *flags, "status", "-e", experiment, "--metric", "m0",
                          "--limit", "1000"],
        "run_summary": (["sqlite3", sqlite_file(env)] if sqlite_file(env) else
                        ["psql", "-X", "-q", "-At", "-o", "/dev/null", "-c"])
                       + [f"select * from run_summary where experiment = '{experiment}'"],
        "export_last": [sqltrack, *flags, "export", "-e", experiment, "--metrics", "last",
                        "-o", os.path.join(work, "export.csv")],
        "report": [sqltrack, *flags, "report", "-e", experiment, "-o",
                   os.path.join(work, "report.html")],
        "compare": [sqltrack, *flags, "compare", *ids],
    }


def time_commands(commands, env, repeat):
    results = {}
    for name, command in commands.items():
        times = []
        for _ in range(repeat):
            started = time.monotonic()
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            times.append(time.monotonic() - started)
            if done.returncode != 0:
                sys.exit(f"big_db: {name} failed ({done.returncode}): {done.stderr.strip()}")
        results[name] = statistics.median(times)
        print(f"big_db: {name:14} median {results[name] * 1000:8.1f} ms of {repeat}"
              f"  {'ok' if results[name] < 1 else 'OVER 1 s'}")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True, help="the build directory")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--pg-flags", help="sqltrack's connection flags for PostgreSQL")
    target.add_argument("--sqlite", metavar="FILE", help="a SQLite database file instead")
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--experiments", type=int, default=20)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--covering-index", metavar="COLUMN",
                        help="then index COLUMN for its sparklines and time the reads again")
    args = parser.parse_args()
    if args.sqlite:
        if args.covering_index:
            parser.error("--covering-index is for PostgreSQL")
        args.pg_flags = ""
        env = clean_env({"SQLTRACK_ENGINE": "sqlite",
                         "SQLTRACK_DSN_PATH": os.path.abspath(args.sqlite)})
    else:
        env = clean_env(libpq_env(args.pg_flags))
    sqltrack = os.path.join(args.build, "src/cli/sqltrack")
    run_tool = os.path.join(args.build, "src/cli/sqltrack-run")
    make_database(args, env, sqltrack)
    with tempfile.TemporaryDirectory() as work:
        commands = read_commands(args, env, sqltrack, run_tool, work)
        results = time_commands(commands, env, args.repeat)
        if args.covering_index:
            add_covering_index(args, env, sqltrack, args.covering_index)
            results.update(time_commands(commands, env, args.repeat))
    over = [name for name, seconds in results.items() if seconds >= 1]
    print("big_db: every read under 1 s" if not over else f"big_db: over 1 s: {', '.join(over)}")


if __name__ == "__main__":
    main()
