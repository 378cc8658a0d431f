#!/usr/bin/env bash
# Shell completion of sqltrack and sqltrack-run (packaging/completion/).
#
#   completion_test.sh bash COMPLETION_DIR SQLTRACK SQLTRACK_RUN
#       sources sqltrack.bash and calls its function with COMP_WORDS and COMP_CWORD set, as
#       bash does, against the programs' --help and a real SQLite database;
#   completion_test.sh zsh COMPLETION_DIR SQLTRACK SQLTRACK_RUN
#       zsh -n on _sqltrack, then the same through completion_test.zsh (exit 77: skipped
#       where zsh is not installed);
#   completion_test.sh install CMAKE BUILD_DIR  `cmake --install` puts both where the shells look.
set -uo pipefail
# A loaded machine or a sanitizer build may take longer than the half second users get.
export SQLTRACK_COMPLETION_TIMEOUT=60
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# The completions of the last word of a command line, sorted, one per line.
completions() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _sqltrack
    if ((${#COMPREPLY[@]} > 0)); then printf '%s\n' "${COMPREPLY[@]}" | sort; fi
}

# expect_exactly 'EXPECTED LINES' WORD... : the completions are exactly these.
expect_exactly() {
    local expected=$1 got
    shift
    got=$(completions "$@")
    [[ $got == "$expected" ]] ||
        fail "completing '$*': expected [${expected//$'\n'/ }], got [${got//$'\n'/ }]"
}

# expect_among 'WANTED ...' WORD... : each wanted word is among the completions.
expect_among() {
    local wanted=$1 got word
    shift
    got=$(completions "$@")
    for word in $wanted; do
        grep -qxF -- "$word" <<<"$got" ||
            fail "completing '$*': expected $word among [${got//$'\n'/ }]"
    done
}

# A directory with a database of three runs: 1 and 3 of resnet50, 2 of "my exp".
make_runs() {
    local sqltrack=$1 run=$2
    "$sqltrack" setup >/dev/null || fail "sqltrack setup failed"
    "$run" -e resnet50 -- true || fail "run 1 failed"
    "$run" -e "my exp" -- true || fail "run 2 failed"
    "$run" -e resnet50 -- true || fail "run 3 failed"
}

bash_completion() {
    local dir=$1 sqltrack=$2 run=$3
    # shellcheck source=/dev/null
    source "$dir/sqltrack.bash"
    complete -p sqltrack sqltrack-run >/dev/null || fail "sqltrack and sqltrack-run have no completion"
    local work
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    cd "$work" || return

    # Subcommands and options, as --help lists them.
    expect_among "setup enqueue sync slurm-sync submit export report doctor" "$sqltrack" ""
    expect_exactly "export" "$sqltrack" ex
    expect_exactly "export" "$sqltrack" -c my.conf --engine sqlite ex
    expect_exactly "export" "$sqltrack" --engine = sqlite ex
    expect_exactly "--format" "$sqltrack" export --form
    expect_among "--help --config-path --engine" "$sqltrack" doctor --
    expect_exactly $'csv\njson' "$sqltrack" export --format ""
    expect_exactly $'csv\njson' "$sqltrack" export --format = ""
    expect_exactly $'postgres\nsqlite' "$sqltrack" --engine ""
    expect_exactly "CANCELLED" "$sqltrack" export --status can
    expect_exactly "status" "$run" ""
    expect_among "--json --watch --sort --since --config-path" "$run" status --
    expect_among "--run-id --add-columns --no-metrics --heartbeat" "$run" --
    expect_exactly "" "$run" -e x status
    printf 'SELECT 1;\n' >v001.sql
    expect_exactly "v001.sql" "$sqltrack" setup v0
    expect_among "bash" "$run" -e x -- bas

    # A database that is not there: nothing, and nothing created.
    expect_exactly "" "$run" -e ""
    expect_exactly "" "$run" status ""
    [[ ! -e sqltrack.db ]] || fail "completion created sqltrack.db"

    # Experiment names and run ids from a real database.
    make_runs "$sqltrack" "$run"
    expect_exactly $'my\\ exp\nresnet50' "$run" -e ""
    expect_exactly "resnet50" "$run" --experiment res
    expect_exactly $'my\\ exp\nresnet50' "$sqltrack" export -e ""
    expect_exactly $'1\n2\n3' "$run" status ""
    expect_exactly $'1\n3' "$run" status -e resnet50 ""
    expect_exactly $'1\n2\n3' "$run" --run-id ""
    # The connection flags on the line choose the database.
    mkdir elsewhere && cd elsewhere || return
    printf 'path = %s/sqltrack.db\n' "$work" >"my conf"
    expect_exactly "" "$run" -e ""
    expect_exactly "" "$run" -c missing.conf -e ""
    expect_exactly $'1\n2\n3' "$run" status -c "'my conf'" ""
    expect_exactly "resnet50" "$sqltrack" --config-path = "my\\ conf" report -e r
}

zsh_completion() {
    local dir=$1 sqltrack=$2 run=$3 work
    command -v zsh >/dev/null || {
        echo "zsh is not installed: skipped"
        exit 77
    }
    zsh -n "$dir/_sqltrack" || fail "zsh -n $dir/_sqltrack"
    head -1 "$dir/_sqltrack" | grep -qx '#compdef sqltrack sqltrack-run' ||
        fail "_sqltrack does not start with '#compdef sqltrack sqltrack-run'"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    cd "$work" || return
    make_runs "$sqltrack" "$run"
    zsh -f "$here/completion_test.zsh" "$dir" "$sqltrack" "$run" ||
        fail "zsh completion"
}

installed() {
    local cmake=$1 build=$2 dest
    dest=$(mktemp -d)
    trap 'rm -rf "$dest"' RETURN
    DESTDIR=$dest "$cmake" --install "$build" >/dev/null || fail "cmake --install failed"
    local share
    share=$(find "$dest" -type d -path '*/share/bash-completion/completions' | head -1)
    [[ -n $share ]] || fail "nothing installed in share/bash-completion/completions"
    for name in sqltrack sqltrack-run; do
        [[ -f $share/$name ]] || fail "no bash completion installed for $name"
    done
    [[ -n $(find "$dest" -path '*/share/zsh/vendor-completions/_sqltrack') ]] ||
        fail "no share/zsh/vendor-completions/_sqltrack installed"
}

case ${1:-} in
    bash) bash_completion "$2" "$3" "$4" ;;
    zsh) zsh_completion "$2" "$3" "$4" ;;
    install) installed "$2" "$3" ;;
    *)
        echo "usage: $0 bash|zsh|install ..." >&2
        exit 2
        ;;
esac
if ((failures > 0)); then
    echo "$failures completion check(s) failed" >&2
    exit 1
fi
echo "completion: every check passed"
