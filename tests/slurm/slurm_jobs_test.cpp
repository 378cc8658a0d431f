// Real sbatch jobs on the test cluster, each wrapped by sqltrack-run (or made
// by sqltrack submit): what the database says after each Slurm event.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

#include "slurm/slurm_support.hpp"

namespace sqltrack {
namespace {

using namespace std::chrono_literals;
using test::SlurmJobTest;

TEST_F(SlurmJobTest, ExitZeroIsCompletedExitThreeIsFailed) {
  auto ok = sbatch({"-J", "exits"}, "#!/bin/bash\nexec sqltrack-run -- true\n");
  auto bad = sbatch({"-J", "exits"}, "#!/bin/bash\nexec sqltrack-run -- sh -c 'exit 3'\n");
  const std::string sql = "SELECT status FROM runs WHERE slurm_job_id = $1";
  wait_for_value(sql, {test::job_number(ok)}, "COMPLETED");
  wait_for_value(sql, {test::job_number(bad)}, "FAILED");
  EXPECT_EQ(scalar("SELECT exit_code FROM runs WHERE slurm_job_id = $1", {test::job_number(bad)}),
            "3");
  EXPECT_EQ(scalar("SELECT e.name FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                   "WHERE slurm_job_id = $1",
                   {test::job_number(ok)}),
            "exits");
  EXPECT_EQ(
      scalar("SELECT slurm_partition FROM runs WHERE slurm_job_id = $1", {test::job_number(ok)}),
      "debug");
  // The wrapper exits with the command's status, so Slurm agrees.
  wait_for_job_state(bad, "FAILED");
}

TEST_F(SlurmJobTest, PlainExampleRunsAsWritten) {
  auto job = sbatch_file({}, std::string(SQLTRACK_SOURCE_DIR) + "/slurm/examples/plain.sh");
  ASSERT_FALSE(job.empty());
  wait_for_value("SELECT status FROM runs WHERE slurm_job_id = $1", {test::job_number(job)},
                 "COMPLETED");
  EXPECT_EQ(scalar("SELECT name FROM experiments"), "plain-example");
  EXPECT_NE(scalar("SELECT tags FROM runs").find("plain"), std::string::npos);
  EXPECT_NE(job_output("plain-" + job + ".out").find("job " + job + " on "), std::string::npos);
}

TEST_F(SlurmJobTest, ScancelIsCancelled) {
  auto job = sbatch({}, "#!/bin/bash\nexec sqltrack-run -- sleep 300\n");
  const std::string sql = "SELECT status FROM runs WHERE slurm_job_id = $1";
  ASSERT_TRUE(wait_for_value(sql, {test::job_number(job)}, "RUNNING"));
  ASSERT_EQ(slurm({"scancel", job}).exit_code, 0);
  wait_for_value(sql, {test::job_number(job)}, "CANCELLED", 20s);
  EXPECT_EQ(scalar("SELECT signal FROM runs WHERE slurm_job_id = $1", {test::job_number(job)}),
            "15");
}

TEST_F(SlurmJobTest, SlurmSyncReconcilesAKilledWrapper) {
  // The wrapper dies without a word (as with an OOM kill of the whole job);
  // the job goes on until it is cancelled.
  auto job = sbatch({}, R"(#!/bin/bash
sqltrack-run -- sleep 300 &
wrapper=$!
until sqltrack-run status --job "$SLURM_JOB_ID" | grep -q RUNNING; do sleep 0.2; done
kill -9 "$wrapper"
touch killed
sleep 300
)");
  ASSERT_TRUE(test::wait_until([&] { return std::filesystem::exists(job_dir() / "killed"); }, 60s));
  ASSERT_EQ(slurm({"scancel", job}).exit_code, 0);
  ASSERT_TRUE(wait_for_job_state(job, "CANCELLED"));
  EXPECT_EQ(scalar("SELECT status FROM runs WHERE slurm_job_id = $1", {test::job_number(job)}),
            "RUNNING");

  auto sync = sqltrack({"slurm-sync", "--job", job});
  EXPECT_EQ(sync.exit_code, 0) << sync.err;
  EXPECT_NE(sync.out.find("RUNNING -> CANCELLED: slurm-sync: Slurm says JobState=CANCELLED"),
            std::string::npos)
      << sync.out;
  EXPECT_EQ(scalar("SELECT status FROM runs WHERE slurm_job_id = $1", {test::job_number(job)}),
            "CANCELLED");
  // Idempotent: the run is terminal now and is not even looked at again.
  auto again = sqltrack({"slurm-sync"});
  EXPECT_NE(again.out.find("0 runs checked"), std::string::npos) << again.out;
}

TEST_F(SlurmJobTest, SlurmSyncLeavesARunningJobAndAJobSlurmForgot) {
  auto job = sbatch({}, "#!/bin/bash\nexec sqltrack-run -- sleep 300\n");
  ASSERT_TRUE(wait_for_value("SELECT status FROM runs WHERE slurm_job_id = $1",
                             {test::job_number(job)}, "RUNNING"));
  // A run of a job from long ago (ids restart with a new cluster state).
  const std::vector<db::Value> id{test::job_number(job)};
  conn_->query("UPDATE runs SET slurm_job_id = 999999 WHERE slurm_job_id = $1", id);
  auto forgotten = sqltrack({"slurm-sync"});
  EXPECT_NE(forgotten.out.find("Slurm no longer knows job 999999"), std::string::npos)
      << forgotten.out;
  conn_->query("UPDATE runs SET slurm_job_id = $1 WHERE slurm_job_id = 999999", id);
  auto running = sqltrack({"slurm-sync", "--job", job});
  EXPECT_EQ(running.exit_code, 0);
  EXPECT_NE(running.out.find("Slurm says JobState=RUNNING Reason=None ExitCode=0:0; left RUNNING"),
            std::string::npos)
      << running.out;
}

TEST_F(SlurmJobTest, RequeueResumesTheSameRunFromItsCheckpoint) {
  // The README's example as written, with short steps.
  auto job = sbatch_file({"--export=ALL,STEPS=8,STEP_SECONDS=1"},
                         std::string(SQLTRACK_SOURCE_DIR) + "/slurm/examples/requeue.sh");
  ASSERT_FALSE(job.empty());
  const std::vector<db::Value> id{test::job_number(job)};
  ASSERT_TRUE(wait_for_value("SELECT status FROM runs WHERE slurm_job_id = $1", id, "RUNNING"));
  auto checkpoint = job_dir() / ("checkpoint-" + job);
  ASSERT_TRUE(test::wait_until(
      [&] { return std::filesystem::exists(checkpoint) && test::read_file(checkpoint) >= "2"; },
      30s));
  std::string run_id = scalar("SELECT id FROM runs WHERE slurm_job_id = $1", id);

  ASSERT_EQ(slurm({"scontrol", "requeue", job}).exit_code, 0);
  // Held for cred_expire (~11 s on the test cluster), then started again.
  ASSERT_TRUE(wait_for_value(
      "SELECT status || ' ' || slurm_restart_count FROM runs WHERE slurm_job_id = $1", id,
      "RUNNING 1", 90s));
  wait_for_value("SELECT status FROM runs WHERE slurm_job_id = $1", id, "COMPLETED", 60s);
  EXPECT_EQ(scalar("SELECT count(*) FROM runs"), "1");
  EXPECT_EQ(scalar("SELECT id FROM runs WHERE slurm_job_id = $1", id), run_id);
  EXPECT_EQ(scalar("SELECT count(*) FROM run_status_history WHERE detail = 'requeued, restart 1'"),
            "1");
  // --open-mode=append: both starts in one file; the second resumed.
  auto output = job_output("resumable-" + job + ".out");
  EXPECT_NE(output.find("start 0 of job " + job + ": resuming at step 0"), std::string::npos)
      << output;
  EXPECT_NE(output.find("start 1 of job " + job + ": resuming at step "), std::string::npos);
  EXPECT_EQ(output.find("start 1 of job " + job + ": resuming at step 0"), std::string::npos);
  EXPECT_NE(output.find("done at step 8"), std::string::npos) << output;
  // Metrics of both starts are in the one run; a step written again after the requeue
  // overwrote its row.
  EXPECT_EQ(scalar("SELECT count(*) || ' ' || min(step) || ' ' || max(step) FROM metrics "
                   "WHERE run_id = $1",
                   {std::stoll(run_id)}),
            "8 1 8");
}

class SlurmArrayTest : public test::SlurmJobPostgresTest {};

TEST_F(SlurmArrayTest, ArrayOfFourIsFourRunsOfOneExperiment) {
  // The example, on PostgreSQL: tasks start at the same moment.
  auto job = sbatch_file({}, std::string(SQLTRACK_SOURCE_DIR) + "/slurm/examples/array.sh");
  ASSERT_FALSE(job.empty());
  wait_for_value("SELECT count(*) FROM runs WHERE status = 'COMPLETED'", {}, "4", 90s);
  EXPECT_EQ(scalar("SELECT count(DISTINCT experiment_id) FROM runs"), "1");
  EXPECT_EQ(scalar("SELECT name FROM experiments"), "sweep");
  EXPECT_EQ(
      scalar("SELECT count(*) FROM runs WHERE slurm_array_job_id = $1", {test::job_number(job)}),
      "4");
  EXPECT_EQ(scalar("SELECT string_agg(slurm_array_task_id::text, ',' ORDER BY "
                   "slurm_array_task_id) FROM runs"),
            "0,1,2,3");
  auto status = sqltrack_run({"status", "--job", job + "_3", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  ASSERT_EQ(std::count(status.out.begin(), status.out.end(), '\n'), 1) << status.out;
  auto run = nlohmann::json::parse(status.out);
  EXPECT_EQ(run["slurm_array_task_id"], 3);
  EXPECT_EQ(run["tags"]["lr"], "0.003");
  auto all = sqltrack_run({"status", "--job", job});
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 5) << all.out;  // header + 4
}

TEST_F(SlurmJobTest, SubmitIsPendingThenAttached) {
  test::write_file(job_dir() / "submitted.sh",
                   "#!/bin/bash\nexec sqltrack-run -- sh -c 'echo run $SQLTRACK_RUN_ID'\n");
  // --begin keeps it pending for a moment, long enough to see it.
  auto submit = sqltrack({"submit", "-e", "submitted", "--tag", "k=v", "--", "sbatch",
                          "--begin=now+2", "-o", (job_dir() / "%j.out").string(), "submitted.sh"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  // "run 1: Slurm job 42 (PENDING)"
  auto job_at = submit.out.find("Slurm job ") + 10;
  std::string job = submit.out.substr(job_at, submit.out.find(' ', job_at) - job_at);
  track_job(job);
  EXPECT_EQ(scalar("SELECT status FROM runs WHERE slurm_job_id = $1", {test::job_number(job)}),
            "PENDING");

  wait_for_value("SELECT status FROM runs WHERE slurm_job_id = $1", {test::job_number(job)},
                 "COMPLETED");
  EXPECT_EQ(scalar("SELECT count(*) FROM runs"), "1");
  std::string run_id = scalar("SELECT id FROM runs");
  EXPECT_NE(job_output(job + ".out").find("run " + run_id), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(scalar("SELECT tags FROM runs"))["k"], "v");
  const std::vector<db::Value> run{std::stoll(run_id)};
  EXPECT_EQ(
      scalar("SELECT detail FROM run_status_history WHERE run_id = $1 AND status = 'PENDING'", run),
      "submitted as Slurm job " + job);
  EXPECT_EQ(
      scalar("SELECT detail FROM run_status_history WHERE run_id = $1 AND status = 'RUNNING'", run),
      "attached to the run submitted as Slurm job " + job);
}

TEST_F(SlurmJobTest, SubmittedJobCancelledWhilePendingEndsCancelled) {
  test::write_file(job_dir() / "never.sh", "#!/bin/bash\nexec sqltrack-run -- true\n");
  auto submit = sqltrack({"submit", "--", "sbatch", "--begin=now+600", "never.sh"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  auto job_at = submit.out.find("Slurm job ") + 10;
  std::string job = submit.out.substr(job_at, submit.out.find(' ', job_at) - job_at);
  track_job(job);
  ASSERT_EQ(slurm({"scancel", job}).exit_code, 0);
  ASSERT_TRUE(wait_for_job_state(job, "CANCELLED"));
  auto sync = sqltrack({"slurm-sync", "--since", "1h"});
  EXPECT_EQ(sync.exit_code, 0) << sync.err;
  EXPECT_NE(sync.out.find("PENDING -> CANCELLED"), std::string::npos) << sync.out;
  EXPECT_EQ(scalar("SELECT status FROM runs"), "CANCELLED");
}

}  // namespace
}  // namespace sqltrack

namespace sqltrack {
namespace {

using namespace std::chrono_literals;

class SlurmQueueTest : public test::SlurmJobPostgresTest {};

TEST_F(SlurmQueueTest, ArrayTasksDrainTheQueueEachRunOnce) {
  std::string grid;
  for (int i = 0; i < 40; ++i) grid += "echo \"$SQLTRACK_RUN_ID\" >> ids\n";
  test::write_file(job_dir() / "grid.txt", grid);
  auto enqueued = sqltrack({"enqueue", "-e", "sweep", "--from-file", "grid.txt"});
  ASSERT_EQ(enqueued.exit_code, 0) << enqueued.err;
  auto job = sbatch({"--array=0-3"},
                    "#!/bin/bash\nexec sqltrack-run --next -e sweep --loop --no-metrics "
                    "--sample 0\n");
  ASSERT_TRUE(
      wait_for_value("SELECT count(*) FROM runs WHERE status = 'COMPLETED'", {}, "40", 120s))
      << "completed: " << scalar("SELECT count(*) FROM runs WHERE status = 'COMPLETED'");
  std::istringstream lines(test::read_file(job_dir() / "ids"));
  std::set<std::string> runs;
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    runs.insert(line.substr(0, line.find(' ')));
  }
  EXPECT_EQ(count, 40u) << "runs executed, each time counted";
  EXPECT_EQ(runs.size(), 40u) << "distinct runs executed";
  // Every run carries the Slurm ids of the array task that ran it.
  EXPECT_EQ(scalar("SELECT count(*) FROM runs WHERE slurm_array_job_id = $1 AND "
                   "queue_attempts = 1",
                   {test::job_number(job)}),
            "40");
}

}  // namespace
}  // namespace sqltrack
