#!/usr/bin/env bash
# Builds the relocatable tarball build/packages/sqltrack-VERSION-linux-x86_64.tar.gz:
# bin/ (sqltrack, sqltrack-run), share/man/, share/sqltrack/ (slurm epilog and examples, the
# Python helper), share/bash-completion and share/zsh, all by `cmake --install` into a
# staging directory. The schema and the report's scripts are compiled in; libpq is loaded at
# run time, so the binaries need nothing at the build's paths.
#
# With the Debian tools (dpkg-dev, debhelper, lintian) it also builds the Debian package
# from packaging/debian/ with dpkg-buildpackage in build/deb/, checks it with lintian and
# writes build/packages/sqltrack_VERSION_ARCH.deb.
#
# Usage: scripts/package.sh [--from-build DIR] [--out DIR] [--no-deb | --deb]
#   default: a Release build of its own in build/package (tests and benchmarks off);
#   --from-build DIR: package an existing build tree instead (the tests do, to save a build),
#                     the tarball only unless --deb is given;
#   --no-deb: the tarball only; --deb: the Debian package too (dpkg-buildpackage builds its own).
set -euo pipefail
cd "$(dirname "$0")/.."

build=""
out=build/packages
deb=1
deb_wanted=0
while [ $# -gt 0 ]; do
  case $1 in
    --from-build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-deb) deb=0; shift ;;
    --deb) deb_wanted=1; shift ;;
    *) echo "package.sh: unknown argument '$1' (usage: scripts/package.sh [--from-build DIR] [--out DIR] [--no-deb | --deb])" >&2; exit 2 ;;
  esac
done

[ -z "$build" ] || deb=$deb_wanted
if [ -z "$build" ]; then
  build=build/package
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSQLTRACK_BUILD_TESTS=OFF \
    -DSQLTRACK_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
  ninja -C "$build" sqltrack_cli sqltrack_run
fi

version=$(sed -nE 's/^project\(sqltrack VERSION ([0-9.]+).*/\1/p' CMakeLists.txt)
[ -n "$version" ] || { echo "package.sh: no project(sqltrack VERSION ...) in CMakeLists.txt" >&2; exit 1; }
name=sqltrack-$version-linux-$(uname -m)
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
root=$staging/$name
cmake --install "$build" --prefix "$root" --strip >/dev/null

# The Python helper in one place whatever python3 the build saw (PYTHONPATH=share/sqltrack/python).
helper=$(find "$root/lib" -name sqltrack_run.py -print -quit 2>/dev/null || true)
[ -n "$helper" ] || { echo "package.sh: cmake --install put no sqltrack_run.py under $root/lib" >&2; exit 1; }
mkdir -p "$root/share/sqltrack/python"
mv "$helper" "$root/share/sqltrack/python/"
rm -rf "${root:?}/lib"

# A relocatable tree names neither the staging nor the build directory anywhere.
for file in "$root"/bin/*; do
  for path in "$root" "$PWD/$build" "$(cd "$build" && pwd)"; do
    if grep -qaF "$path" "$file"; then
      echo "package.sh: $file names $path; it would not work elsewhere" >&2
      exit 1
    fi
  done
done

mkdir -p "$out"
tarball=$(cd "$out" && pwd)/$name.tar.gz
tar -C "$staging" --owner=0 --group=0 --numeric-owner -czf "$tarball" "$name"
echo "$tarball"

[ $deb -eq 1 ] || exit 0
for tool in dpkg-buildpackage dh lintian; do
  command -v $tool >/dev/null ||
    { echo "package.sh: no Debian package: $tool is missing (apt-get install dpkg-dev debhelper lintian)" >&2; exit 1; }
done
# The working tree's tracked files (what is committed or about to be), with debian/ at the top.
debian_tree=build/deb/sqltrack-$version
rm -rf build/deb
mkdir -p "$debian_tree"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$debian_tree"
cp -r packaging/debian "$debian_tree/debian"
# CMake takes the compiler launcher from the environment too: ccache for rebuilds.
command -v ccache >/dev/null && export CMAKE_CXX_COMPILER_LAUNCHER=ccache
(cd "$debian_tree" && dpkg-buildpackage -us -uc -b >../dpkg-buildpackage.log 2>&1) ||
  { tail -30 build/deb/dpkg-buildpackage.log >&2; echo "package.sh: dpkg-buildpackage failed (build/deb/dpkg-buildpackage.log)" >&2; exit 1; }
package=$(ls build/deb/sqltrack_"$version"_*.deb)
lintian --fail-on error "$package" >&2 ||
  { echo "package.sh: lintian finds errors in $package" >&2; exit 1; }
cp "$package" "$out/"
echo "$(cd "$out" && pwd)/${package##*/}"
