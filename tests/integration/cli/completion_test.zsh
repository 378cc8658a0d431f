# zsh's completion of sqltrack and sqltrack-run (packaging/completion/_sqltrack), run outside
# the line editor: compadd, compset and the completers it calls are stood in for by functions
# that record what would be offered. Run by completion_test.sh in a directory with a
# database of runs of resnet50 (1, 3) and "my exp" (2).
# Usage: zsh -f completion_test.zsh COMPLETION_DIR SQLTRACK SQLTRACK_RUN
fpath=($1 $fpath)
sqltrack=$2 run=$3
typeset -ga offered
integer failures=0

compadd() {
  local -a items
  while (( $# )); do
    case $1 in
      (-V|-J|-X) shift 2 ;;
      (-a) items+=(${(P)2}); shift 2 ;;
      (--) shift; items+=("$@"); break ;;
      (-*) shift ;;
      (*) items+=("$@"); break ;;
    esac
  done
  local item
  for item in $items; do [[ $item == ${PREFIX}* ]] && offered+=($item); done
}
compset() { [[ $1 == -P ]] && PREFIX=${PREFIX#*=} }
_files() { offered+=('<files>') }
_directories() { offered+=('<directories>') }
_normal() { offered+=("<command ${words[1]}, word $CURRENT>") }
_message() { }
autoload -Uz _sqltrack

# expect 'OFFERED ...' WORD... : what completing the last word offers, sorted.
expect() {
  local expected=$1
  shift
  words=("$@"); CURRENT=$#; PREFIX=${words[CURRENT]}; offered=()
  _sqltrack
  local result=${(j: :)${(o)offered}}
  if [[ $result != "$expected" ]]; then
    print -u2 "FAIL: completing '$*' in zsh: expected [$expected], got [$result]"
    (( failures++ ))
  fi
}

expect "export" $sqltrack ex
expect "export" $sqltrack -c my.conf --engine sqlite ex
expect "--format" $sqltrack export --form
expect "csv json" $sqltrack export --format ''
expect "csv" $sqltrack export --format=c
expect "status" $run ''
expect "1 2 3" $run status ''
expect "1 3" $run status -e resnet50 ''
expect "my exp resnet50" $run -e ''
expect "resnet50" $sqltrack export -e res
expect "<command true, word 2>" $run -e x -- true ''
expect "<files>" $sqltrack setup ''
expect "<directories>" $sqltrack sync ''
exit $(( failures > 0 ))
