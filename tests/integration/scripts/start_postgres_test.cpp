// scripts/start-postgres.sh: its last line is the tests' SQLTRACK_TEST_PG* (scripts read it
// with `tail -1`); the line before is what the programs read, so that after
// `eval "$(scripts/start-postgres.sh)"` sqltrack and sqltrack-run use that server, as README.md
// shows.
#include <gtest/gtest.h>

#include <sstream>

#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The value of NAME in an `export A=x B=y` line, empty when it is not there.
std::string exported(const std::string& line, const std::string& name) {
  auto at = line.find(" " + name + "=");
  if (at == std::string::npos) return {};
  at += name.size() + 2;
  return line.substr(at, line.find(' ', at) - at);
}

class StartPostgresScript : public ::testing::Test {
 protected:
  void TearDown() override {
    test::run_command(
        {"bash", SQLTRACK_SOURCE_DIR "/scripts/stop-postgres.sh", dir_.path().string()});
  }

  // A shell running `script` with the programs under test in PATH, in a directory without a
  // config file, and no setting of the test's own environment that chooses a database.
  CommandResult shell(const std::string& script) const {
    test::CommandOptions options;
    options.cwd = work_.path();
    // A port of its own: the suite's server holds SQLTRACK_TEST_PGPORT.
    for (const char* name :
         {"SQLTRACK_TEST_PGPORT", "SQLTRACK_DSN_HOST", "SQLTRACK_DSN_PORT", "SQLTRACK_DSN_USER",
          "SQLTRACK_DSN_DBNAME", "SQLTRACK_DSN_PATH", "SQLTRACK_CONFIG_PATH", "SQLTRACK_ENGINE",
          "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"}) {
      options.env[name] = std::nullopt;
    }
    const std::string bin = std::filesystem::path(SQLTRACK_BIN).parent_path().string();
    options.env["PATH"] = bin + ":" + test::required_env("PATH");
    return test::run_command({"bash", "-c", script}, options);
  }

  std::string start_command() const {
    return test::shell_quote(SQLTRACK_SOURCE_DIR "/scripts/start-postgres.sh") + " " +
           test::shell_quote(dir_.path().string());
  }

  test::TempDir dir_;
  test::TempDir work_;
};

TEST_F(StartPostgresScript, TheProgramsVariablesComeBeforeTheTestsLastLine) {
  CommandResult started = shell(start_command());
  ASSERT_EQ(started.exit_code, 0) << started.err;
  auto lines = lines_of(started.out);
  ASSERT_EQ(lines.size(), 2u) << started.out;
  const std::string& programs = lines[0];
  const std::string& tests = lines[1];
  EXPECT_EQ(tests.rfind("export SQLTRACK_TEST_PGHOST=", 0), 0u) << tests;
  EXPECT_EQ(tests.find("SQLTRACK_DSN_"), std::string::npos)
      << "the tests choose their own databases: " << tests;
  const std::string socket = (dir_ / "socket").string();
  EXPECT_EQ(exported(programs, "SQLTRACK_DSN_HOST"), socket) << programs;
  EXPECT_EQ(exported(programs, "SQLTRACK_DSN_PORT"), exported(tests, "SQLTRACK_TEST_PGPORT"))
      << programs;
  EXPECT_EQ(exported(programs, "SQLTRACK_DSN_USER"), "postgres") << programs;
  EXPECT_EQ(exported(programs, "SQLTRACK_DSN_DBNAME"), "sqltrack") << programs;

  // A second start finds the server running and says the same.
  CommandResult again = shell(start_command());
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, started.out);
}

TEST_F(StartPostgresScript, AfterEvalTheProgramsUseTheServer) {
  CommandResult used = shell("set -e; eval \"$(" + start_command() +
                             ")\"; sqltrack setup; sqltrack-run -e byhand -- true; "
                             "sqltrack status -e byhand --json");
  ASSERT_EQ(used.exit_code, 0) << used.out << used.err;
  EXPECT_NE(used.out.find("PostgreSQL"), std::string::npos)
      << "setup names the database it set up:\n"
      << used.out;
  EXPECT_NE(used.out.find("\"experiment\":\"byhand\""), std::string::npos) << used.out;
  EXPECT_NE(used.out.find("\"status\":\"COMPLETED\""), std::string::npos) << used.out;
  EXPECT_FALSE(std::filesystem::exists(work_ / "sqltrack.db")) << "a SQLite file was made";
}

}  // namespace
}  // namespace sqltrack
