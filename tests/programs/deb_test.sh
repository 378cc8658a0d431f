#!/usr/bin/env bash
# The Debian package (scripts/package.sh, dpkg-buildpackage from packaging/debian/) installed
# into a clean Debian 12 root made by mmdebstrap, where none of the build's files exist: apt
# resolves its Depends from the archive, and a user of that root runs --version, sets up a
# SQLite database, records a run with metrics, shows it, and man reads each page.
#
#   deb_test.sh SOURCE_DIR BUILD_DIR [MIRROR]
# mmdebstrap rather than debootstrap: it builds a root in under a minute, runs as root without
# extra setup, and mounts /proc and /dev for the commands its hooks run inside the root.
# Exit 77 (skipped) only where it cannot run at all: not root, or no mmdebstrap.
set -uo pipefail
source_dir=$1
build_dir=$2
mirror=${3:-http://deb.debian.org/debian}

if [[ $(id -u) -ne 0 ]] || ! command -v mmdebstrap >/dev/null; then
    echo "deb: needs root and mmdebstrap (scripts/install-deps.sh installs it); skipped"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

started=$SECONDS
deb=$("$source_dir/scripts/package.sh" --from-build "$build_dir" --deb --out "$work/out" | tail -1)
[[ -f $deb && $deb == *.deb ]] || { echo "FAIL: scripts/package.sh made no .deb (got '$deb')" >&2; exit 1; }
echo "deb: ${deb##*/} built in $((SECONDS - started)) s"
version=$(sed -nE 's/^project\(sqltrack VERSION ([0-9.]+).*/\1/p' "$source_dir/CMakeLists.txt")

# What runs inside the root, as a user of its own, after apt installed the package.
cat >"$work/check.sh" <<'CHECK'
set -u
version=$1
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
useradd --create-home --shell /bin/bash alice || { echo "FAIL: cannot create user alice" >&2; exit 1; }
user() { runuser -u alice -- env -i HOME=/home/alice PATH=/usr/bin:/bin LC_ALL=C.UTF-8 \
    sh -c 'cd "$HOME" && exec "$@"' sh "$@"; }

for file in /usr/bin/sqltrack /usr/bin/sqltrack-run /usr/share/sqltrack/slurm/epilog.sh \
    /usr/share/bash-completion/completions/sqltrack /usr/share/zsh/vendor-completions/_sqltrack; do
    [ -f "$file" ] || fail "the package installed no $file"
done
ls /usr/lib/python3/dist-packages/sqltrack_run.py >/dev/null 2>&1 ||
    fail "the package installed no sqltrack_run.py where Debian's python3 finds it"
depends=$(dpkg-query -W -f '${Depends}' sqltrack)
case $depends in
    *libc6*libyaml-cpp*|*libyaml-cpp*libc6*) ;;
    *) fail "Depends should name libc6 and libyaml-cpp (dpkg-shlibdeps), got: $depends" ;;
esac
dpkg-query -W -f '${Status}' libpq5 2>/dev/null | grep -q 'install ok installed' ||
    fail "libpq5 (Recommends) was not installed with the package"

out=$(user sqltrack-run --version 2>&1) || fail "sqltrack-run --version failed: $out"
case $out in "sqltrack-run $version "*) ;; *) fail "expected 'sqltrack-run $version ...', got '$out'" ;; esac
out=$(user sqltrack --version 2>&1) || fail "sqltrack --version failed: $out"
out=$(user sqltrack setup 2>&1) || fail "sqltrack setup failed: $out"
out=$(user sqltrack-run -e demo -- sh -c 'for s in 1 2 3; do echo "step=$s loss=0.$s"; done > "$SQLTRACK_METRICS"' 2>&1) ||
    fail "the demo run failed: $out"
out=$(user sqltrack-run status --metric loss 2>&1) || fail "sqltrack-run status --metric loss failed: $out"
case $out in *demo*0.3*) ;; *) fail "status --metric loss: expected the run of demo with loss 0.3, got: $out" ;; esac
out=$(user sqltrack doctor 2>&1)
case $out in *"schema"*) ;; *) fail "sqltrack doctor said nothing of the schema: $out" ;; esac
for page in man1/sqltrack.1 man1/sqltrack-run.1 man5/sqltrack.conf.5 man7/sqltrack-metrics.7; do
    file=$(ls /usr/share/man/$page* 2>/dev/null | head -1)
    [ -n "$file" ] || { fail "the package installed no /usr/share/man/$page"; continue; }
    out=$(user env MANWIDTH=80 man --warnings -l "$file" 2>&1 >/dev/null) || fail "man -l $file failed: $out"
    [ -z "$out" ] || fail "man --warnings -l $file warns: $out"
done
[ $failures -eq 0 ] || { echo "$failures failure(s) inside the Debian 12 root" >&2; exit 1; }
echo "deb: installed into a clean Debian 12 root and used there"
CHECK

# The root holds only Debian's packages (man-db to read the pages); apt installs the .deb
# with what its Depends and Recommends name, from the archive (mmdebstrap turns Recommends off).
started=$SECONDS
name=${deb##*/}
mmdebstrap --variant=apt --mode=root --quiet --include=man-db \
    --customize-hook="copy-in '$deb' '$work/check.sh' /tmp" \
    --customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --install-recommends /tmp/$name >/dev/null" \
    --customize-hook="chroot \"\$1\" bash /tmp/check.sh '$version'" \
    bookworm "$work/root" "$mirror" </dev/null >"$work/mmdebstrap.log" 2>&1
rc=$?
grep -E '^(deb:|FAIL:|[0-9]+ failure)' "$work/mmdebstrap.log"
if [[ $rc -ne 0 ]]; then
    grep -qE '^FAIL:|failure' "$work/mmdebstrap.log" || tail -20 "$work/mmdebstrap.log" >&2
    echo "FAIL: the check in the Debian 12 root failed (mmdebstrap exit $rc)" >&2
    exit 1
fi
echo "deb: root made, package installed and checked in $((SECONDS - started)) s"
