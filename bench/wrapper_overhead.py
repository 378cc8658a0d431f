#!/usr/bin/env python3
"""Overhead of sqltrack-run: `sqltrack-run -- true` against `true`, measured in
the same run, on SQLite and (when a server is given) PostgreSQL.

Prints the median wall time of each, the ratio and the time added against
`true`, and the wrapper's max RSS. Methods run in rotation so machine noise
hits all alike.

The RSS column is the max resident set of the measured process itself, read
by GNU time (`/usr/bin/time -f %M`) in a separate pass: the rusage that
Python's own wait4 returns would include Python's RSS, because the child is
started with vfork and the kernel counts the parent's memory at its exec.
(For the wrapper it also covers `true`, the child it waits for, which is far
smaller.)

With --baseline OTHER_BUILD_DIR, that build's sqltrack-run runs in the same
rotation (rows marked "baseline"), so a change is judged under the same load.

Usage: bench/wrapper_overhead.py BUILD_DIR [--runs N] [--rss-runs N]
           [--pg-flags '-a 127.0.0.1:54329 -u postgres -d bench'] [--baseline BUILD_DIR]
"""
import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time

TARGET_ADDED_MS = {"sqltrack-run (SQLite)": 15.0, "sqltrack-run (PostgreSQL)": 25.0}
TARGET_RSS_MB = 10.0
GNU_TIME = "/usr/bin/time"


def timed(argv, cwd):
    start = time.perf_counter()
    status = subprocess.call(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{shlex.join(argv)} failed with status {status}")
    return elapsed


def max_rss_kib(argv, cwd):
    """The process's own max RSS in KiB, from GNU time; None without it."""
    if not os.access(GNU_TIME, os.X_OK):
        return None
    with tempfile.NamedTemporaryFile(mode="r") as out:
        status = subprocess.call([GNU_TIME, "-f", "%M", "-o", out.name, *argv], cwd=cwd,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if status != 0:
            raise SystemExit(f"{shlex.join(argv)} failed with status {status}")
        return int(out.read().split()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build_dir")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--rss-runs", type=int, default=5)
    parser.add_argument("--pg-flags", default="")
    parser.add_argument("--baseline", help="another build dir to measure in the same rotation")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sqltrack-bench-")
    true = shutil.which("true") or "/bin/true"
    methods = {"true": ([true], work)}
    builds = [("", args.build_dir)]
    if args.baseline:
        builds.append(("baseline ", args.baseline))
    for prefix, build_dir in builds:
        wrapper = os.path.abspath(os.path.join(build_dir, "src/cli/sqltrack-run"))
        # Each build gets its own SQLite file (in its own directory).
        cwd = os.path.join(work, prefix.strip() or "build")
        os.makedirs(cwd)
        methods[f"{prefix}sqltrack-run (SQLite)"] = ([wrapper, "-e", "bench", "--", "true"], cwd)
        if args.pg_flags:
            methods[f"{prefix}sqltrack-run (PostgreSQL)"] = (
                [wrapper, *shlex.split(args.pg_flags), "-e", "bench", "--", "true"], cwd)
    for argv, cwd in methods.values():  # warm-up, and the schema is created once
        timed(argv, cwd)
    times = {name: [] for name in methods}
    for _ in range(args.runs):
        for name, (argv, cwd) in methods.items():
            times[name].append(timed(argv, cwd))
    rss = {name: None for name in methods}
    for _ in range(args.rss_runs):
        for name, (argv, cwd) in methods.items():
            kib = max_rss_kib(argv, cwd)
            if kib is not None:
                rss[name] = max(rss[name] or 0, kib)
    shutil.rmtree(work, ignore_errors=True)

    base = statistics.median(times["true"])
    print(f"runs per method: {args.runs} (in rotation); max RSS over {args.rss_runs} runs "
          f"(GNU time)")
    print(f"{'method':37} {'median ms':>10} {'ratio':>8} {'added ms':>9} {'max RSS MiB':>12}")
    verdicts = []
    for name in methods:
        median = statistics.median(times[name])
        added = (median - base) * 1000
        rss_text = f"{rss[name] / 1024:12.1f}" if rss[name] is not None else f"{'n/a':>12}"
        print(f"{name:37} {median * 1000:10.2f} {median / base:8.2f} {added:9.2f} {rss_text}")
        if name in TARGET_ADDED_MS:
            verdicts.append(f"{name}: added {added:.1f} ms (target <= {TARGET_ADDED_MS[name]:.0f}: "
                            f"{'met' if added <= TARGET_ADDED_MS[name] else 'NOT met'})")
            if rss[name] is not None:
                mb = rss[name] * 1024 / 1e6
                verdicts.append(f"{name}: max RSS {mb:.1f} MB (target <= {TARGET_RSS_MB:.0f}: "
                                f"{'met' if mb <= TARGET_RSS_MB else 'NOT met'})")
    for line in verdicts:
        print(line)


if __name__ == "__main__":
    main()
