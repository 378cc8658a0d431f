#!/usr/bin/env bash
# The man pages of packaging/man/ against what the programs and the config code say.
#
#   man_pages_test.sh options MAN_DIR SQLTRACK SQLTRACK_RUN
#       every subcommand and every long option of the programs' --help (sqltrack, each
#       sqltrack subcommand, sqltrack-run, sqltrack-run status) is in its man page;
#   man_pages_test.sh settings MAN_DIR CONFIG_CPP README
#       every setting key of the config code (kOwnKeys) and of the README's settings table
#       is in sqltrack.conf(5);
#   man_pages_test.sh lint MAN_DIR     groff and man format each page without a warning;
#   man_pages_test.sh install CMAKE BUILD_DIR   `cmake --install` puts them in share/man/manN.
set -uo pipefail
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
pages=(sqltrack.1 sqltrack-run.1 sqltrack.conf.5 sqltrack-metrics.7)

# A page's roff source as plain words: \- as -, font escapes dropped.
page_text() {
    sed -E 's/\\-/-/g; s/\\f[BIRP]//g' "$1"
}

# The long options of a --help text, one per line ("  -e [ --experiment ] arg" → --experiment).
long_options() {
    grep -oE '^ +(-[a-zA-Z] \[ )?--[a-z0-9][a-z0-9-]*' | grep -oE -- '--[a-z0-9-]+$' | sort -u
}

# expect_options PAGE WHAT HELP_TEXT: each long option of HELP_TEXT is in PAGE.
expect_options() {
    local page=$1 what=$2 help=$3 text option
    text=$(page_text "$page")
    [[ -n $(long_options <<<"$help") ]] || fail "$what: no options found in its --help"
    while read -r option; do
        grep -qE -- "${option}([^a-z0-9-]|\$)" <<<"$text" ||
            fail "$what: option $option is missing from ${page##*/}"
    done < <(long_options <<<"$help")
}

check_options() {
    local dir=$1 sqltrack=$2 run=$3 help commands command
    help=$("$sqltrack" --help) || fail "sqltrack --help failed"
    expect_options "$dir/sqltrack.1" "sqltrack --help" "$help"
    commands=$(awk '/^Commands:/ { listed = 1; next } listed && /^$/ { exit }
        listed && /^  [a-z]/ { print $1 }' <<<"$help")
    [[ $(wc -l <<<"$commands") -ge 10 ]] || fail "sqltrack --help: expected its commands, got [$commands]"
    for command in $commands; do
        grep -qxF ".SS $command" <(page_text "$dir/sqltrack.1") ||
            fail "sqltrack $command: no section '.SS $command' in sqltrack.1"
        help=$("$sqltrack" "$command" --help) || fail "sqltrack $command --help failed"
        expect_options "$dir/sqltrack.1" "sqltrack $command --help" "$help"
    done
    help=$("$run" --help) || fail "sqltrack-run --help failed"
    expect_options "$dir/sqltrack-run.1" "sqltrack-run --help" "$help"
    grep -qE '^\.SH STATUS$' "$dir/sqltrack-run.1" || fail "sqltrack-run.1 has no section STATUS"
    help=$("$run" status --help) || fail "sqltrack-run status --help failed"
    expect_options "$dir/sqltrack-run.1" "sqltrack-run status --help" "$help"
}

check_settings() {
    local dir=$1 config_cpp=$2 readme=$3 code_keys readme_keys key text
    code_keys=$(awk '/kOwnKeys = \{/ { listed = 1; next } listed && /^\};/ { exit }
        listed' "$config_cpp" | grep -oE '^ *"[a-z_]+"' | tr -d ' "')
    [[ $(wc -l <<<"$code_keys") -ge 10 ]] || fail "$config_cpp: expected kOwnKeys, got [$code_keys]"
    readme_keys=$(awk '/^\| key \| meaning \|/ { listed = 1; next } listed && !/^\|/ { exit }
        listed { split($0, cell, "|"); print cell[2] }' "$readme" | grep -oE "\`[a-z_]+\`" | tr -d "\`")
    [[ $(wc -l <<<"$readme_keys") -ge 10 ]] || fail "$readme: expected the settings table, got [$readme_keys]"
    text=$(page_text "$dir/sqltrack.conf.5")
    for key in $(printf '%s\n%s\n' "$code_keys" "$readme_keys" | sort -u); do
        # A setting is a .TP item: ".B key", or an alias in ".BR path \" (alias \" dbpath".
        grep -qE "^\.BR? $key( |\$)|\(alias \" $key( |\$)" <<<"$text" ||
            fail "setting $key is missing from sqltrack.conf.5 (no .B $key line)"
    done
}

check_lint() {
    local dir=$1 page out
    if ! command -v groff >/dev/null || ! command -v man >/dev/null; then
        fail "groff and man are missing (Debian: man-db, scripts/install-deps.sh)"
        return
    fi
    for page in "${pages[@]}"; do
        [[ -f $dir/$page ]] || { fail "$page is missing"; continue; }
        out=$(groff -man -ww -z "$dir/$page" 2>&1) || fail "groff -man -ww -z $page failed"
        [[ -z $out ]] || fail "groff -man -ww warns about $page: $out"
        out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$dir/$page" 2>&1 >/dev/null) ||
            fail "man -l $page failed"
        [[ -z $out ]] || fail "man --warnings -l warns about $page: $out"
    done
}

check_install() {
    local cmake=$1 build=$2 prefix page
    prefix=$(mktemp -d)
    trap 'rm -rf "$prefix"' RETURN
    "$cmake" --install "$build" --prefix "$prefix" >/dev/null || fail "cmake --install failed"
    for page in "${pages[@]}"; do
        [[ -f $prefix/share/man/man${page##*.}/$page ]] ||
            fail "expected $prefix/share/man/man${page##*.}/$page after cmake --install"
    done
}

case ${1-} in
options) check_options "$2" "$3" "$4" ;;
settings) check_settings "$2" "$3" "$4" ;;
lint) check_lint "$2" ;;
install) check_install "$2" "$3" ;;
*)
    echo "usage: man_pages_test.sh options|settings|lint|install ..." >&2
    exit 2
    ;;
esac
[[ $failures -eq 0 ]] || { echo "$failures failure(s)" >&2; exit 1; }
echo "man pages: $1 ok"
