# bash completion for sqltrack and sqltrack-run.
#
# Subcommands and options are read from the programs' own --help when first needed, so they
# never drift from what the programs take. Experiment names (after -e) and run ids (where a
# RUN is expected) come from `sqltrack-run status --json`, with the connection flags on the
# line, given half a second ($SQLTRACK_COMPLETION_TIMEOUT seconds when set): nothing when the
# database does not answer.

# PROGRAM [SUBCOMMAND] --help, asked once per shell.
declare -gA _sqltrack_help_cache=()

_sqltrack_help() {
    local key="$*"
    if [[ -z ${_sqltrack_help_cache[$key]+set} ]]; then
        _sqltrack_help_cache[$key]=$("$@" --help 2>/dev/null)
    fi
    REPLY=${_sqltrack_help_cache[$key]}
}

# The options of a --help text, one per line: "NAME" or "NAME arg" for one that takes a
# value (Boost's "  -e [ --experiment ] arg   ...", "  --json   ...").
_sqltrack_options() {
    awk '/^  -/ {
        if ($2 == "[") { names = $1 " " $3; value = ($5 == "arg") }
        else { names = $1; value = ($2 == "arg") }
        n = split(names, list, " ")
        for (i = 1; i <= n; i++) print list[i] (value ? " arg" : "")
    }' <<<"$1"
}

# Subcommands with their synopsis, "NAME SYNOPSIS" per line: sqltrack's "Commands:" list, or
# the "sqltrack-run NAME ..." lines of sqltrack-run's usage.
_sqltrack_commands() {
    awk '/^Commands:/ { listed = 1; next }
        listed && /^$/ { listed = 0 }
        listed && /^  [a-z]/ { sub(/^  /, ""); print; next }
        /^(Usage:)? +sqltrack-run (\[CONNECTION FLAGS\] )?[a-z]/ {
        sub(/^.*sqltrack-run (\[CONNECTION FLAGS\] )?/, ""); print }' <<<"$1"
}

# Top-level "id" and "experiment" of each JSON object that `status --json` prints, as
# "ID<TAB>EXPERIMENT" (escapes \\ and \" undone). Strings are split off whole first, so
# braces and colons inside them are never read as JSON.
# shellcheck disable=SC2016  # awk's own $0, not the shell's
_sqltrack_runs_awk='{
    line = $0
    gsub(/\\\\/, "\001", line); gsub(/\\"/, "\002", line)
    gsub(/"[^"]*"|[][{}:,]/, "\n&\n", line)
    n = split(line, token, "\n"); depth = 0; key = ""; want_key = 0; id = ""; name = ""
    for (i = 1; i <= n; i++) {
        t = token[i]
        if (t == "") continue
        if (t == "{" || t == "[") { depth++; want_key = (depth == 1); continue }
        if (t == "}" || t == "]") { depth--; continue }
        if (depth != 1 || t == ":") continue
        if (t == ",") { want_key = 1; continue }
        if (want_key) { key = t; want_key = 0; continue }
        if (key == "\"id\"") id = t
        else if (key == "\"experiment\"") name = substr(t, 2, length(t) - 2)
    }
    gsub(/\001/, "\\", name); gsub(/\002/, "\"", name)
    if (id != "") print id "\t" name
}'

# A word of the command line as the program will get it: quotes removed, ~/ expanded.
_sqltrack_unquote() {
    local word=$1
    if [[ $word == \'*\' || $word == \"*\" ]]; then
        word=${word:1:${#word}-2}
    else
        word=${word//\\/}
    fi
    # shellcheck disable=SC2088  # a literal ~/ as typed, expanded here
    [[ $word == "~/"* ]] && word=$HOME/${word#"~/"}
    REPLY=$word
}

# The value of the option at COMP_WORDS[$1] (bash splits --flag=value into three words) in
# REPLY, unquoted, and the index of its last word in VALUE_AT; false when it is not typed yet.
_sqltrack_option_value() {
    VALUE_AT=$(($1 + 1))
    [[ ${COMP_WORDS[VALUE_AT]-} == = ]] && ((VALUE_AT++))
    ((VALUE_AT < COMP_CWORD)) || return 1
    _sqltrack_unquote "${COMP_WORDS[VALUE_AT]}"
}

# "ID<TAB>EXPERIMENT" of the newest runs; $1: the program being completed, then flags for
# status (-e NAME). The connection flags given on the line choose the database.
_sqltrack_runs() {
    local program=$1 runner=sqltrack-run i word
    shift
    if [[ ${program##*/} == sqltrack-run ]]; then
        runner=$program
    elif [[ $program == */* && -x ${program%/*}/sqltrack-run ]]; then
        runner=${program%/*}/sqltrack-run
    fi
    local -a flags=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case $word in
            --) break ;;
            -u | --user | -a | --host | -d | --database | -s | --schema | -c | --config-path | --engine)
                _sqltrack_option_value "$i" || break
                flags+=("$word" "$REPLY")
                i=$VALUE_AT
                ;;
        esac
    done
    timeout "${SQLTRACK_COMPLETION_TIMEOUT:-0.5}" "$runner" status --json --limit 500 "${flags[@]}" "$@" </dev/null 2>/dev/null |
        awk "$_sqltrack_runs_awk"
}

# COMPREPLY from candidate lines that start with the current word, quoted for the shell.
_sqltrack_reply() {
    local cur=$1 line
    COMPREPLY=()
    while IFS= read -r line; do
        [[ -n $line && $line == "$cur"* ]] || continue
        if [[ $line =~ [^A-Za-z0-9_./:=@%+,-] ]]; then
            COMPREPLY+=("$(printf '%q' "$line")")
        else
            COMPREPLY+=("$line")
        fi
    done
}

_sqltrack_experiments() {
    local program=$1 cur=$2
    _sqltrack_reply "$cur" < <(_sqltrack_runs "$program" | cut -f2- | awk '!seen[$0]++')
}

# Run ids; of the experiment named with -e on the line, when there is one.
_sqltrack_run_ids() {
    local program=$1 cur=$2 i
    local -a only=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == -e || ${COMP_WORDS[i]} == --experiment ]] &&
            _sqltrack_option_value "$i"; then
            only=(-e "$REPLY")
        fi
    done
    _sqltrack_reply "$cur" < <(_sqltrack_runs "$program" "${only[@]}" | cut -f1)
}

_sqltrack_files() {
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen "$@")
}

# The value of option $3 (program $1, current word $2).
_sqltrack_value() {
    local program=$1 cur=$2
    case $3 in
        -e | --experiment) _sqltrack_experiments "$program" "$cur" ;;
        --run-id) _sqltrack_run_ids "$program" "$cur" ;;
        -c | --config-path | --metrics-file | -o | --output | --from-file) _sqltrack_files -f -- "$cur" ;;
        --engine) mapfile -t COMPREPLY < <(compgen -W "postgres sqlite" -- "$cur") ;;
        --format) mapfile -t COMPREPLY < <(compgen -W "csv json" -- "$cur") ;;
        --metrics) mapfile -t COMPREPLY < <(compgen -W "last min max all" -- "$cur") ;;
        --status)
            mapfile -t COMPREPLY < <(compgen -W "BOOT_FAIL CANCELLED CONFIGURING COMPLETED
                COMPLETING DEADLINE FAILED NODE_FAIL OUT_OF_MEMORY PENDING PREEMPTED
                RESV_DEL_HOLD REQUEUE_FED REQUEUE_HOLD REQUEUED RESIZING REVOKED RUNNING
                SIGNALING SPECIAL_EXIT STAGE_OUT STOPPED SUSPENDED TIMEOUT" -- "${cur^^}")
            ;;
        *) COMPREPLY=() ;;
    esac
}

# What a subcommand's positional arguments are, by the names its synopsis gives them
# ("[RUN_ID...]", "[SCRIPT.sql ...]", "[DIR]"), options and the command after -- left out.
_sqltrack_positional() {
    local program=$1 cur=$2 arguments
    arguments=$(sed -E 's/(^| )-- .*//; s/\[-[^]]*\](\.\.\.)?//g; s/(^| )--?[a-z][a-z-]* [^ []+//g' <<<"$3")
    if [[ $arguments =~ (^|[^A-Z_])RUN(_ID)?([^A-Z_]|$) ]]; then
        _sqltrack_run_ids "$program" "$cur"
    elif [[ $arguments =~ (SCRIPT|FILE) ]]; then
        _sqltrack_files -f -- "$cur"
    elif [[ $arguments =~ DIR ]]; then
        _sqltrack_files -d -- "$cur"
    fi
}

_sqltrack() {
    local program=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev="" i word
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    # shellcheck disable=SC2088  # a literal ~/ as typed, expanded here
    [[ $program == "~/"* ]] && program=$HOME/${program#"~/"}
    COMPREPLY=()
    # --flag=value: bash splits it at '=' into three words.
    if [[ $cur == = ]]; then
        cur=""
    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi

    _sqltrack_help "$program"
    local top_help=$REPLY
    local top_options commands
    top_options=$(_sqltrack_options "$top_help")
    commands=$(_sqltrack_commands "$top_help")

    # The subcommand (sqltrack-run takes it first only), and where the command after -- begins.
    local sub="" synopsis="" command_at=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ $word == -- ]]; then
            command_at=$((i + 1))
            break
        fi
        [[ -n $sub ]] && continue
        if [[ $word == -* ]]; then
            if grep -qxF -- "$word arg" <<<"$top_options"; then
                _sqltrack_option_value "$i"
                i=$VALUE_AT
            fi
            continue
        fi
        [[ ${program##*/} == sqltrack-run && $i -gt 1 ]] && continue
        synopsis=$(awk -v name="$word" '$1 == name { sub(/^[^ ]+ ?/, ""); print; exit }' <<<"$commands")
        [[ -n $synopsis ]] && sub=$word
    done

    if ((command_at > 0)); then
        if ((COMP_CWORD == command_at)); then
            mapfile -t COMPREPLY < <(compgen -c -- "$cur")
        else
            _sqltrack_files -f -- "$cur"
        fi
        return 0
    fi

    local options=$top_options
    if [[ -n $sub ]]; then
        _sqltrack_help "$program" "$sub"
        options=$(_sqltrack_options "$REPLY")
    fi
    if [[ $prev == -* ]] && grep -qxF -- "$prev arg" <<<"$options"; then
        _sqltrack_value "$program" "$cur" "$prev"
    elif [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(cut -d' ' -f1 <<<"$options")" -- "$cur")
    elif [[ -n $sub ]]; then
        _sqltrack_positional "$program" "$cur" "$synopsis"
    elif [[ ${program##*/} != sqltrack-run || $COMP_CWORD -eq 1 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(cut -d' ' -f1 <<<"$commands")" -- "$cur")
    fi
    return 0
}

complete -F _sqltrack sqltrack sqltrack-run
