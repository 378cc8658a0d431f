#!/usr/bin/env python3
"""Overhead of sqltrack-run: `sqltrack-run -- true` against `true`, measured in
the same run, on SQLite and (when a server is given) PostgreSQL.

Prints the median wall time of each, the ratio, the time added, and the
wrapper's max RSS. Methods run in rotation so machine noise hits all alike.

Usage: bench/wrapper_overhead.py BUILD_DIR [--runs N] [--pg-flags '-a 127.0.0.1:54329 -u postgres -d bench']
"""
import argparse
import os
import shlex
import statistics
import subprocess
import tempfile
import time


def timed(argv, cwd):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{shlex.join(argv)} failed with status {status}")
    return elapsed, usage.ru_maxrss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build_dir")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--pg-flags", default="")
    args = parser.parse_args()
    wrapper = os.path.abspath(os.path.join(args.build_dir, "src/cli/sqltrack-run"))
    work = tempfile.mkdtemp(prefix="sqltrack-bench-")
    methods = {"true": (["true"], work)}
    methods["sqltrack-run (SQLite)"] = ([wrapper, "-e", "bench", "--", "true"], work)
    if args.pg_flags:
        methods["sqltrack-run (PostgreSQL)"] = (
            [wrapper, *shlex.split(args.pg_flags), "-e", "bench", "--", "true"], work)
    for argv, cwd in methods.values():  # warm-up, and the schema is created once
        timed(argv, cwd)
    times = {name: [] for name in methods}
    rss = {name: 0 for name in methods}
    for _ in range(args.runs):
        for name, (argv, cwd) in methods.items():
            elapsed, maxrss = timed(argv, cwd)
            times[name].append(elapsed)
            rss[name] = max(rss[name], maxrss)
    base = statistics.median(times["true"])
    print(f"runs per method: {args.runs} (in rotation)")
    print(f"{'method':28} {'median ms':>10} {'ratio':>8} {'added ms':>9} {'max RSS MiB':>12}")
    for name in methods:
        median = statistics.median(times[name])
        print(f"{name:28} {median * 1000:10.2f} {median / base:8.1f} "
              f"{(median - base) * 1000:9.2f} {rss[name] / 1024:12.1f}")


if __name__ == "__main__":
    main()
