// `sqltrack --help` lists every subcommand; `sqltrack SUB --help` shows SUB's help only, and a
// usage error of SUB points to it.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace {

namespace test = sqltrack::test;

const std::vector<std::string> kSubcommands = {
    "setup",  "enqueue", "requeue-stale", "mark-stale", "sync", "slurm-sync", "submit",
    "status", "export",  "report",        "compare",    "rm",   "edit",       "doctor"};

TEST(SqltrackHelp, ListsEverySubcommand) {
  auto help = test::run_command({SQLTRACK_BIN, "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  for (const auto& name : kSubcommands) {
    EXPECT_TRUE(help.out.find("\n  " + name + " ") != std::string::npos ||
                help.out.find("\n  " + name + "\n") != std::string::npos)
        << "the usage lacks " << name << ":\n"
        << help.out;
  }
  const std::string commands = help.out.substr(0, help.out.find("'sqltrack COMMAND --help'"));
  EXPECT_EQ(commands.find(" \n"), std::string::npos) << "a line ends in a space:\n" << commands;
}

TEST(SqltrackHelp, EachSubcommandShowsOnlyItsOwnHelp) {
  for (const auto& name : kSubcommands) {
    auto help = test::run_command({SQLTRACK_BIN, name, "--help"});
    EXPECT_EQ(help.exit_code, 0) << name << ": " << help.err;
    const std::string usage = "Usage: sqltrack [CONNECTION FLAGS] " + name;
    EXPECT_EQ(help.out.rfind(usage, 0), 0u) << "expected '" << usage << "...', got:\n" << help.out;
    EXPECT_TRUE(help.out[usage.size()] == ' ' || help.out[usage.size()] == '\n') << help.out;
    const std::string first_line = help.out.substr(0, help.out.find('\n'));
    EXPECT_NE(first_line.back(), ' ') << "the usage line ends in a space: '" << first_line << "'";
    EXPECT_NE(help.out.find(name + " options:"), std::string::npos) << help.out;
    EXPECT_NE(help.out.find("Database connection:"), std::string::npos) << help.out;
    for (const auto& other : kSubcommands) {
      if (other == name || name.find(other) != std::string::npos) continue;
      EXPECT_EQ(help.out.find("\n  " + other + " "), std::string::npos)
          << name << " --help lists " << other << ":\n"
          << help.out;
    }
  }
}

TEST(SqltrackHelp, ACommandAfterDashDashIsRefusedWhereNoneIsTaken) {
  auto result = test::run_command({SQLTRACK_BIN, "export", "--", "true"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("export takes no command after --"), std::string::npos) << result.err;
}

TEST(SqltrackHelp, AnUnknownCommandIsAUsageError) {
  auto result = test::run_command({SQLTRACK_BIN, "frobnicate"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("unknown command 'frobnicate'"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("Try 'sqltrack --help'"), std::string::npos) << result.err;
}

TEST(SqltrackHelp, AUsageErrorOfASubcommandPointsToItsHelp) {
  const std::vector<std::vector<std::string>> wrong = {
      {SQLTRACK_BIN, "export", "--format", "xml"},             // a value the command refuses
      {SQLTRACK_BIN, "-a", "db", "report", "--no-such-flag"},  // a flag it does not know
      {SQLTRACK_BIN, "mark-stale", "--older-than"},            // a flag without its value
      {SQLTRACK_BIN, "status", "--interval", "5"},             // a flag without the one it needs
      {SQLTRACK_RUN_BIN, "status", "--json", "--watch"},
  };
  for (const auto& argv : wrong) {
    auto result = test::run_command(argv);
    EXPECT_EQ(result.exit_code, 2) << test::shell_command(argv) << ": " << result.err;
    const std::string program = argv[0] == SQLTRACK_BIN ? "sqltrack" : "sqltrack-run";
    const std::string command = argv[1] == "-a" ? argv[3] : argv[1];
    const std::string hint = "Try '" + program + " " + command + " --help' for more information.\n";
    EXPECT_TRUE(result.err.ends_with(hint))
        << test::shell_command(argv) << ": expected the last line " << hint << "got:\n"
        << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 2) << result.err;
  }
}

}  // namespace
