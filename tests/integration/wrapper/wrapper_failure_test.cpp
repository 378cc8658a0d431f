// A failure of sqltrack-run's own (a bug, memory exhausted) never ends or signals the command:
// the command runs to its end, the wrapper exits with its status and still forwards signals,
// the failure is said once, and nothing the wrapper had accepted is lost (what is not in the
// database is in the journal, which `sqltrack sync` stores, or in the reject file). Faults are
// injected at named points with SQLTRACK_TEST_FAULT, which only a build configured with
// -DSQLTRACK_FAULT_INJECTION=ON honours (scripts/test.sh builds so).
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>

#include "sqltrack/config/config.hpp"
#include "sqltrack/connect/connect.hpp"
#include "sqltrack/journal/journal.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::BackgroundProcess;
using test::CommandOptions;
using test::CommandResult;
using test::TempDir;

#ifndef SQLTRACK_FAULT_INJECTION
TEST(WrapperFailure, NeedsABuildWithFaultPoints) {
  FAIL() << "this build has no fault points: configure it with -DSQLTRACK_FAULT_INJECTION=ON "
            "(scripts/test.sh does)";
}
#else

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

class FaultedRun {
 public:
  explicit FaultedRun(const std::string& point) {
    options_.cwd = work_.path();
    options_.env["SQLTRACK_DSN_PATH"] = database().string();
    options_.env["SQLTRACK_DSN_JOURNAL_DIR"] = (work_ / "journals").string();
    options_.env["SQLTRACK_DSN_SYNC_TIMEOUT"] = "0";
    options_.env["SQLTRACK_TEST_FAULT"] = point;
  }

  std::filesystem::path database() const { return work_ / "sqltrack.db"; }
  const TempDir& work() const { return work_; }

  std::unique_ptr<BackgroundProcess> start(const std::vector<std::string>& flags,
                                           const std::string& job) const {
    std::vector<std::string> argv{SQLTRACK_RUN_BIN, "--add-columns"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"--", "bash", "-c", job});
    return std::make_unique<BackgroundProcess>(argv, options_);
  }

  CommandResult sync() const {
    return test::run_command({SQLTRACK_BIN, "sync", (work_ / "journals").string()}, options_);
  }

  std::string scalar(const std::string& sql) const {
    auto db = open_database(
        resolve_settings({}, {{"SQLTRACK_DSN_PATH", database().string()}}, work_.path()));
    return db->query(sql, {}).scalar().value_or("<NULL>");
  }

  // Rows kept in reject files (the lines that are not # comments), next to the journals.
  std::size_t rejected_rows() const {
    std::size_t rows = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(work_ / "journals", ec)) {
      if (entry.path().extension() != ".rejects") continue;
      std::istringstream lines(test::read_file(entry.path()));
      for (std::string line; std::getline(lines, line);) rows += line.starts_with("step=") ? 1 : 0;
    }
    return rows;
  }

 private:
  TempDir work_;
  CommandOptions options_;
};

// Rows 1-50, then (once the test has seen the fault, or at once) rows 51-100; exit code 3.
const std::string kJob =
    "for i in $(seq 1 50); do echo \"step=$i a=$i\"; done > $SQLTRACK_METRICS; "
    "until [ -e go ]; do sleep 0.05; done; "
    "for i in $(seq 51 100); do echo \"step=$i a=$i\"; done > $SQLTRACK_METRICS; exit 3";

struct FaultPoint {
  std::string name;
  std::vector<std::string> flags;  // what makes the wrapper reach the point
};

void PrintTo(const FaultPoint& point, std::ostream* out) {
  *out << point.name;
}

// The wrapper's stderr so far; empty until the process has created the file.
std::string err_of(const BackgroundProcess& run) {
  try {
    return run.err();
  } catch (const std::exception&) {
    return {};
  }
}

class WrapperFailure : public ::testing::TestWithParam<FaultPoint> {};

TEST_P(WrapperFailure, CommandRunsToItsEndAndNothingAcceptedIsLost) {
  const FaultPoint& point = GetParam();
  FaultedRun faulted(point.name);
  auto run = faulted.start(point.flags, kJob);
  // The end comes after the command: it cannot wait for the fault.
  if (point.name != "end") {
    ASSERT_TRUE(
        test::wait_until([&] { return err_of(*run).find("injected fault") != std::string::npos; },
                         std::chrono::seconds(60)))
        << run->err();
  }
  test::write_file(faulted.work() / "go", "");
  ASSERT_EQ(run->wait(std::chrono::seconds(120)), 3) << run->err();
  EXPECT_EQ(count_of(run->err(), "injected fault at " + point.name), 1u) << run->err();
  EXPECT_EQ(count_of(run->err(), "internal failure"), 1u) << run->err();

  if (point.name == "run_start") {
    // The run could not be started: not recorded, and every row is in the reject file.
    EXPECT_EQ(faulted.rejected_rows(), 100u) << run->err();
    return;
  }
  CommandResult synced = faulted.sync();
  ASSERT_EQ(synced.exit_code, 0) << synced.out << synced.err;
  EXPECT_EQ(faulted.scalar("SELECT count(*) || ' ' || sum(a) FROM metrics"), "100 5050.0")
      << run->err() << synced.out;
  EXPECT_EQ(faulted.scalar("SELECT status || ' ' || exit_code FROM runs"), "FAILED 3")
      << run->err() << synced.out;
}

INSTANTIATE_TEST_SUITE_P(Points, WrapperFailure,
                         ::testing::Values(FaultPoint{"run_start", {}},
                                           FaultPoint{"first_batch", {}},
                                           FaultPoint{"heartbeat", {"--heartbeat", "0.2"}},
                                           FaultPoint{"sampler", {"--sample", "0.05"}},
                                           FaultPoint{"end", {}}),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(WrapperFailureSignals, AreStillForwardedAfterAFault) {
  FaultedRun faulted("heartbeat");
  const std::string job =
      "trap 'echo \"step=7 a=7\" > $SQLTRACK_METRICS; exit 7' TERM; "
      "echo 'step=1 a=1' > $SQLTRACK_METRICS; while true; do sleep 0.05; done";
  auto run = faulted.start({"--heartbeat", "0.2"}, job);
  ASSERT_TRUE(
      test::wait_until([&] { return err_of(*run).find("injected fault") != std::string::npos; },
                       std::chrono::seconds(60)))
      << run->err();
  run->signal(SIGTERM);
  ASSERT_EQ(run->wait(std::chrono::seconds(60)), 7) << run->err();
  CommandResult synced = faulted.sync();
  ASSERT_EQ(synced.exit_code, 0) << synced.out << synced.err;
  EXPECT_EQ(
      faulted.scalar("SELECT group_concat(step) FROM (SELECT step FROM metrics ORDER BY step)"),
      "1,7")
      << run->err();
  EXPECT_EQ(faulted.scalar("SELECT status FROM runs"), "CANCELLED") << run->err();
}

#endif

}  // namespace
}  // namespace sqltrack
