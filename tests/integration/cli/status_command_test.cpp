// `sqltrack status` and `sqltrack-run status`: one command, the same flags and output; the
// connection flags before the word `status` or after it; an unknown experiment is an error.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "integration/read/read_side_fixture.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::EngineDatabase;

class StatusCommandTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  void SetUp() override {
    test::setup_metric_columns(db_);
    auto conn = db_.connect();
    test::insert_runs(*conn);
    // SQLite through a config file, so that both engines are reached by connection flags alone.
    if (db_.engine() == db::Engine::sqlite) {
      config_ = db_.cwd() / "db.conf";
      test::write_file(config_, "path = " + (db_.cwd() / "sqltrack.db").string() + "\n");
    }
  }

  // The connection flags, separate (-c FILE) or joined (--config-path=FILE).
  std::vector<std::string> connection(bool joined) const {
    if (db_.engine() == db::Engine::sqlite) {
      if (joined) return {"--config-path=" + config_.string()};
      return {"-c", config_.string()};
    }
    auto flags = db_.cli_flags();  // -a HOST:PORT -u USER -d NAME
    if (joined) return {"--host=" + flags[1], "-u" + flags[3], "--database=" + flags[5]};
    return flags;
  }

  // PROGRAM with `before`, then the word status, then `after`; in a directory without a
  // database, so that only the flags can lead it to one.
  CommandResult run(const std::string& program, const std::vector<std::string>& before,
                    const std::vector<std::string>& after) const {
    std::vector<std::string> argv{program};
    argv.insert(argv.end(), before.begin(), before.end());
    argv.push_back("status");
    argv.insert(argv.end(), after.begin(), after.end());
    test::CommandOptions options;
    options.cwd = elsewhere_.path();
    return test::run_command(argv, options);
  }

  EngineDatabase db_{GetParam()};
  std::filesystem::path config_;
  test::TempDir elsewhere_;
};

std::vector<std::string> with(std::vector<std::string> flags,
                              const std::vector<std::string>& more) {
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

TEST_P(StatusCommandTest, ConnectionFlagsWorkBeforeTheWordAsAfterIt) {
  auto after = run(SQLTRACK_RUN_BIN, {}, with(connection(false), {"--json"}));
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_NE(after.out.find("\"experiment\":\"sweep\""), std::string::npos) << after.out;
  for (bool joined : {false, true}) {
    auto before = run(SQLTRACK_RUN_BIN, connection(joined), {"--json"});
    EXPECT_EQ(before.exit_code, 0) << (joined ? "joined: " : "separate: ") << before.err;
    EXPECT_EQ(before.out, after.out) << (joined ? "joined" : "separate") << " flags before status";
  }
  auto split = connection(false);
  auto half = run(SQLTRACK_RUN_BIN, {split[0], split[1]},
                  with(std::vector<std::string>(split.begin() + 2, split.end()), {"--json"}));
  EXPECT_EQ(half.exit_code, 0) << half.err;
  EXPECT_EQ(half.out, after.out) << "some flags before status, the others after it";
}

TEST_P(StatusCommandTest, SqltrackStatusIsTheSameCommand) {
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--json"}, {"--json", "-e", "sweep", "--limit", "2"}, {"4"}}) {
    auto wrapper = run(SQLTRACK_RUN_BIN, connection(false), flags);
    auto sqltrack = run(SQLTRACK_BIN, connection(false), flags);
    ASSERT_EQ(wrapper.exit_code, 0) << wrapper.err;
    EXPECT_EQ(sqltrack.exit_code, 0) << sqltrack.err;
    EXPECT_EQ(sqltrack.out, wrapper.out) << "flags: " << test::shell_command(flags);
    EXPECT_EQ(sqltrack.err, "");
  }
  auto table = run(SQLTRACK_BIN, {}, with(connection(false), {"-e", "other"}));
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out.rfind("RUN  EXPERIMENT  STATUS", 0), 0u) << table.out;
  EXPECT_NE(table.out.find("other"), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find("sweep"), std::string::npos) << table.out;
}

TEST_P(StatusCommandTest, AnUnknownExperimentIsOneLineAndExitOne) {
  for (const std::string program : {"sqltrack-run", "sqltrack"}) {
    auto result = run(program == "sqltrack" ? SQLTRACK_BIN : SQLTRACK_RUN_BIN, connection(false),
                      {"-e", "nope"});
    EXPECT_EQ(result.exit_code, 1) << program;
    EXPECT_EQ(result.err, program +
                              ": error: no experiment named \"nope\" (experiments: other, "
                              "sweep)\n");
    EXPECT_EQ(result.out, "");
  }
  auto json = run(SQLTRACK_RUN_BIN, connection(false), {"--json", "-e", "nope"});
  EXPECT_EQ(json.exit_code, 1) << "--json: " << json.out;
}

INSTANTIATE_TEST_SUITE_P(Engines, StatusCommandTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

TEST(StatusCommand, OtherFlagsBeforeTheWordAreAUsageError) {
  auto result = test::run_command({SQLTRACK_RUN_BIN, "-e", "sweep", "status"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("only connection flags (-u -a -d -s -c --engine) may come before "
                            "'status'"),
            std::string::npos)
      << result.err;
}

TEST(StatusCommand, HelpOfStatusIsItsOwnInBothPrograms) {
  for (const std::string program : {"sqltrack-run", "sqltrack"}) {
    auto help = test::run_command(
        {program == "sqltrack" ? SQLTRACK_BIN : SQLTRACK_RUN_BIN, "-a", "db", "status", "--help"});
    ASSERT_EQ(help.exit_code, 0) << help.err;
    const std::string usage = "Usage: " + program + " [CONNECTION FLAGS] status [RUN_ID...] ";
    EXPECT_EQ(help.out.rfind(usage, 0), 0u) << "expected '" << usage << "...', got:\n" << help.out;
    EXPECT_NE(help.out.find("--interval"), std::string::npos) << help.out;
    EXPECT_EQ(help.out.find("--heartbeat"), std::string::npos)
        << "the wrapper's flags are not status's:\n"
        << help.out;
  }
}

}  // namespace
}  // namespace sqltrack
