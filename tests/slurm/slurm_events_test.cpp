// The Slurm events that end a wrapped run from outside: time limit (with a
// --signal warning before it), preemption and the memory limit, each in a real
// job whose script is `sqltrack-run -- CMD`.
#include <gtest/gtest.h>

#include "slurm/slurm_support.hpp"

namespace sqltrack {
namespace {

using namespace std::chrono_literals;
using test::SlurmJobTest;

TEST_F(SlurmJobTest, WarningSignalThenTimeLimitIsTimeout) {
  // --signal=B:USR1@40: Slurm warns the batch shell (the wrapper) about 20 s in; the command
  // notes it and goes on until the one-minute limit ends the job.
  auto job = sbatch({"--time=1", "--signal=B:USR1@40"}, R"(#!/bin/bash
exec sqltrack-run -e limits -- bash -c 'trap "touch warned" USR1; while true; do sleep 0.2; done'
)");
  const std::vector<db::Value> id{test::job_number(job)};
  ASSERT_TRUE(wait_for_value("SELECT status FROM runs WHERE slurm_job_id = $1", id, "RUNNING"));
  ASSERT_TRUE(test::wait_until([&] { return std::filesystem::exists(job_dir() / "warned"); }, 90s))
      << "the command never got SIGUSR1; job output: " << job_output(job + ".out");
  EXPECT_EQ(scalar("SELECT status FROM runs WHERE slurm_job_id = $1", id), "RUNNING");
  // The wrapper forwards the signal first and records it on its writer thread: the row may
  // come a moment after the command has seen the signal.
  EXPECT_TRUE(
      wait_for_value("SELECT count(*) FROM run_status_history h JOIN runs r ON "
                     "r.id = h.run_id WHERE r.slurm_job_id = $1 AND h.detail LIKE "
                     "'SIGUSR1 received%'",
                     id, "1", 10s))
      << "no history row for the warning signal";
  ASSERT_TRUE(
      wait_for_value("SELECT status FROM runs WHERE slurm_job_id = $1", id, "TIMEOUT", 150s))
      << "now " << scalar("SELECT status FROM runs WHERE slurm_job_id = $1", id);
  EXPECT_NE(scalar("SELECT detail FROM run_status_history h JOIN runs r ON r.id = h.run_id "
                   "WHERE r.slurm_job_id = $1 AND h.status = 'TIMEOUT'",
                   id)
                .find("TimeLimit"),
            std::string::npos);
}

TEST_F(SlurmJobTest, PreemptionOfAWrappedRunIsPreempted) {
  auto job = sbatch({"-p", "low"}, "#!/bin/bash\nexec sqltrack-run -e preempt -- sleep 300\n");
  const std::vector<db::Value> id{test::job_number(job)};
  ASSERT_TRUE(wait_for_value("SELECT status FROM runs WHERE slurm_job_id = $1", id, "RUNNING"));
  // A job of the higher-priority partition that needs the whole node.
  sbatch({"-p", "high", "--exclusive"}, "#!/bin/bash\nsleep 1\n");
  EXPECT_TRUE(
      wait_for_value("SELECT status FROM runs WHERE slurm_job_id = $1", id, "PREEMPTED", 60s))
      << "now " << scalar("SELECT status FROM runs WHERE slurm_job_id = $1", id);
}

TEST_F(SlurmJobTest, PreemptionInRequeueModeRequeuesTheSameRun) {
  // The default partition preempts by requeueing: the run says so, then runs again.
  auto job = sbatch({"--requeue"}, "#!/bin/bash\nexec sqltrack-run -e preempt -- sleep 300\n");
  const std::vector<db::Value> id{test::job_number(job)};
  const std::string sql =
      "SELECT status || ' ' || coalesce(slurm_restart_count, 0) FROM runs WHERE slurm_job_id = $1";
  ASSERT_TRUE(wait_for_value(sql, id, "RUNNING 0"));
  sbatch({"-p", "high", "--exclusive"}, "#!/bin/bash\nsleep 1\n");
  bool stopped = test::wait_until(
      [&] {
        std::string now = scalar(sql, id);
        return now == "REQUEUED 0" || now == "PREEMPTED 0";
      },
      30s);
  EXPECT_TRUE(stopped) << "now " << scalar(sql, id);
  EXPECT_TRUE(wait_for_value(sql, id, "RUNNING 1", 90s));
  EXPECT_EQ(scalar("SELECT count(*) FROM runs"), "1");
}

TEST_F(SlurmJobTest, MemoryLimitEndsTheRunWithItsReason) {
  // Slurm kills the whole job, wrapper included; the epilog's slurm-sync (or this test's)
  // writes what Slurm says: OUT_OF_MEMORY, or FAILED with the reason in the history.
  auto job = sbatch({"--mem=60M"}, R"(#!/bin/bash
exec sqltrack-run -e memory -- python3 -c '
import time
hog = []
while True:
    hog.append(bytearray(16 * 1024 * 1024))
    time.sleep(0.05)
'
)");
  const std::vector<db::Value> id{test::job_number(job)};
  const std::string sql = "SELECT status FROM runs WHERE slurm_job_id = $1";
  bool ended = test::wait_until(
      [&] {
        std::string status = scalar(sql, id);
        if (status == "OUT_OF_MEMORY" || status == "FAILED") return true;
        // In case the epilog's sync ran before Slurm had the final state.
        sqltrack({"slurm-sync", "--job", job});
        return false;
      },
      90s);
  ASSERT_TRUE(ended) << "now " << scalar(sql, id) << "; job output: " << job_output(job + ".out");
  if (scalar(sql, id) == "FAILED") {
    EXPECT_NE(scalar("SELECT count(*) FROM run_status_history h JOIN runs r ON r.id = h.run_id "
                     "WHERE r.slurm_job_id = $1 AND h.status = 'FAILED' AND h.detail <> ''",
                     id),
              "0");
  }
}

}  // namespace
}  // namespace sqltrack
