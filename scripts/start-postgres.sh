#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests: a fresh cluster in a
# directory, listening on a unix socket there and on 127.0.0.1:PORT.
# Usage: scripts/start-postgres.sh [DIR]   (default ${SQLTRACK_PG_DIR:-/tmp/sqltrack-pg})
# Prints two lines:
#   export SQLTRACK_DSN_HOST=... SQLTRACK_DSN_PORT=... SQLTRACK_DSN_USER=... SQLTRACK_DSN_DBNAME=sqltrack
#     what sqltrack and sqltrack-run read: they then use this server's database "sqltrack";
#   export SQLTRACK_TEST_PG...=...
#     the last line, what the tests read (also written to DIR/env). The tests choose their own
#     databases, so the shell that runs them must not have the first line's variables.
# PostgreSQL refuses to run as root, so as root the server runs as user postgres.
set -euo pipefail

dir=${1:-${SQLTRACK_PG_DIR:-/tmp/sqltrack-pg}}
port=${SQLTRACK_TEST_PGPORT:-54329}
# Another server (a developer's, another checkout's) may hold the port: take the next free one.
if [ -z "${SQLTRACK_TEST_PGPORT:-}" ] && [ ! -f "$dir/data/postmaster.pid" ]; then
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bindir/pg_ctl" ] || { echo "start-postgres: PostgreSQL server not installed (run scripts/install-deps.sh)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The two lines of the usage above, for the server on $port.
print_env() {
  echo "export SQLTRACK_DSN_HOST=$dir/socket SQLTRACK_DSN_PORT=$port SQLTRACK_DSN_USER=postgres SQLTRACK_DSN_DBNAME=sqltrack"
  echo "export SQLTRACK_TEST_PGHOST=$dir/socket SQLTRACK_TEST_PGPORT=$port SQLTRACK_TEST_PGUSER=postgres SQLTRACK_PG_DIR=$dir SQLTRACK_PG_BINDIR=$bindir"
}

if [ -f "$dir/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  # Running already, maybe on a port found free when it started: the port it listens on.
  port=$(sed -n 4p "$dir/data/postmaster.pid")
  print_env
  exit 0
fi

mkdir -p "$dir/socket"
if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$dir"; chmod 755 "$dir"; fi
if [ ! -f "$dir/data/PG_VERSION" ]; then
  as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  # Trust is for this throwaway, loopback-only server; the password test user is scram.
  cat >"$dir/data/pg_hba.conf" <<HBA
local all secured scram-sha-256
host  all secured 127.0.0.1/32 scram-sha-256
local all all trust
host  all all 127.0.0.1/32 trust
host  all all ::1/128 trust
HBA
fi
start_server() {
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-k $dir/socket -p $port -c listen_addresses=127.0.0.1 -c max_connections=${SQLTRACK_TEST_PG_MAX_CONNECTIONS:-200} -c fsync=${SQLTRACK_TEST_PG_FSYNC:-on}" \
    >/dev/null
}
# Two servers started at once may both find the same port free: the one that loses the bind
# takes the next free port (only when the port was not given).
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  logged=$(stat -c %s "$dir/server.log" 2>/dev/null || echo 0)
  start_server && break
  if [ -z "${SQLTRACK_TEST_PGPORT:-}" ] && [ "$attempt" -lt 10 ] &&
    tail -c +"$((logged + 1))" "$dir/server.log" | grep -q "Address already in use"; then
    port=$((port + 1))
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    continue
  fi
  tail -20 "$dir/server.log" >&2
  exit 1
done
"$bindir/psql" -h "$dir/socket" -p "$port" -U postgres -d postgres -qAtX -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'secured') THEN
    CREATE ROLE secured LOGIN PASSWORD 'correct horse';
  END IF;
END $$;
-- The database of the first line's SQLTRACK_DSN_DBNAME, for trying the programs by hand.
SELECT 'CREATE DATABASE sqltrack' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'sqltrack')
\gexec
SQL
print_env | tail -1 >"$dir/env"
print_env
