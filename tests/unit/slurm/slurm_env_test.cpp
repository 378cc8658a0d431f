// Tests of reading a job's Slurm facts from its environment, with variables
// recorded from jobs of a real Slurm 22.05 cluster.

#include "sqltrack/slurm/slurm_env.hpp"

#include <string>

#include <gtest/gtest.h>

namespace sqltrack {
namespace {

// "KEY=value" lines, as `env` prints them.
Environment environment_of(std::string_view lines) {
  Environment env;
  while (!lines.empty()) {
    auto newline = lines.find('\n');
    std::string_view line = lines.substr(0, newline);
    lines = newline == std::string_view::npos ? std::string_view() : lines.substr(newline + 1);
    auto eq = line.find('=');
    if (eq != std::string_view::npos) env[std::string(line.substr(0, eq))] = line.substr(eq + 1);
  }
  return env;
}

// A batch job on its second run, after `scontrol requeue` (env | grep ^SLURM).
constexpr std::string_view kRequeuedBatchJob = R"(SLURMD_NODENAME=vm
SLURM_CLUSTER_NAME=capturetest
SLURM_CPUS_ON_NODE=1
SLURM_GTIDS=0
SLURM_JOBID=6
SLURM_JOB_CPUS_PER_NODE=1
SLURM_JOB_GID=0
SLURM_JOB_ID=6
SLURM_JOB_NAME=rq
SLURM_JOB_NODELIST=vm
SLURM_JOB_NUM_NODES=1
SLURM_JOB_PARTITION=debug
SLURM_JOB_UID=0
SLURM_JOB_USER=root
SLURM_LOCALID=0
SLURM_NNODES=1
SLURM_NODEID=0
SLURM_NODELIST=vm
SLURM_NODE_ALIASES=(null)
SLURM_PRIO_PROCESS=0
SLURM_PROCID=0
SLURM_RESTART_COUNT=1
SLURM_SUBMIT_DIR=/tmp/capture-slurm/jobs
SLURM_SUBMIT_HOST=vm
SLURM_TASKS_PER_NODE=1
SLURM_TASK_PID=7833
SLURM_TOPOLOGY_ADDR=vm
SLURM_TOPOLOGY_ADDR_PATTERN=node
SLURM_WORKING_CLUSTER=capturetest:vm:16817:9728:109
)";

// Task 2 of `sbatch --array=1-4%1`: its own job id 11, array id 9.
constexpr std::string_view kArrayTask = R"(SLURMD_NODENAME=vm
SLURM_ARRAY_JOB_ID=9
SLURM_ARRAY_TASK_COUNT=4
SLURM_ARRAY_TASK_ID=2
SLURM_ARRAY_TASK_MAX=4
SLURM_ARRAY_TASK_MIN=1
SLURM_ARRAY_TASK_STEP=1
SLURM_CLUSTER_NAME=capturetest
SLURM_JOBID=11
SLURM_JOB_ID=11
SLURM_JOB_NAME=arr
SLURM_JOB_NODELIST=vm
SLURM_JOB_PARTITION=debug
SLURM_NODELIST=vm
SLURM_SUBMIT_DIR=/tmp/capture-slurm/jobs
)";

// Task 4, the last one, which reuses the array's id as its job id.
constexpr std::string_view kLastArrayTask = R"(SLURM_ARRAY_JOB_ID=9
SLURM_ARRAY_TASK_ID=4
SLURM_JOB_ID=9
SLURM_JOB_NAME=arr
)";

// `srun -J "step test" env` outside a batch job: a step, no cluster name.
constexpr std::string_view kSrunStep = R"(SLURM_JOB_ID=18
SLURM_JOB_NAME=step test
SLURM_JOB_NODELIST=vm
SLURM_JOB_PARTITION=debug
SLURM_STEPID=0
SLURM_STEP_ID=0
SLURM_SUBMIT_DIR=/tmp/capture-slurm/jobs
)";

TEST(SlurmEnv, OutsideSlurmThereAreNoFacts) {
  EXPECT_FALSE(slurm_facts_from_env({}).has_value());
  EXPECT_FALSE(slurm_facts_from_env({{"HOME", "/root"}, {"SLURM_CONF", "/etc/slurm.conf"}}));
  EXPECT_FALSE(slurm_facts_from_env({{"SLURM_JOB_ID", ""}})) << "an empty id is no job";
}

TEST(SlurmEnv, BatchJobAfterRequeue) {
  auto facts = slurm_facts_from_env(environment_of(kRequeuedBatchJob));
  ASSERT_TRUE(facts.has_value());
  EXPECT_EQ(facts->job_id, "6");
  EXPECT_EQ(facts->restart_count, 1);
  EXPECT_EQ(facts->job_name, "rq");
  EXPECT_EQ(facts->cluster_name, "capturetest");
  EXPECT_EQ(facts->nodelist, "vm");
  EXPECT_EQ(facts->partition, "debug");
  EXPECT_EQ(facts->submit_dir, "/tmp/capture-slurm/jobs");
  EXPECT_FALSE(facts->array_job_id.has_value());
  EXPECT_FALSE(facts->array_task_id.has_value());
  EXPECT_FALSE(facts->step_id.has_value()) << "a batch script is no srun step";
  EXPECT_FALSE(facts->is_array_task());
  EXPECT_EQ(facts->display_job_id(), "6");
}

TEST(SlurmEnv, RestartCountIsZeroWhenAbsentOrGarbled) {
  Environment env = environment_of(kRequeuedBatchJob);
  env.erase("SLURM_RESTART_COUNT");
  EXPECT_EQ(slurm_facts_from_env(env)->restart_count, 0);
  for (const char* text : {"", "x", "-1", "2x", " 3", "99999999999999999999"}) {
    env["SLURM_RESTART_COUNT"] = text;
    EXPECT_EQ(slurm_facts_from_env(env)->restart_count, 0) << "SLURM_RESTART_COUNT=" << text;
  }
  env["SLURM_RESTART_COUNT"] = "12";
  EXPECT_EQ(slurm_facts_from_env(env)->restart_count, 12);
}

TEST(SlurmEnv, EpilogNamesTheRestartCountDifferently) {
  auto facts = slurm_facts_from_env({{"SLURM_JOB_ID", "6"},
                                     {"SLURM_JOB_RESTART_COUNT", "2"},
                                     {"SLURM_SCRIPT_CONTEXT", "epilog_slurmd"}});
  ASSERT_TRUE(facts.has_value());
  EXPECT_EQ(facts->restart_count, 2);
}

TEST(SlurmEnv, ArrayTaskShowsArrayIdAndTask) {
  auto facts = slurm_facts_from_env(environment_of(kArrayTask));
  ASSERT_TRUE(facts.has_value());
  EXPECT_EQ(facts->job_id, "11");
  EXPECT_EQ(facts->array_job_id, "9");
  EXPECT_EQ(facts->array_task_id, "2");
  EXPECT_TRUE(facts->is_array_task());
  EXPECT_EQ(facts->display_job_id(), "9_2");

  auto last = slurm_facts_from_env(environment_of(kLastArrayTask));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->job_id, "9");
  EXPECT_EQ(last->display_job_id(), "9_4");
}

TEST(SlurmEnv, SrunStepHasAStepIdAndNoCluster) {
  auto facts = slurm_facts_from_env(environment_of(kSrunStep));
  ASSERT_TRUE(facts.has_value());
  EXPECT_EQ(facts->step_id, "0");
  EXPECT_EQ(facts->job_name, "step test");
  EXPECT_FALSE(facts->cluster_name.has_value());
}

TEST(SlurmEnv, FallsBackToOlderNames) {
  auto facts = slurm_facts_from_env({{"SLURM_JOBID", "7"}, {"SLURM_NODELIST", "node[1-2]"}});
  ASSERT_TRUE(facts.has_value());
  EXPECT_EQ(facts->job_id, "7");
  EXPECT_EQ(facts->nodelist, "node[1-2]");
}

TEST(SlurmEnv, JsonHasThePresentFields) {
  auto array_task = slurm_facts_from_env(environment_of(kArrayTask));
  ASSERT_TRUE(array_task.has_value());
  nlohmann::json expected = {
      {"job_id", "11"},     {"array_job_id", "9"},  {"array_task_id", "2"},
      {"restart_count", 0}, {"job_name", "arr"},    {"cluster_name", "capturetest"},
      {"nodelist", "vm"},   {"partition", "debug"}, {"submit_dir", "/tmp/capture-slurm/jobs"},
  };
  EXPECT_EQ(array_task->to_json(), expected) << array_task->to_json().dump();

  auto bare = slurm_facts_from_env({{"SLURM_JOB_ID", "5"}});
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->to_json(), (nlohmann::json{{"job_id", "5"}, {"restart_count", 0}}))
      << bare->to_json().dump();
}

}  // namespace
}  // namespace sqltrack
