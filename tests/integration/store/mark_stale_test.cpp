// `sqltrack mark-stale`: runs whose wrapper died outside Slurm (SIGKILLed here, as the OOM
// killer or a lost node would) end FAILED once their heartbeat is old enough; runs of Slurm
// jobs, queued runs and runs whose wrapper lives are left to slurm-sync, requeue-stale and
// their wrappers.
#include <gtest/gtest.h>

#include <csignal>

#include "sqltrack/store/store.hpp"
#include "sqltrack/util/timestamp.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::BackgroundProcess;
using test::CommandOptions;
using test::CommandResult;
using test::EngineDatabase;
using test::run_command;

class MarkStale : public ::testing::TestWithParam<db::Engine> {
 protected:
  CommandOptions options() const {
    CommandOptions o;
    o.cwd = db_.cwd();
    o.env["SQLTRACK_DSN_JOURNAL_DIR"] = (db_.cwd() / "journals").string();
    // Outside Slurm, whatever runs this test.
    for (const char* name : {"SLURM_JOB_ID", "SLURM_JOBID", "SLURM_ARRAY_JOB_ID"}) {
      o.env[name] = std::nullopt;
    }
    return o;
  }

  CommandResult sqltrack(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{SQLTRACK_BIN};
    auto flags = db_.cli_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, options());
  }

  std::string scalar(const std::string& sql) const {
    return db_.connect()->query(sql, {}).scalar().value_or("<NULL>");
  }

  std::string status_of(std::int64_t run_id) const {
    return scalar("SELECT status FROM runs WHERE id = " + std::to_string(run_id));
  }

  // The newest run, once it is RUNNING.
  std::int64_t wait_for_running_run(std::size_t runs_before) const {
    EXPECT_TRUE(test::wait_until(
        [&] {
          return scalar("SELECT count(*) FROM runs WHERE status = 'RUNNING'") ==
                 std::to_string(runs_before + 1);
        },
        std::chrono::seconds(60)))
        << "no RUNNING run appeared";
    return std::stoll(scalar("SELECT max(id) FROM runs WHERE status = 'RUNNING'"));
  }

  // A wrapper that runs until the test ends, and its run.
  std::int64_t start_wrapper(std::vector<std::string> flags, CommandOptions o,
                             std::size_t running_before) {
    flags.insert(flags.begin(), "--no-metrics");
    wrappers_.push_back(
        std::make_unique<BackgroundProcess>(db_.wrapper_argv(flags, {"sleep", "600"}), o));
    return wait_for_running_run(running_before);
  }

  // A wrapper SIGKILLed while its command runs: nobody writes the run's end.
  std::int64_t lost_wrapper(const std::vector<std::string>& flags, std::size_t running_before,
                            CommandOptions o) {
    std::int64_t run_id = start_wrapper(flags, std::move(o), running_before);
    wrappers_.back()->signal(SIGKILL);
    EXPECT_EQ(wrappers_.back()->wait(), 128 + SIGKILL);
    return run_id;
  }

  // Waits until the run's last heartbeat is older than `age`.
  void wait_until_older_than(std::int64_t run_id, std::chrono::milliseconds age) const {
    const std::string sql = "SELECT time_updated FROM runs WHERE id = " + std::to_string(run_id);
    EXPECT_TRUE(test::wait_until([&] {
      auto updated = parse_timestamp(scalar(sql));
      return updated && Clock::now() - *updated > age;
    })) << "run "
        << run_id << " kept its heartbeat";
  }

  std::string history_of(std::int64_t run_id) const {
    return scalar(
        "SELECT count(*) || ' ' || max(detail) FROM run_status_history WHERE status = 'FAILED' "
        "AND run_id = " +
        std::to_string(run_id));
  }

  EngineDatabase db_{GetParam()};
  std::vector<std::unique_ptr<BackgroundProcess>> wrappers_;
};

TEST_P(MarkStale, RunsOutsideSlurmWhoseWrapperDiedEndFailed) {
  ASSERT_EQ(sqltrack({"setup"}).exit_code, 0);
  const std::int64_t lost = lost_wrapper({"-e", "lost", "--heartbeat", "0.2"}, 0, options());
  const std::int64_t other = lost_wrapper({"-e", "other", "--heartbeat", "0.2"}, 1, options());
  // Lost too, but its interval (30 s) says its heartbeat is not late yet.
  const std::int64_t recent = lost_wrapper({"-e", "lost", "--heartbeat", "30"}, 2, options());
  CommandOptions in_slurm = options();
  in_slurm.env["SLURM_JOB_ID"] = "424242";
  const std::int64_t slurm = lost_wrapper({"-e", "lost", "--heartbeat", "0.2"}, 3, in_slurm);
  ASSERT_EQ(sqltrack({"enqueue", "-e", "lost", "--", "sleep", "600"}).exit_code, 0);
  std::vector<std::string> worker{SQLTRACK_RUN_BIN};
  for (const auto& flag : db_.cli_flags()) worker.push_back(flag);
  worker.insert(worker.end(), {"--next", "-e", "lost", "--heartbeat", "0.2", "--no-metrics"});
  wrappers_.push_back(std::make_unique<BackgroundProcess>(worker, options()));
  const std::int64_t queued = wait_for_running_run(4);
  wrappers_.back()->signal(SIGKILL);
  wrappers_.back()->wait();
  // Alive, with a heartbeat every 10 s that a loaded machine cannot make 30 s late.
  const std::int64_t alive = start_wrapper({"-e", "lost", "--heartbeat", "10"}, options(), 5);
  for (auto run : {lost, other, slurm, queued}) {
    wait_until_older_than(run, std::chrono::milliseconds(700));
  }
  const std::string last_heartbeat =
      scalar("SELECT time_updated FROM runs WHERE id = " + std::to_string(lost));

  // Two at once, as from cron on two machines: each run changes once.
  std::vector<std::string> argv{SQLTRACK_BIN};
  for (const auto& flag : db_.cli_flags()) argv.push_back(flag);
  argv.insert(argv.end(), {"mark-stale", "-e", "lost"});
  BackgroundProcess first(argv, options()), second(argv, options());
  ASSERT_EQ(first.wait(), 0) << first.out() << first.err();
  ASSERT_EQ(second.wait(), 0) << second.out() << second.err();
  const std::string out = first.out() + second.out();
  EXPECT_NE(out.find("run " + std::to_string(lost) + ": FAILED: wrapper lost: no heartbeat since "),
            std::string::npos)
      << out;

  EXPECT_EQ(status_of(lost), "FAILED");
  EXPECT_NE(scalar("SELECT time_ended FROM runs WHERE id = " + std::to_string(lost)), "<NULL>");
  const std::string history = history_of(lost);
  ASSERT_EQ(history.rfind("1 wrapper lost: no heartbeat since ", 0), 0u) << history;
  EXPECT_EQ(parse_timestamp(history.substr(history.find("since ") + 6)),
            parse_timestamp(last_heartbeat))
      << history << " vs the last heartbeat " << last_heartbeat;
  EXPECT_EQ(status_of(other), "RUNNING") << "-e lost only";
  EXPECT_EQ(status_of(recent), "RUNNING") << "its heartbeat is not three intervals old";
  EXPECT_EQ(status_of(slurm), "RUNNING") << "a Slurm job's run is slurm-sync's";
  EXPECT_EQ(status_of(queued), "RUNNING") << "a queued run is requeue-stale's";
  EXPECT_EQ(status_of(alive), "RUNNING") << "its wrapper lives";

  // --older-than raises the bar above three intervals.
  CommandResult patient = sqltrack({"mark-stale", "-e", "other", "--older-than", "3600"});
  ASSERT_EQ(patient.exit_code, 0) << patient.err;
  EXPECT_NE(patient.out.find("mark-stale: 0 runs"), std::string::npos) << patient.out;
  EXPECT_EQ(status_of(other), "RUNNING");
  CommandResult all = sqltrack({"mark-stale"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find("mark-stale: 1 run whose"), std::string::npos) << all.out;
  EXPECT_EQ(status_of(other), "FAILED");
  EXPECT_EQ(history_of(lost).substr(0, 2), "1 ") << "marked once";
  EXPECT_EQ(status_of(alive), "RUNNING");
}

TEST_P(MarkStale, BadOlderThanIsAUsageError) {
  CommandResult result = sqltrack({"mark-stale", "--older-than=-5"});
  EXPECT_EQ(result.exit_code, 2) << result.out;
  EXPECT_NE(result.err.find("--older-than"), std::string::npos) << result.err;
}

INSTANTIATE_TEST_SUITE_P(Engines, MarkStale,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

}  // namespace
}  // namespace sqltrack
