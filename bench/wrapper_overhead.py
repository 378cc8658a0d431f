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

With PostgreSQL, "libpq connect (floor)" is bench/libpq_connect.c: it loads
libpq as sqltrack does, connects, sends one empty query and disconnects, the
least any libpq client pays on this machine; the wrapper's time beyond it is
printed too.

After each run the bench waits --settle milliseconds (not timed): a
PostgreSQL backend ends after its client has gone, and on a small machine its
exit would otherwise land in the next method's time.

Usage: bench/wrapper_overhead.py BUILD_DIR [--runs N] [--rss-runs N] [--settle MS]
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


def conninfo_from_flags(flags):
    """libpq's conninfo for the sqltrack connection flags -a/-u/-d (PGPORT etc. still apply)."""
    words = shlex.split(flags)
    keys = {"-a": "host", "--address": "host", "-u": "user", "--user": "user",
            "-d": "dbname", "--database": "dbname"}
    parts = []
    for flag, value in zip(words, words[1:]):
        if flag not in keys:
            continue
        if keys[flag] == "host" and not value.startswith("/") and ":" in value:
            value, port = value.rsplit(":", 1)
            parts.append(f"port={port}")
        parts.append(f"{keys[flag]}='{value}'")
    return " ".join(parts)


def build_libpq_connect(work):
    """Compiles bench/libpq_connect.c; None without a compiler or libpq's header."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not compiler:
        return None
    exe = os.path.join(work, "libpq_connect")
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libpq_connect.c")
    proc = subprocess.run([compiler, "-O2", "-o", exe, source, "-ldl"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"note: no libpq floor ({compiler} failed: {proc.stderr.strip()})")
        return None
    return exe


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
    parser.add_argument("--settle", type=float, default=30.0,
                        help="milliseconds to wait after each run, not timed")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sqltrack-bench-")
    true = shutil.which("true") or "/bin/true"
    methods = {"true": ([true], work)}
    floor = build_libpq_connect(work) if args.pg_flags else None
    if floor:
        methods["libpq connect (floor)"] = ([floor, conninfo_from_flags(args.pg_flags)], work)
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
            time.sleep(args.settle / 1000)
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
    if "libpq connect (floor)" in times and "sqltrack-run (PostgreSQL)" in times:
        beyond = (statistics.median(times["sqltrack-run (PostgreSQL)"]) -
                  statistics.median(times["libpq connect (floor)"])) * 1000
        verdicts.append(f"sqltrack-run (PostgreSQL): {beyond:.1f} ms beyond the libpq floor "
                        f"(loading libpq and connecting, which every client pays)")
    for line in verdicts:
        print(line)


if __name__ == "__main__":
    main()
