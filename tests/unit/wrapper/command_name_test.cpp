#include "sqltrack/wrapper/command_name.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sqltrack {
namespace {

struct NameCase {
  std::vector<std::string> command;
  std::string expected;
};

void PrintTo(const NameCase& c, std::ostream* out) {
  for (const auto& word : c.command) *out << word << ' ';
  *out << "-> " << c.expected;
}

class DefaultExperimentName : public testing::TestWithParam<NameCase> {};

TEST_P(DefaultExperimentName, IsTheScriptOrTheCommand) {
  EXPECT_EQ(default_experiment_name(GetParam().command), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Interpreters, DefaultExperimentName,
    testing::Values(NameCase{{"python3", "train.py"}, "train"},
                    NameCase{{"python", "train.py", "--lr", "0.1"}, "train"},
                    NameCase{{"/usr/bin/python3.11", "/home/a/exp/train.py"}, "train"},
                    NameCase{{"python3", "-u", "train.py"}, "train"},
                    NameCase{{"python3", "-uB", "-W", "ignore", "-X", "dev", "train.py"}, "train"},
                    NameCase{{"python3", "-Wignore", "train.v2.py"}, "train.v2"},
                    NameCase{{"python", "-m", "pkg.train", "--lr", "1"}, "pkg.train"},
                    NameCase{{"python3", "-um", "pkg.train"}, "pkg.train"},
                    NameCase{{"python3", "-c", "print(1)"}, "python3"},
                    NameCase{{"python3", "-", "x"}, "python3"}, NameCase{{"python3"}, "python3"},
                    NameCase{{"pypy3", "bench.py"}, "bench"}, NameCase{{"bash", "run.sh"}, "run"},
                    NameCase{{"bash", "-c", "python3 train.py"}, "bash"},
                    NameCase{{"sh", "-euo", "pipefail", "job.sh"}, "job"},
                    NameCase{{"bash", "+o", "posix", "job"}, "job"},
                    NameCase{{"bash", "-s"}, "bash"},
                    NameCase{{"Rscript", "--vanilla", "fit.R"}, "fit"},
                    NameCase{{"Rscript", "-e", "1+1"}, "Rscript"},
                    NameCase{{"julia", "-t", "4", "--project=.", "sim.jl"}, "sim"},
                    NameCase{{"node", "--require", "ts-node/register", "serve.js"}, "serve"},
                    NameCase{{"node", "-e", "1"}, "node"},
                    NameCase{{"perl", "-Ilib", "-w", "x.pl"}, "x"},
                    NameCase{{"perl", "-lne", "print"}, "perl"},
                    NameCase{{"ruby", "-r", "json", "a.rb"}, "a"}));

INSTANTIATE_TEST_SUITE_P(
    Launchers, DefaultExperimentName,
    testing::Values(
        NameCase{{"torchrun", "--nproc_per_node", "4", "train.py", "--epochs", "3"}, "train"},
        NameCase{{"torchrun", "--nproc-per-node=4", "--standalone", "train.py"}, "train"},
        NameCase{{"torchrun", "--nnodes", "2", "-m", "pkg.train"}, "pkg.train"},
        NameCase{{"accelerate", "launch", "--multi_gpu", "--num_processes", "2", "train.py"},
                 "train"},
        NameCase{{"accelerate", "launch", "--some_new_flag", "train.py"}, "train"},
        NameCase{{"accelerate", "config"}, "accelerate"},
        NameCase{{"deepspeed", "--num_gpus", "2", "pretrain.py", "--deepspeed"}, "pretrain"},
        NameCase{{"python", "-m", "torch.distributed.run", "--nproc_per_node", "2", "train.py"},
                 "train"}));

INSTANTIATE_TEST_SUITE_P(
    OtherCommands, DefaultExperimentName,
    testing::Values(NameCase{{"true"}, "true"}, NameCase{{"./bench", "--fast"}, "bench"},
                    NameCase{{"/opt/app/bin/solver", "in.dat"}, "solver"},
                    NameCase{{"env", "A=1", "B=2", "python", "train.py"}, "train"},
                    NameCase{{"env", "-u", "HOME", "-i", "python3", "-u", "x.py"}, "x"},
                    NameCase{{"env", "A=1", "./bench"}, "bench"}, NameCase{{"env"}, "env"},
                    NameCase{{"pythonista", "a.py"}, "pythonista"},
                    NameCase{{"python3", "-m"}, "python3"}, NameCase{{}, ""}));

}  // namespace
}  // namespace sqltrack
