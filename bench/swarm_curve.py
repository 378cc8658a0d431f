#!/usr/bin/env python3
"""How many jobs one PostgreSQL server carries: bench/swarm at growing N, directly and through
PgBouncer (transaction pooling), on a throwaway server this script starts (fsync on,
max_connections 100, PostgreSQL's default) and stops.

For each N it runs `swarm --jobs N --seconds S` and keeps its JSON line; a target stops
growing once p99 passes 1 s or rows are lost. It also runs the plain COPY baseline
(`swarm --path plain-copy`) and the wrapper's path at --baseline-jobs jobs, directly, for the
server CPU and WAL per row of the wrapper's path against a plain COPY of the same rows. Writes bench/results/swarm.json
and bench/results/swarm-p99.svg (p99 against N, log scale) and prints a Markdown table.

  bench/swarm_curve.py --build build                       # N = 100 300 1000 3000, 120 s each
  bench/swarm_curve.py --build build --jobs 100,300 --seconds 30 --pool 8
"""

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest import clean_env  # noqa: E402  (the environment without sqltrack's variables)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def exports(text):
    """The variables of start-postgres.sh's `export A=1 B=2` lines."""
    env = {}
    for line in text.splitlines():
        if line.startswith("export "):
            for item in line[len("export "):].split():
                key, _, value = item.partition("=")
                env[key] = value
    return env


def start_postgres(work):
    env = dict(os.environ, SQLTRACK_TEST_PG_MAX_CONNECTIONS="100")
    out = subprocess.run([os.path.join(ROOT, "scripts/start-postgres.sh"), os.path.join(work, "pg")],
                         env=env, check=True, capture_output=True, text=True).stdout
    return exports(out)


def start_pgbouncer(work, pg, pool):
    """PgBouncer on a free port in front of the server's TCP port; as root it runs as postgres."""
    directory = os.path.join(work, "pgbouncer")
    os.makedirs(directory)
    os.chmod(directory, 0o777)
    port = 16432
    with open(os.path.join(directory, "userlist.txt"), "w") as out:
        out.write('"postgres" ""\n')
    with open(os.path.join(directory, "pgbouncer.ini"), "w") as out:
        out.write(f"""[databases]
sqltrack = host=127.0.0.1 port={pg['SQLTRACK_TEST_PGPORT']} dbname=sqltrack
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/userlist.txt
pool_mode = transaction
default_pool_size = {pool}
max_client_conn = 20000
logfile = {directory}/pgbouncer.log
pidfile = {directory}/pgbouncer.pid
""")
    # A file descriptor per client: the soft limit up to the hard one (runuser resets it).
    command = ["sh", "-c", 'ulimit -n "$(ulimit -Hn)" && exec /usr/sbin/pgbouncer -d "$0"',
               os.path.join(directory, "pgbouncer.ini")]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--"] + command
    subprocess.run(command, check=True)
    time.sleep(1)
    return directory, port


def run_swarm(build, env, jobs, seconds, extra=()):
    started = time.monotonic()
    done = subprocess.run([os.path.join(build, "bench/swarm"), "--jobs", str(jobs), "--seconds",
                           str(seconds), *extra], env=env, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"jobs": jobs, "failed": f"exit {done.returncode}: {tail}"}
    result["wall_s"] = round(time.monotonic() - started, 1)
    return result


def svg(results, path):
    """p99 against N on a log-log plot, one line per target, and the 1 s line."""
    width, height, left, bottom, top, right = 640, 400, 70, 50, 30, 150
    points = [r for rs in results.values() for r in rs if "p99_ms" in r]
    if not points:
        return
    n_lo, n_hi = math.log10(min(r["jobs"] for r in points)), math.log10(max(r["jobs"] for r in points))
    y_lo, y_hi = 1.0, math.log10(max(2000, max(r["p99_ms"] for r in points) * 1.5))
    n_hi = n_hi if n_hi > n_lo else n_lo + 1
    x = lambda n: left + (math.log10(n) - n_lo) / (n_hi - n_lo) * (width - left - right)
    y = lambda ms: height - bottom - (math.log10(max(ms, 10)) - y_lo) / (y_hi - y_lo) * (height - bottom - top)
    colors = {"direct": "#1f77b4", "pgbouncer": "#d62728"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
             f'<line x1="{left}" y1="{y(1000):.1f}" x2="{width - right}" y2="{y(1000):.1f}" '
             f'stroke="gray" stroke-dasharray="4 4"/>',
             f'<text x="{width - right + 4}" y="{y(1000) + 4:.1f}">p99 = 1 s</text>',
             f'<text x="{(left + width - right) / 2}" y="{height - 10}" text-anchor="middle">'
             f'concurrent jobs (one line a second each)</text>',
             f'<text x="15" y="{(top + height - bottom) / 2}" transform="rotate(-90 15 '
             f'{(top + height - bottom) / 2})" text-anchor="middle">p99 hand-off to commit (ms)</text>']
    for ms in (10, 100, 1000, 10000):
        if math.log10(ms) <= y_hi:
            parts.append(f'<text x="{left - 6}" y="{y(ms) + 4:.1f}" text-anchor="end">{ms}</text>')
    for r in sorted({r["jobs"] for r in points}):
        parts.append(f'<text x="{x(r):.1f}" y="{height - bottom + 16}" text-anchor="middle">{r}</text>')
    for i, (target, rs) in enumerate(results.items()):
        good = [r for r in rs if "p99_ms" in r]
        color = colors.get(target, "black")
        if good:
            coords = " ".join(f"{x(r['jobs']):.1f},{y(r['p99_ms']):.1f}" for r in good)
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>')
            for r in good:
                parts.append(f'<circle cx="{x(r["jobs"]):.1f}" cy="{y(r["p99_ms"]):.1f}" r="3" fill="{color}"/>')
        parts.append(f'<text x="{width - right + 4}" y="{top + 16 * (i + 1)}" fill="{color}">{target}</text>')
    parts.append("</svg>")
    with open(path, "w") as out:
        out.write("\n".join(parts) + "\n")


def table(results, baseline, wrapper, seconds):
    rows = ["| target | jobs | p50 ms | p99 ms | max ms | rows/s | lost | server CPU s / 1k rows "
            "| WAL bytes / row | server connections |", "|" + " --- |" * 10]
    for target, rs in results.items():
        for r in rs:
            if "failed" in r:
                rows.append(f"| {target} | {r['jobs']} | failed: {r['failed']} |" + " |" * 7)
                continue
            rows.append(f"| {target} | {r['jobs']} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} | "
                        f"{r['max_ms']:.0f} | {r['rows_per_s']:.0f} | {r['lost']} | "
                        f"{r['server_cpu_s_per_1k_rows'] or 0:.2f} | {r['wal_bytes_per_row'] or 0:.0f} | "
                        f"{r['server_connections_max']} |")
    lines = [f"Each job writes one line of 8 floats a second for {seconds} s.", "", *rows]
    if "failed" not in baseline and "failed" not in wrapper:
        cpu = wrapper["server_cpu_s_per_1k_rows"] / baseline["server_cpu_s_per_1k_rows"]
        lines += ["", f"At {baseline['jobs']} jobs, directly, the wrapper's path against a plain "
                      f"COPY of the same rows: server CPU {wrapper['server_cpu_s_per_1k_rows']:.2f} "
                      f"against {baseline['server_cpu_s_per_1k_rows']:.2f} s / 1k rows "
                      f"({cpu:.2f}x), WAL {wrapper['wal_bytes_per_row']:.0f} against "
                      f"{baseline['wal_bytes_per_row']:.0f} bytes / row."]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True)
    parser.add_argument("--jobs", default="100,300,1000,3000")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--pool", type=int, default=16, help="PgBouncer's default_pool_size")
    parser.add_argument("--baseline-jobs", type=int, default=50,
                        help="jobs of the plain COPY baseline (each holds a connection: "
                             "fewer than max_connections); 0: no baseline")
    parser.add_argument("--targets", default="direct,pgbouncer")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench/results"))
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a socket per job
    work = tempfile.mkdtemp(prefix="sqltrack-swarm-curve.")
    os.chmod(work, 0o755)
    bouncer = None
    try:
        pg = start_postgres(work)
        direct = clean_env({"SQLTRACK_DSN_HOST": pg["SQLTRACK_DSN_HOST"],
                            "SQLTRACK_DSN_PORT": pg["SQLTRACK_DSN_PORT"],
                            "SQLTRACK_DSN_USER": "postgres", "SQLTRACK_DSN_DBNAME": "sqltrack"})
        subprocess.run([os.path.join(args.build, "src/cli/sqltrack"), "setup"], env=direct,
                       check=True, capture_output=True)
        bouncer, port = start_pgbouncer(work, pg, args.pool)
        pooled = dict(direct, SQLTRACK_DSN_HOST="127.0.0.1", SQLTRACK_DSN_PORT=str(port))
        counts = [int(n) for n in args.jobs.split(",")]
        baseline = wrapper_at_baseline = {"failed": "not run (--baseline-jobs 0)"}
        if args.baseline_jobs > 0:
            baseline = run_swarm(args.build, direct, args.baseline_jobs, args.seconds,
                                 ["--path", "plain-copy"])
            wrapper_at_baseline = run_swarm(args.build, direct, args.baseline_jobs, args.seconds)
        print("baseline:", json.dumps(baseline), flush=True)
        print("wrapper at the baseline's jobs:", json.dumps(wrapper_at_baseline), flush=True)
        targets = args.targets.split(",")
        results = {target: [] for target in targets}
        for target, env in (("direct", direct), ("pgbouncer", pooled)):
            if target not in targets:
                continue
            for n in counts:
                result = run_swarm(args.build, env, n, args.seconds)
                print(f"{target}:", json.dumps(result), flush=True)
                results[target].append(result)
                if "failed" in result or result["lost"] != 0 or result["p99_ms"] >= 1000:
                    break
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "swarm.json"), "w") as out:
            json.dump({"seconds": args.seconds, "pool": args.pool, "nproc": os.cpu_count(),
                       "baseline": baseline, "wrapper_at_baseline": wrapper_at_baseline,
                       "results": results}, out, indent=1)
        svg(results, os.path.join(args.out, "swarm-p99.svg"))
        print(table(results, baseline, wrapper_at_baseline, args.seconds))
    finally:
        if bouncer and os.path.exists(os.path.join(bouncer, "pgbouncer.pid")):
            with open(os.path.join(bouncer, "pgbouncer.pid")) as pid:
                subprocess.run(["kill", pid.read().strip()])
        subprocess.run([os.path.join(ROOT, "scripts/stop-postgres.sh"), "--clean",
                        os.path.join(work, "pg")], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
