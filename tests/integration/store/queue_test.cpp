// The run queue end to end: `sqltrack enqueue`, workers running `sqltrack-run --next`, and
// `sqltrack requeue-stale` for a worker that died, on both engines.
#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::BackgroundProcess;
using test::CommandResult;
using test::EngineDatabase;

class QueueTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  test::CommandOptions in_db_dir() const {
    test::CommandOptions options;
    options.cwd = db_.cwd();
    return options;
  }

  CommandResult sqltrack(std::vector<std::string> args) const {
    std::vector<std::string> argv{SQLTRACK_BIN};
    auto connection = db_.cli_flags();
    argv.insert(argv.end(), connection.begin(), connection.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_command(argv, in_db_dir());
  }

  std::vector<std::string> worker(std::vector<std::string> flags) const {
    std::vector<std::string> argv{SQLTRACK_RUN_BIN};
    auto connection = db_.cli_flags();
    argv.insert(argv.end(), connection.begin(), connection.end());
    argv.insert(argv.end(), flags.begin(), flags.end());
    return argv;
  }

  std::string scalar(const std::string& sql) const {
    return db_.connect()->query(sql, {}).scalar().value_or("<NULL>");
  }

  EngineDatabase db_{GetParam()};
};

TEST_P(QueueTest, EnqueueStoresPendingRunsWithTheirCommands) {
  test::write_file(db_.cwd() / "grid.txt",
                   "# lr sweep\npython train.py --lr 0.1\n\n  python train.py --lr 0.01\n");
  CommandResult one =
      sqltrack({"enqueue", "-e", "sweep", "--tag", "team=vision", "--", "echo", "a b"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("enqueued 1 run in experiment 'sweep'"), std::string::npos) << one.out;
  CommandResult file = sqltrack({"enqueue", "-e", "sweep", "--from-file", "grid.txt"});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_NE(file.out.find("enqueued 2 runs"), std::string::npos) << file.out;
  EXPECT_EQ(scalar("SELECT count(*) FROM runs WHERE status = 'PENDING' AND queue_attempts = 0"),
            "3");
  auto conn = db_.connect();
  auto rows = conn->query("SELECT args, tags FROM runs ORDER BY id", {});
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(*rows.rows[0][0]), nlohmann::json({"echo", "a b"}));
  EXPECT_EQ(nlohmann::json::parse(*rows.rows[0][1]), nlohmann::json({{"team", "vision"}}));
  EXPECT_EQ(nlohmann::json::parse(*rows.rows[2][0]),
            nlohmann::json({"/bin/sh", "-c", "  python train.py --lr 0.01"}));
  EXPECT_EQ(scalar("SELECT count(*) FROM run_status_history WHERE detail = 'enqueued'"), "3");

  CommandResult nothing = sqltrack({"enqueue", "-e", "sweep"});
  EXPECT_EQ(nothing.exit_code, 2) << nothing.err;
  CommandResult missing = sqltrack({"enqueue", "-e", "sweep", "--from-file", "nope.txt"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("cannot read queue file 'nope.txt'"), std::string::npos)
      << missing.err;
}

TEST_P(QueueTest, EmptyQueueIsNotAnError) {
  CommandResult next = test::run_command(worker({"--next", "-e", "nothing"}), in_db_dir());
  EXPECT_EQ(next.exit_code, 0) << next.err;
  EXPECT_NE(next.out.find("the queue of experiment 'nothing' is empty"), std::string::npos)
      << next.out;
  CommandResult both = test::run_command(worker({"--next", "-e", "x", "--", "true"}), in_db_dir());
  EXPECT_EQ(both.exit_code, 2) << both.err;
  CommandResult loop = test::run_command(worker({"--loop", "--", "true"}), in_db_dir());
  EXPECT_EQ(loop.exit_code, 2) << loop.err;
}

TEST_P(QueueTest, EveryQueuedRunIsExecutedExactlyOnce) {
  // PostgreSQL: 50 workers for 500 runs; SQLite, one machine's database: 8 workers.
  const int workers = GetParam() == db::Engine::postgres ? 50 : 8;
  constexpr int kRuns = 500;
  std::string grid;
  for (int i = 0; i < kRuns; ++i) grid += "echo \"$SQLTRACK_RUN_ID\" >> ids\n";
  test::write_file(db_.cwd() / "grid.txt", grid);
  ASSERT_EQ(sqltrack({"enqueue", "-e", "sweep", "--from-file", "grid.txt"}).exit_code, 0);

  std::vector<std::unique_ptr<BackgroundProcess>> running;
  for (int w = 0; w < workers; ++w) {
    running.push_back(std::make_unique<BackgroundProcess>(
        worker({"--next", "--loop", "-e", "sweep", "--no-metrics", "--sample", "0"}), in_db_dir()));
  }
  for (auto& process : running) {
    EXPECT_EQ(process->wait(std::chrono::seconds(600)), 0) << process->err();
  }
  std::istringstream lines(test::read_file(db_.cwd() / "ids"));
  std::multiset<std::string> executed;
  for (std::string line; std::getline(lines, line);) executed.insert(line);
  std::set<std::string> unique(executed.begin(), executed.end());
  EXPECT_EQ(executed.size(), static_cast<std::size_t>(kRuns)) << "runs executed, twice counted";
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kRuns)) << "distinct runs executed";
  std::set<std::string> queued;
  for (const auto& row : db_.connect()->query("SELECT id FROM runs", {}).rows) {
    queued.insert(*row[0]);
  }
  EXPECT_EQ(unique, queued) << "the executed runs are not the queued ones";
  EXPECT_EQ(scalar("SELECT count(*) FROM runs WHERE status = 'COMPLETED' AND queue_attempts = 1"),
            std::to_string(kRuns));
}

TEST_P(QueueTest, RunOfAKilledWorkerGoesBackToTheQueueOnce) {
  // The first attempt hangs (its worker is SIGKILLed); the second finds the marker and ends.
  ASSERT_EQ(sqltrack({"enqueue", "-e", "flaky", "--", "/bin/sh", "-c",
                      "if [ -e first ]; then echo second; else touch first; exec sleep 60; fi"})
                .exit_code,
            0);
  ASSERT_EQ(sqltrack({"enqueue", "-e", "doomed", "--", "sleep", "60"}).exit_code, 0);

  BackgroundProcess first(worker({"--next", "-e", "flaky", "--heartbeat", "0.5"}), in_db_dir());
  ASSERT_TRUE(test::wait_until([&] { return std::filesystem::exists(db_.cwd() / "first"); }));
  first.signal(SIGKILL);
  first.wait();
  BackgroundProcess doomed(worker({"--next", "-e", "doomed", "--heartbeat", "0.5"}), in_db_dir());
  ASSERT_TRUE(test::wait_until([&] {
    return scalar(
               "SELECT r.status FROM runs r JOIN experiments e ON e.id = r.experiment_id "
               "WHERE e.name = 'doomed'") == "RUNNING";
  }));
  doomed.signal(SIGKILL);
  doomed.wait();

  // The heartbeat (0.5 s) is stale after three intervals.
  CommandResult requeue;
  ASSERT_TRUE(test::wait_until([&] {
    requeue = sqltrack({"requeue-stale", "--max-attempts", "2", "-e", "flaky"});
    return requeue.out.find("1 run whose") != std::string::npos;
  })) << requeue.out
      << requeue.err;
  EXPECT_NE(requeue.out.find("PENDING: its worker's heartbeat stopped"), std::string::npos)
      << requeue.out;
  CommandResult doom;
  ASSERT_TRUE(test::wait_until([&] {
    doom = sqltrack({"requeue-stale", "--max-attempts", "1", "-e", "doomed"});
    return doom.out.find("1 run whose") != std::string::npos;
  })) << doom.out
      << doom.err;
  EXPECT_NE(doom.out.find("FAILED: its worker's heartbeat stopped"), std::string::npos) << doom.out;
  EXPECT_EQ(scalar("SELECT r.status || ' ' || r.queue_attempts FROM runs r JOIN experiments e "
                   "ON e.id = r.experiment_id WHERE e.name = 'doomed'"),
            "FAILED 1");

  CommandResult second = test::run_command(worker({"--next", "-e", "flaky"}), in_db_dir());
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, "second\n");
  EXPECT_EQ(scalar("SELECT r.status || ' ' || r.queue_attempts FROM runs r JOIN experiments e "
                   "ON e.id = r.experiment_id WHERE e.name = 'flaky'"),
            "COMPLETED 2");
  EXPECT_EQ(scalar("SELECT count(*) FROM run_status_history WHERE detail LIKE "
                   "'%back in the queue'"),
            "1");
  // Nothing stale is left: a second pass changes nothing.
  CommandResult again = sqltrack({"requeue-stale"});
  EXPECT_NE(again.out.find("0 runs whose"), std::string::npos) << again.out;
}

INSTANTIATE_TEST_SUITE_P(Engines, QueueTest,
                         ::testing::Values(db::Engine::postgres, db::Engine::sqlite),
                         test::EngineParamName{});

}  // namespace
}  // namespace sqltrack
