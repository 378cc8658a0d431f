#!/usr/bin/env bash
# Installs what sqltrack needs to build and test, from Debian 12's packages.
# Idempotent: quiet and quick when everything is there. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git clang-format
  libpq-dev libsqlite3-dev sqlite3
  libboost1.81-dev libboost-program-options1.81-dev
  libyaml-cpp-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql postgresql-client
  slurm-wlm munge
  python3 python3-psycopg python3-pandas
  tmux procps psmisc time pgbouncer man-db zsh
  chromium fonts-dejavu-core libpng-dev libjs-dygraphs
)
# Optional extras for the fuzz target, benchmarks and the Debian package; failures here are not fatal.
extras=(clang libclang-rt-14-dev hyperfine dpkg-dev debhelper lintian mmdebstrap)

missing=()
for p in "${packages[@]}" "${extras[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The Slurm and PostgreSQL packages would start services on a systemd machine;
# the test scripts start their own, so keep the package scripts from doing it.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
  # Retry without the optional extras so one missing extra does not block the build.
  required=()
  for p in "${missing[@]}"; do
    case " ${extras[*]} " in *" $p "*) ;; *) required+=("$p") ;; esac
  done
  $SUDO apt-get install -y -qq --no-install-recommends "${required[@]}"
}
