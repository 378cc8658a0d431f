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

The git case (when `git` is installed): the wrapper started inside a git work
tree (a repository made with one commit and an origin) against the same start
outside one, each also with `--capture-git off`. It prints the ratio inside /
outside and what reading .git adds in each place (on - off), in wall time and
in CPU time (user + system of the wrapper and its children, which a loaded
machine disturbs less); targets: at most 1 ms outside a work tree, 3 ms
inside. `--capture-git full`, which starts `git status`, is timed inside too,
for information.

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
TARGET_GIT_ADDED_MS = {"outside": 1.0, "inside": 3.0}
GIT_OUTSIDE = "sqltrack-run (SQLite)"  # the main case: its directory is in no work tree
GIT_OUTSIDE_OFF = "sqltrack-run (SQLite, --capture-git off)"
GIT_INSIDE = "sqltrack-run (SQLite, in a git work tree)"
GIT_INSIDE_OFF = "sqltrack-run (SQLite, in git, off)"
GIT_INSIDE_FULL = "sqltrack-run (SQLite, in git, full)"


def timed(argv, cwd, cpu=None):
    """Wall seconds of one run; its CPU seconds (user + system, with its children) are
    appended to `cpu` when given."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{shlex.join(argv)} failed with status {proc.returncode}")
    if cpu is not None:
        cpu.append(usage.ru_utime + usage.ru_stime)
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


def make_git_repository(path):
    """A work tree with one commit and an origin, as a training code checkout has; False
    without git."""
    git = shutil.which("git")
    if not git:
        print("note: no git case (git is not installed)")
        return False
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@invalid",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@invalid",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    os.makedirs(path)
    with open(os.path.join(path, "train.py"), "w") as script:
        script.write("print('step=1 loss=0.5')\n")
    for args in (["init", "--quiet", "--initial-branch=main"], ["add", "train.py"],
                 ["commit", "--quiet", "-m", "first"],
                 ["remote", "add", "origin", "https://example.com/lab/models.git"]):
        subprocess.run([git, "-C", path, *args], env=env, check=True)
    return True


def git_methods(wrapper, work, outside):
    """The git case's methods besides the main one (GIT_OUTSIDE, run in `outside`): capture
    off there, and inside a work tree on, off and full."""
    inside = os.path.join(work, "git-work-tree")
    if not make_git_repository(inside):
        return {}
    run = [wrapper, "-e", "bench"]
    return {GIT_OUTSIDE_OFF: ([*run, "--capture-git", "off", "--", "true"], outside),
            GIT_INSIDE: ([*run, "--", "true"], inside),
            GIT_INSIDE_OFF: ([*run, "--capture-git", "off", "--", "true"], inside),
            GIT_INSIDE_FULL: ([*run, "--capture-git", "full", "--", "true"], inside)}


def git_verdicts(times, kind):
    """The ratio inside / outside a work tree, and what reading .git adds in each place, in
    `kind` ("wall" or "CPU") time."""
    if GIT_INSIDE not in times:
        return []
    median = {name: statistics.median(times[name]) for name in times}
    added = {"outside": (median[GIT_OUTSIDE] - median[GIT_OUTSIDE_OFF]) * 1000,
             "inside": (median[GIT_INSIDE] - median[GIT_INSIDE_OFF]) * 1000}
    lines = [f"git ({kind}): in a work tree / outside: ratio "
             f"{median[GIT_INSIDE] / median[GIT_OUTSIDE]:.3f} "
             f"({median[GIT_INSIDE] * 1000:.2f} / {median[GIT_OUTSIDE] * 1000:.2f} ms)"]
    for place in ("outside", "inside"):
        target = TARGET_GIT_ADDED_MS[place]
        lines.append(f"git ({kind}): capture adds {added[place]:.2f} ms {place} a work tree "
                     f"(on - off; target <= {target:.0f}: "
                     f"{'met' if added[place] <= target else 'NOT met'})")
    full = (median[GIT_INSIDE_FULL] - median[GIT_INSIDE_OFF]) * 1000
    lines.append(f"git ({kind}): capture_git = full adds {full:.2f} ms in a work tree "
                 f"(git status)")
    return lines


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
    methods.update(git_methods(methods[GIT_OUTSIDE][0][0], work, methods[GIT_OUTSIDE][1]))
    for argv, cwd in methods.values():  # warm-up, and the schema is created once
        timed(argv, cwd)
    times = {name: [] for name in methods}
    cpu_times = {name: [] for name in methods}
    for _ in range(args.runs):
        for name, (argv, cwd) in methods.items():
            times[name].append(timed(argv, cwd, cpu_times[name]))
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
    print(f"{'method':42} {'median ms':>10} {'ratio':>8} {'added ms':>9} {'max RSS MiB':>12}")
    verdicts = []
    for name in methods:
        median = statistics.median(times[name])
        added = (median - base) * 1000
        rss_text = f"{rss[name] / 1024:12.1f}" if rss[name] is not None else f"{'n/a':>12}"
        print(f"{name:42} {median * 1000:10.2f} {median / base:8.2f} {added:9.2f} {rss_text}")
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
    for line in verdicts + git_verdicts(times, "wall") + git_verdicts(cpu_times, "CPU"):
        print(line)


if __name__ == "__main__":
    main()
