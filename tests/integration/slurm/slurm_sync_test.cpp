// slurm-sync against real databases, with Slurm's answers given by the test.
#include <gtest/gtest.h>

#include "sqltrack/schema/schema.hpp"
#include "sqltrack/slurm/slurm_sync.hpp"
#include "sqltrack/store/store.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/timestamp.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using namespace std::chrono_literals;

SlurmLookup found(const std::string& state, const std::string& exit_code = "0:0") {
  SlurmLookup lookup;
  lookup.kind = SlurmLookup::Kind::found;
  lookup.source = "scontrol";
  lookup.state.state = state;
  lookup.state.reason = "None";
  lookup.state.exit_code = exit_code;
  return lookup;
}

class SlurmSyncDbTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  void SetUp() override {
    conn_ = db_.connect();
    ensure_schema(*conn_);
    store_ = std::make_unique<RunStore>(*conn_);
  }

  std::int64_t running_run(std::int64_t job_id) {
    RunStart start;
    start.experiment = "sync";
    start.slurm_job_id = job_id;
    return store_->start_run(start).run_id;
  }

  std::string status(std::int64_t run_id) {
    const std::array<db::Value, 1> params{run_id};
    return conn_->query("SELECT status FROM runs WHERE id = $1", params).scalar().value_or("");
  }

  std::int64_t history_rows() {
    return std::stoll(
        conn_->query("SELECT count(*) FROM run_status_history").scalar().value_or("0"));
  }

  // A lookup that answers from `answers` and records what it was asked.
  SlurmJobLookup lookup_from(std::map<std::string, SlurmLookup> answers) {
    return [this, answers](const std::vector<std::string>& labels) {
      std::map<std::string, SlurmLookup> result;
      for (const auto& label : labels) {
        asked_.push_back(label);
        auto it = answers.find(label);
        if (it != answers.end()) {
          result[label] = it->second;
        } else {
          result[label].kind = SlurmLookup::Kind::unknown;
          result[label].message = "scontrol has no record of it";
        }
      }
      return result;
    };
  }

  test::EngineDatabase db_{GetParam()};
  std::unique_ptr<db::Database> conn_;
  std::unique_ptr<RunStore> store_;
  std::vector<std::string> asked_;
};

TEST_P(SlurmSyncDbTest, WritesFinalStatesLeavesTheRestAndIsIdempotent) {
  auto killed = running_run(10);
  auto still_running = running_run(11);
  auto forgotten = running_run(12);
  auto completed = running_run(13);
  ASSERT_TRUE(store_->set_status(completed, RunStatus::COMPLETED, "exit 0"));
  RunStart outside;
  outside.experiment = "sync";
  auto no_job = store_->start_run(outside).run_id;
  RunSubmission submission;
  submission.experiment = "sync";
  const std::vector<SlurmJobRef> tasks{{20, 0}, {20, 1}};
  auto pending = store_->create_submitted_runs(submission, tasks);

  auto lookup = lookup_from({{"10", found("CANCELLED", "0:9")},
                             {"11", found("RUNNING")},
                             {"20_0", found("PENDING")},
                             {"20_1", found("CANCELLED")}});
  auto synced = slurm_sync(*conn_, {}, lookup);
  EXPECT_EQ(asked_, (std::vector<std::string>{"10", "11", "12", "20_0", "20_1"}));
  ASSERT_EQ(synced.size(), 5u);
  EXPECT_EQ(synced[0].action, SyncedRun::Action::written);
  EXPECT_EQ(synced[0].after, RunStatus::CANCELLED);
  EXPECT_EQ(synced[1].action, SyncedRun::Action::left);
  EXPECT_EQ(synced[2].action, SyncedRun::Action::unknown);
  EXPECT_NE(synced[2].detail.find("Slurm no longer knows job 12"), std::string::npos);
  EXPECT_EQ(synced[3].action, SyncedRun::Action::left);
  EXPECT_EQ(synced[4].action, SyncedRun::Action::written);

  EXPECT_EQ(status(killed), "CANCELLED");
  EXPECT_EQ(status(still_running), "RUNNING");
  EXPECT_EQ(status(forgotten), "RUNNING");
  EXPECT_EQ(status(completed), "COMPLETED");
  EXPECT_EQ(status(no_job), "RUNNING");
  EXPECT_EQ(status(pending[0]), "PENDING");
  EXPECT_EQ(status(pending[1]), "CANCELLED");
  const std::array<db::Value, 1> killed_id{killed};
  EXPECT_EQ(conn_->query("SELECT signal FROM runs WHERE id = $1", killed_id).scalar(), "9");

  // Again (cron after the epilog): nothing more is written.
  auto rows = history_rows();
  auto again = slurm_sync(*conn_, {}, lookup);
  EXPECT_EQ(again.size(), 3u);
  for (const auto& run : again) EXPECT_NE(run.action, SyncedRun::Action::written);
  EXPECT_EQ(history_rows(), rows);
}

TEST_P(SlurmSyncDbTest, JobAndSinceFilters) {
  auto first = running_run(30);
  auto second = running_run(31);
  auto array_run = store_
                       ->start_run([] {
                         RunStart start;
                         start.experiment = "sync";
                         start.slurm_job_id = 41;
                         start.slurm_array_job_id = 40;
                         start.slurm_array_task_id = 1;
                         return start;
                       }())
                       .run_id;
  auto lookup = lookup_from({});

  SlurmSyncOptions only_job;
  only_job.job = "31";
  ASSERT_EQ(slurm_sync(*conn_, only_job, lookup).size(), 1u);
  EXPECT_EQ(asked_.back(), "31");
  only_job.job = "40";  // the array's id: every task
  auto tasks = slurm_sync(*conn_, only_job, lookup);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].run_id, array_run);
  EXPECT_EQ(tasks[0].job, "40_1");
  only_job.job = "x1";
  EXPECT_THROW(slurm_sync(*conn_, only_job, lookup), UsageError);

  const std::array<db::Value, 2> params{format_timestamp(Clock::now() - 3h), first};
  conn_->query("UPDATE runs SET time_updated = $1 WHERE id = $2", params);
  SlurmSyncOptions recent;
  recent.since = 1h;
  auto synced = slurm_sync(*conn_, recent, lookup);
  ASSERT_EQ(synced.size(), 2u);
  EXPECT_EQ(synced[0].run_id, second);
}

TEST_P(SlurmSyncDbTest, WaitsWhileSlurmSaysCompleting) {
  auto run = running_run(50);
  int calls = 0;
  SlurmJobLookup lookup = [&](const std::vector<std::string>& labels) {
    std::map<std::string, SlurmLookup> result;
    for (const auto& label : labels) result[label] = found(++calls < 3 ? "COMPLETING" : "TIMEOUT");
    return result;
  };
  SlurmSyncOptions options;
  EXPECT_EQ(slurm_sync(*conn_, options, lookup)[0].action, SyncedRun::Action::left);
  options.wait = 10s;
  auto synced = slurm_sync(*conn_, options, lookup);
  EXPECT_EQ(synced[0].action, SyncedRun::Action::written);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(status(run), "TIMEOUT");
}

INSTANTIATE_TEST_SUITE_P(Engines, SlurmSyncDbTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

}  // namespace
}  // namespace sqltrack
