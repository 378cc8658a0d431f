// sqltrack-run's heartbeat end to end: time_updated moves while the command runs.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "sqltrack/util/timestamp.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::EngineDatabase;
using TimePoint = std::chrono::system_clock::time_point;

class HeartbeatTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  std::vector<std::string> wrapper_argv(const std::vector<std::string>& flags,
                                        const std::vector<std::string>& command) const {
    return db_.wrapper_argv(flags, command);
  }

  // Status and time_updated of the newest run; nullopt while there is none
  // (or the schema is not there yet: the wrapper may still be creating it).
  struct RunRow {
    std::string status;
    TimePoint updated;
  };
  std::optional<RunRow> newest_run() const {
    try {
      auto result = db_.connect()->query(
          "SELECT status, time_updated FROM runs ORDER BY id DESC LIMIT 1", {});
      if (result.empty() || !result.rows[0][0] || !result.rows[0][1]) return std::nullopt;
      auto updated = parse_timestamp(*result.rows[0][1]);
      if (!updated) return std::nullopt;
      return RunRow{*result.rows[0][0], *updated};
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  EngineDatabase db_{GetParam()};
};

TEST_P(HeartbeatTest, TimeUpdatedAdvancesWhileTheCommandRuns) {
  test::CommandOptions options;
  options.cwd = db_.cwd();
  test::BackgroundProcess wrapper(
      wrapper_argv({"-e", "heartbeat", "--heartbeat", "0.2"}, {"sleep", "1.5"}), options);

  std::optional<RunRow> first;
  ASSERT_TRUE(test::wait_until([&] {
    first = newest_run();
    return first.has_value();
  })) << "no run row appeared: "
      << wrapper.err();
  ASSERT_EQ(first->status, "RUNNING");

  // Read again while the command still runs: a heartbeat must have moved it.
  std::optional<RunRow> during;
  bool advanced = test::wait_until([&] {
    during = newest_run();
    return during && during->status == "RUNNING" && during->updated > first->updated;
  });
  EXPECT_TRUE(advanced) << "time_updated did not advance while the command ran; last status "
                        << (during ? during->status : "<none>");

  ASSERT_EQ(wrapper.wait(), 0) << wrapper.err();
  auto after = newest_run();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->status, "COMPLETED");
  EXPECT_GT(after->updated, first->updated);
}

INSTANTIATE_TEST_SUITE_P(Engines, HeartbeatTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

}  // namespace
}  // namespace sqltrack
