// RunStore and Slurm: a requeued job resumes its run, a submitted job's wrapper
// attaches to its PENDING run, the reconciler writes once. Both engines.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sqltrack/schema/schema.hpp"
#include "sqltrack/store/store.hpp"
#include "sqltrack/util/error.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

class SlurmStoreTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  void SetUp() override {
    conn_ = db_.connect();
    ensure_schema(*conn_);
    store_ = std::make_unique<RunStore>(*conn_);
  }

  // A wrapper's start inside Slurm job `job_id` (restart count as Slurm sets it).
  static RunStart job_start(std::int64_t job_id, int restart_count,
                            std::optional<std::int64_t> array_job_id = {},
                            std::optional<std::int64_t> array_task_id = {}) {
    RunStart start;
    start.experiment = "slurm-store";
    start.slurm_job_id = job_id;
    start.slurm_array_job_id = array_job_id;
    start.slurm_array_task_id = array_task_id;
    start.slurm_restart_count = restart_count;
    start.slurm_cluster = "cluster-a";
    return start;
  }

  std::string column(std::int64_t run_id, const std::string& name) {
    const std::array<db::Value, 1> params{run_id};
    auto result = conn_->query("SELECT " + name + " FROM runs WHERE id = $1", params);
    if (result.empty()) return "<no run>";
    return result.rows[0][0].value_or("<NULL>");
  }

  std::vector<std::string> history(std::int64_t run_id) {
    const std::array<db::Value, 1> params{run_id};
    auto result = conn_->query(
        "SELECT status, detail FROM run_status_history WHERE run_id = $1 ORDER BY id", params);
    std::vector<std::string> rows;
    for (const auto& row : result.rows) {
      rows.push_back(row[0].value_or("") + " " + row[1].value_or(""));
    }
    return rows;
  }

  std::int64_t run_count() {
    return std::stoll(conn_->query("SELECT count(*) FROM runs").scalar().value_or("0"));
  }

  test::EngineDatabase db_{GetParam()};
  std::unique_ptr<db::Database> conn_;
  std::unique_ptr<RunStore> store_;
};

// Slurm's verdict (CANCELLED, TIMEOUT...) is written when the signal comes; the wrapper's
// end afterwards keeps it and adds only the end facts. A run not ended yet gets both, and
// one history row. Inside and outside Slurm (outside, PostgreSQL starts in one statement).
TEST_P(SlurmStoreTest, EndAfterSlurmsVerdictKeepsItAndWritesTheFacts) {
  for (bool in_slurm : {true, false}) {
    RunStart start = job_start(300, 0);
    if (!in_slurm) start = RunStart{};
    start.experiment = "slurm-store";
    auto run = store_->start_run(start);
    ASSERT_TRUE(store_->set_status(run.run_id, RunStatus::TIMEOUT, "time limit"));
    RunEnd end;
    end.signal = 15;
    end.wall_seconds = 2.5;
    EXPECT_FALSE(store_->finish_run(run.run_id, RunStatus::CANCELLED, "SIGTERM", end));
    EXPECT_EQ(column(run.run_id, "status"), "TIMEOUT");
    EXPECT_EQ(column(run.run_id, "signal"), "15");
    EXPECT_EQ(column(run.run_id, "wall_seconds"), "2.5");
    EXPECT_NE(column(run.run_id, "time_ended"), "<NULL>");
    EXPECT_EQ(history(run.run_id),
              (std::vector<std::string>{"RUNNING started", "TIMEOUT time limit"}));

    auto other = store_->start_run(in_slurm ? job_start(301, 0) : start);
    RunEnd done;
    done.exit_code = 0;
    EXPECT_TRUE(store_->finish_run(other.run_id, RunStatus::COMPLETED, "exit 0", done));
    EXPECT_EQ(column(other.run_id, "status"), "COMPLETED");
    EXPECT_EQ(column(other.run_id, "exit_code"), "0");
    EXPECT_EQ(history(other.run_id),
              (std::vector<std::string>{"RUNNING started", "COMPLETED exit 0"}));
  }
}

TEST_P(SlurmStoreTest, RequeueReopensTheSameRunEvenAfterATerminalStatus) {
  auto first = store_->start_run(job_start(100, 0));
  RunEnd end;
  end.signal = 15;
  // What a wrapper writes when it cannot tell a requeue from a cancel.
  ASSERT_TRUE(store_->finish_run(first.run_id, RunStatus::CANCELLED, "SIGTERM", end));

  auto again = store_->start_run(job_start(100, 1));
  EXPECT_EQ(again.run_id, first.run_id);
  EXPECT_EQ(again.experiment_id, first.experiment_id);
  EXPECT_EQ(column(first.run_id, "status"), "RUNNING");
  EXPECT_EQ(column(first.run_id, "slurm_restart_count"), "1");
  EXPECT_EQ(column(first.run_id, "time_ended"), "<NULL>");
  EXPECT_EQ(column(first.run_id, "signal"), "<NULL>");
  EXPECT_EQ(history(first.run_id).back(), "RUNNING requeued, restart 1");
  EXPECT_EQ(run_count(), 1);

  RunEnd done;
  done.exit_code = 0;
  EXPECT_TRUE(store_->finish_run(first.run_id, RunStatus::COMPLETED, "exit 0", done));
  EXPECT_EQ(column(first.run_id, "status"), "COMPLETED");
}

TEST_P(SlurmStoreTest, RequeuedStatusGoesBackToRunningAtEachRestart) {
  auto first = store_->start_run(job_start(101, 0));
  ASSERT_TRUE(store_->set_status(first.run_id, RunStatus::REQUEUED, "requeued"));
  EXPECT_EQ(store_->start_run(job_start(101, 1)).run_id, first.run_id);
  ASSERT_TRUE(store_->set_status(first.run_id, RunStatus::REQUEUED, "requeued again"));
  EXPECT_EQ(store_->start_run(job_start(101, 2)).run_id, first.run_id);
  EXPECT_EQ(column(first.run_id, "slurm_restart_count"), "2");
  EXPECT_EQ(run_count(), 1);
}

TEST_P(SlurmStoreTest, OnlyAHigherRestartCountReopens) {
  auto first = store_->start_run(job_start(102, 1));
  ASSERT_TRUE(store_->set_status(first.run_id, RunStatus::PREEMPTED, "preempted"));
  // Another wrapper of the same attempt (a second srun task): a run of its own.
  auto same_attempt = store_->start_run(job_start(102, 1));
  EXPECT_NE(same_attempt.run_id, first.run_id);
  EXPECT_EQ(column(first.run_id, "status"), "PREEMPTED");
}

TEST_P(SlurmStoreTest, RequeueTakesTheNewestRunOfTheJob) {
  auto older = store_->start_run(job_start(103, 0));
  auto newer = store_->start_run(job_start(103, 0));
  ASSERT_NE(older.run_id, newer.run_id);
  EXPECT_EQ(store_->start_run(job_start(103, 1)).run_id, newer.run_id);
  EXPECT_EQ(column(older.run_id, "status"), "RUNNING");
  EXPECT_EQ(column(older.run_id, "slurm_restart_count"), "0");
}

TEST_P(SlurmStoreTest, RequeueMatchesArrayTaskAndCluster) {
  auto task2 = store_->start_run(job_start(202, 0, 200, 2));
  auto task3 = store_->start_run(job_start(203, 0, 200, 3));
  // Job ids are reused after a cluster's state is wiped: another cluster's run stays.
  auto elsewhere = job_start(203, 1, 200, 3);
  elsewhere.slurm_cluster = "cluster-b";
  auto other = store_->start_run(elsewhere);
  EXPECT_NE(other.run_id, task3.run_id);

  auto again = store_->start_run(job_start(203, 1, 200, 3));
  EXPECT_EQ(again.run_id, task3.run_id);
  EXPECT_EQ(column(task2.run_id, "slurm_restart_count"), "0");
  EXPECT_EQ(run_count(), 3);
}

TEST_P(SlurmStoreTest, RequeueWithoutAnEarlierRunCreatesOne) {
  auto ids = store_->start_run(job_start(104, 2));
  EXPECT_EQ(column(ids.run_id, "status"), "RUNNING");
  EXPECT_EQ(column(ids.run_id, "slurm_restart_count"), "2");
  EXPECT_EQ(history(ids.run_id).back(), "RUNNING started");
}

TEST_P(SlurmStoreTest, RunIdOfAnEarlierAttemptReopensOthersStayWriteOnce) {
  auto first = store_->start_run(job_start(105, 0));
  ASSERT_TRUE(store_->set_status(first.run_id, RunStatus::CANCELLED, "scancel"));
  auto other_job = job_start(106, 1);
  other_job.existing_run_id = first.run_id;
  EXPECT_THROW(store_->start_run(other_job), Error);
  auto same_attempt = job_start(105, 0);
  same_attempt.existing_run_id = first.run_id;
  EXPECT_THROW(store_->start_run(same_attempt), Error);

  auto requeued = job_start(105, 1);
  requeued.existing_run_id = first.run_id;
  EXPECT_EQ(store_->start_run(requeued).run_id, first.run_id);
  EXPECT_EQ(column(first.run_id, "status"), "RUNNING");
  EXPECT_EQ(history(first.run_id).back(), "RUNNING requeued, restart 1");
}

TEST_P(SlurmStoreTest, SubmittedJobAttachesToItsPendingRun) {
  RunSubmission submission;
  submission.experiment = "submitted";
  submission.comment = "from submit";
  submission.tags = {{"lr", "0.1"}, {"opt", "sgd"}};
  const std::vector<SlurmJobRef> jobs{{400, {}}};
  auto run_ids = store_->create_submitted_runs(submission, jobs);
  ASSERT_EQ(run_ids.size(), 1u);
  EXPECT_EQ(column(run_ids[0], "status"), "PENDING");
  EXPECT_EQ(column(run_ids[0], "slurm_job_id"), "400");
  EXPECT_EQ(column(run_ids[0], "time_started"), "<NULL>");
  EXPECT_EQ(history(run_ids[0]).back(), "PENDING submitted as Slurm job 400");

  auto start = job_start(400, 0);
  start.experiment = "wrapper-default-name";
  start.tags = {{"opt", "adam"}};
  auto ids = store_->start_run(start);
  EXPECT_EQ(ids.run_id, run_ids[0]);
  EXPECT_EQ(column(ids.run_id, "status"), "RUNNING");
  EXPECT_EQ(column(ids.run_id, "comment"), "from submit");
  EXPECT_EQ(nlohmann::json::parse(column(ids.run_id, "tags")),
            (nlohmann::json{{"lr", "0.1"}, {"opt", "adam"}}));
  EXPECT_EQ(
      conn_->query("SELECT name FROM experiments e JOIN runs r ON r.experiment_id = e.id").scalar(),
      "submitted");
  EXPECT_EQ(history(ids.run_id).back(), "RUNNING attached to the run submitted as Slurm job 400");

  // A second wrapper of the same job finds no PENDING run left.
  EXPECT_NE(store_->start_run(job_start(400, 0)).run_id, run_ids[0]);
}

TEST_P(SlurmStoreTest, SubmittedArrayTasksAttachByTaskId) {
  RunSubmission submission;
  submission.experiment = "array";
  const std::vector<SlurmJobRef> jobs{{500, 0}, {500, 1}, {500, 2}, {500, 3}};
  auto run_ids = store_->create_submitted_runs(submission, jobs);
  ASSERT_EQ(run_ids.size(), 4u);
  EXPECT_EQ(column(run_ids[2], "slurm_job_id"), "<NULL>");
  EXPECT_EQ(column(run_ids[2], "slurm_array_job_id"), "500");
  EXPECT_EQ(column(run_ids[2], "slurm_array_task_id"), "2");

  // Task 2 runs as job 503; the last task to be split off keeps the array's id.
  auto task2 = store_->start_run(job_start(503, 0, 500, 2));
  EXPECT_EQ(task2.run_id, run_ids[2]);
  EXPECT_EQ(column(run_ids[2], "slurm_job_id"), "503");
  auto task3 = store_->start_run(job_start(500, 0, 500, 3));
  EXPECT_EQ(task3.run_id, run_ids[3]);
  EXPECT_EQ(column(run_ids[0], "status"), "PENDING");
  EXPECT_EQ(run_count(), 4);
}

TEST_P(SlurmStoreTest, ReconcileWritesOnceAndFillsOnlyMissingFacts) {
  auto ids = store_->start_run(job_start(600, 0));
  EXPECT_TRUE(store_->reconcile_status(ids.run_id, RunStatus::RUNNING, RunStatus::CANCELLED,
                                       "slurm-sync: CANCELLED", std::nullopt, 9));
  // A second reconciler (cron and epilog at once) read RUNNING too: nothing written.
  EXPECT_FALSE(store_->reconcile_status(ids.run_id, RunStatus::RUNNING, RunStatus::FAILED,
                                        "slurm-sync: FAILED", 1, std::nullopt));
  EXPECT_EQ(column(ids.run_id, "status"), "CANCELLED");
  EXPECT_EQ(column(ids.run_id, "signal"), "9");
  EXPECT_EQ(column(ids.run_id, "exit_code"), "<NULL>");
  EXPECT_NE(column(ids.run_id, "time_ended"), "<NULL>");
  EXPECT_EQ(history(ids.run_id).size(), 2u);

  // The wrapper's own facts stay; REQUEUED is not terminal, so no time_ended.
  auto other = store_->start_run(job_start(601, 0));
  RunEnd end;
  end.exit_code = 3;
  ASSERT_TRUE(store_->finish_run(other.run_id, RunStatus::REQUEUED, "requeue", end));
  EXPECT_TRUE(store_->reconcile_status(other.run_id, RunStatus::REQUEUED, RunStatus::FAILED,
                                       "slurm-sync", std::nullopt, 9));
  EXPECT_EQ(column(other.run_id, "exit_code"), "3");
  EXPECT_EQ(column(other.run_id, "signal"), "<NULL>");
}

INSTANTIATE_TEST_SUITE_P(Engines, SlurmStoreTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

}  // namespace
}  // namespace sqltrack
