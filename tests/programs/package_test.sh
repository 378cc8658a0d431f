#!/usr/bin/env bash
# The relocatable tarball (scripts/package.sh), made from this build tree, unpacked and used
# by a user other than root in a directory of its own: the programs run from where they lie,
# record a run with metrics on SQLite, show it, and man reads each page.
#
#   package_test.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
source_dir=$1
build_dir=$2
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
tarball=$("$source_dir/scripts/package.sh" --from-build "$build_dir" --out "$work/out" | tail -1)
[[ -f $tarball ]] || { echo "FAIL: scripts/package.sh made no tarball (got '$tarball')" >&2; exit 1; }
version=$(sed -nE 's/^project\(sqltrack VERSION ([0-9.]+).*/\1/p' "$source_dir/CMakeLists.txt")
[[ ${tarball##*/} == sqltrack-$version-linux-x86_64.tar.gz ]] ||
    fail "expected sqltrack-$version-linux-x86_64.tar.gz, got ${tarball##*/}"

# As root (CI), a system user of the tests does it all; as anyone else, that user.
as_user=()
if [[ $(id -u) -eq 0 ]]; then
    id sqltrack-alice >/dev/null 2>&1 ||
        /usr/sbin/useradd --system --no-create-home --shell /usr/sbin/nologin sqltrack-alice 2>/dev/null
    id sqltrack-alice >/dev/null 2>&1 || { echo "FAIL: cannot create user sqltrack-alice" >&2; exit 1; }
    as_user=(setpriv "--reuid=$(id -u sqltrack-alice)" "--regid=$(id -g sqltrack-alice)" --clear-groups --)
fi
home=$work/home
mkdir -p "$home"
[[ ${#as_user[@]} -eq 0 ]] || chown sqltrack-alice: "$home"

# user COMMAND...: run in $home as that user, with the unpacked bin/ first on PATH.
user() {
    (cd "$home" && env -i HOME="$home" PATH="$home/sqltrack/bin:/usr/bin:/bin" LC_ALL=C.UTF-8 \
        "${as_user[@]}" "$@")
}

user mkdir sqltrack || fail "cannot make $home/sqltrack"
user tar -xzf "$tarball" -C sqltrack --strip-components=1 || fail "cannot unpack $tarball"
for file in bin/sqltrack bin/sqltrack-run share/sqltrack/slurm/epilog.sh \
    share/sqltrack/python/sqltrack_run.py share/bash-completion/completions/sqltrack \
    share/zsh/vendor-completions/_sqltrack; do
    [[ -f $home/sqltrack/$file ]] || fail "the tarball has no $file"
done

out=$(user sqltrack-run --version 2>&1) || fail "sqltrack-run --version failed: $out"
[[ $out == "sqltrack-run $version "* ]] || fail "sqltrack-run --version: expected 'sqltrack-run $version ...', got '$out'"
out=$(user sqltrack setup 2>&1) || fail "sqltrack setup failed: $out"
# shellcheck disable=SC2016  # the job's shell expands $SQLTRACK_METRICS
out=$(user sqltrack-run -e demo -- sh -c 'echo step=1 loss=0.5 > "$SQLTRACK_METRICS"' 2>&1) ||
    fail "the demo run failed: $out"
out=$(user sqltrack-run status --metric loss 2>&1) || fail "sqltrack-run status --metric loss failed: $out"
if ! grep -q demo <<<"$out" || ! grep -q '0\.5' <<<"$out"; then
    fail "sqltrack-run status --metric loss: expected the run of demo with loss 0.5, got: $out"
fi
out=$(user env PYTHONPATH="$home/sqltrack/share/sqltrack/python" python3 -c 'import sqltrack_run' 2>&1) ||
    fail "python3 cannot import sqltrack_run from share/sqltrack/python: $out"

# Without libpq (hidden by an empty file in a mount namespace of its own, where root may make
# one): PostgreSQL fails with one line naming the library, SQLite works as before.
libpq=$(/sbin/ldconfig -p | awk '$1 == "libpq.so.5" { print $NF; exit }')
if [[ $(id -u) -eq 0 && -n $libpq ]] && unshare -m true 2>/dev/null; then
    # shellcheck disable=SC2016  # sh -c expands its own arguments
    out=$(unshare -m sh -c 'mount --bind /dev/null "$(readlink -f "$1")" && shift && "$@"' sh \
        "$libpq" "$home/sqltrack/bin/sqltrack" status -a /nonexistent -d x 2>&1)
    [[ $? -eq 1 && $out == *"libpq client library"*"libpq.so.5"*"apt-get install libpq5"* ]] ||
        fail "without libpq: expected exit 1 and a line naming libpq.so.5 and libpq5, got: $out"
else
    echo "package: the check without libpq needs root and unshare; skipped"
fi

for page in man1/sqltrack.1 man1/sqltrack-run.1 man5/sqltrack.conf.5 man7/sqltrack-metrics.7; do
    out=$(user env MANWIDTH=80 man --warnings -l "sqltrack/share/man/$page" 2>&1 >/dev/null) ||
        fail "man -l $page failed: $out"
    [[ -z $out ]] || fail "man --warnings -l $page warns: $out"
done
[[ $failures -eq 0 ]] || { echo "$failures failure(s)" >&2; exit 1; }
echo "package: ${tarball##*/} unpacked and used"
