#pragma once
// The experiment a command belongs to when nothing names one: for a script run through an
// interpreter, the script's name; else the command's own name. Pure, so it is tested on
// argv alone.

#include <string>
#include <vector>

namespace sqltrack {

// The name for `command` (argv, as given after --):
// * a leading `env [OPTIONS] [NAME=VALUE]...` is looked through;
// * for an interpreter or launcher (python, python3.11, pypy3, sh, bash, dash, zsh, ksh,
//   Rscript, julia, node, perl, ruby, torchrun, deepspeed, `accelerate launch`), named with
//   or without a path, its options are passed over and the script's file name without its
//   extension is taken: `python3 -u train.py` -> train, `torchrun --nproc_per_node 4 train.py`
//   -> train;
// * a module stays as written: `python -m pkg.train` -> pkg.train (`python -m
//   torch.distributed.run ...` is read as torchrun);
// * code given inline or on stdin has no script: `bash -c '...'` -> bash, `python3 -` ->
//   python3;
// * any other command: its file name, `./bench` -> bench.
// Empty for an empty command.
std::string default_experiment_name(const std::vector<std::string>& command);

}  // namespace sqltrack
