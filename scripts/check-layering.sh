#!/usr/bin/env bash
# Checks the dependency rules of ARCHITECTURE.md on the sources, one include at a time, and
# prints each line that breaks one as FILE:LINE: RULE. Exits 1 when any does, 0 otherwise.
# The CMake targets enforce the same folder rules at build time; this names the line.
#
# Usage: scripts/check-layering.sh [SOURCE_ROOT]   (default: the repository's src/)
set -euo pipefail
src=${1:-"$(cd "$(dirname "$0")/.." && pwd)/src"}
lib="$src/sqltrack"
if [ ! -d "$lib" ]; then
  echo "check-layering.sh: no library sources at $lib" >&2
  exit 2
fi

# What each folder may include besides itself (ARCHITECTURE.md, "Rules"). Keep in step.
declare -A allowed=(
  [util]=""
  [db]="util"
  [config]="db util"
  [schema]="db util"
  [connect]="config db schema util"
  [store]="db schema util"
  [metrics]="util"
  [metrics/sql]="metrics db schema util"
  [journal]="connect store metrics metrics/sql db util"
  [launcher]="util"
  [monitor]="launcher db util"
  [slurm]="store launcher db util"
  [wrapper]="config connect journal launcher metrics metrics/sql monitor schema slurm store db util"
  [read]="store schema metrics/sql metrics db util"
  [doctor]="config connect journal schema db util"
)

failures=0
fail() {
  echo "$1" >&2
  failures=$((failures + 1))
}

# The folder a path under src/sqltrack/ belongs to: metrics/sql/x.hpp -> metrics/sql.
folder_of() {
  case "$1" in
    metrics/sql/*) echo "metrics/sql" ;;
    */*) echo "${1%%/*}" ;;
    *) echo "" ;;
  esac
}

# Folder rules: a library file includes its own folder and the allowed ones only.
while IFS= read -r file; do
  rel=${file#"$lib"/}
  from=$(folder_of "$rel")
  if [ -z "$from" ] || [ -z "${allowed[$from]+set}" ]; then
    [ "$rel" = "CMakeLists.txt" ] || fail "$file: in no folder of ARCHITECTURE.md: put it in one"
    continue
  fi
  while IFS=: read -r line target; do
    to=$(folder_of "$target")
    [ "$to" = "$from" ] && continue
    if [ -z "$to" ] || [ -z "${allowed[$to]+set}" ]; then
      fail "$file:$line: includes sqltrack/$target, which is in no folder of ARCHITECTURE.md"
    elif [[ " ${allowed[$from]} " != *" $to "* ]]; then
      fail "$file:$line: $from/ may not include $to/ (sqltrack/$target); $from/ may use: ${allowed[$from]:-nothing of sqltrack}"
    fi
  done < <(awk 'match($0, /^[ \t]*#[ \t]*include[ \t]*"sqltrack\/[^"]*"/) {
      target = substr($0, RSTART, RLENGTH); sub(/^[^"]*"sqltrack\//, "", target)
      sub(/"$/, "", target); print FNR ":" target }' "$file")
done < <(find "$lib" -type f \( -name '*.cpp' -o -name '*.hpp' -o -name 'CMakeLists.txt' \) | sort)

# The programs (src/cli) are the only users of the wrapper besides itself; nothing includes cli.
while IFS=: read -r file line text; do
  case "$file" in
    "$lib"/wrapper/* | "$src"/cli/*) ;;
    *) fail "$file:$line: only src/cli/ may include wrapper/: $text" ;;
  esac
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"sqltrack/wrapper/' "$src" || true)
while IFS=: read -r file line text; do
  fail "$file:$line: nothing includes src/cli/: $text"
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(cli/|cli_common)' "$lib" || true)

# The database drivers' headers only in db/.
while IFS=: read -r file line text; do
  case "$file" in
    "$lib"/db/*) ;;
    *) fail "$file:$line: libpq and sqlite3 headers belong to db/ only: $text" ;;
  esac
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](libpq-fe|libpq/|sqlite3|postgres_ext|pg_config)' \
  "$src" || true)

# DDL text only in schema/ (code with its // comments cut off, so a comment may name it).
ddl='(CREATE|ALTER|DROP)[[:space:]]+((TEMP|TEMPORARY|UNIQUE)[[:space:]]+)?(TABLE|INDEX|VIEW|SCHEMA|TYPE|TRIGGER|SEQUENCE)[[:space:]]'
while IFS= read -r file; do
  case "$file" in "$lib"/schema/*) continue ;; esac
  while IFS=: read -r line text; do
    fail "$file:$line: DDL belongs to schema/: ${text#"${text%%[![:space:]]*}"}"
  done < <(sed 's|//.*||' "$file" | grep -nE "$ddl" || true)
done < <(find "$src" -type f \( -name '*.cpp' -o -name '*.hpp' \) | sort)

if [ $failures -gt 0 ]; then
  if [ $failures -eq 1 ]; then
    echo "check-layering.sh: 1 line breaks the rules of ARCHITECTURE.md" >&2
  else
    echo "check-layering.sh: $failures lines break the rules of ARCHITECTURE.md" >&2
  fi
  exit 1
fi
echo "check-layering.sh: every include and every DDL statement is where ARCHITECTURE.md says"
