// runs.git end to end: sqltrack-run started in a git work tree that git itself made records its
// commit, branch and origin, on both engines; capture_git turns it off or adds dirty; status
// --json and export show it.

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/git_repository.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::EngineDatabase;
using test::git;

class GitCaptureTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  // The database's directory (where a SQLite file lives) is the work tree.
  void SetUp() override { test::make_repository(db_.cwd()); }

  CommandResult run_program(const std::vector<std::string>& argv) const {
    test::CommandOptions options;
    options.cwd = db_.cwd();
    return test::run_command(argv, options);
  }

  CommandResult wrap(const std::vector<std::string>& flags) const {
    return run_program(db_.wrapper_argv(flags, {"true"}));
  }

  // runs.git of the newest run, as stored; "<NULL>" for NULL, "<no run>" without runs.
  std::string stored_git() const {
    auto result = db_.connect()->query("SELECT git FROM runs ORDER BY id DESC LIMIT 1", {});
    if (result.empty()) return "<no run>";
    return result.rows[0][0].value_or("<NULL>");
  }

  nlohmann::json stored_git_json() const {
    const std::string text = stored_git();
    auto json = nlohmann::json::parse(text, nullptr, false);
    EXPECT_TRUE(json.is_object()) << "runs.git is not a JSON object: " << text;
    return json;
  }

  std::string head() const { return git(db_.cwd(), {"rev-parse", "HEAD"}); }

  // `sqltrack ARGS` or `sqltrack-run status ARGS` with the database's flags.
  CommandResult cli(std::string program, std::vector<std::string> args) const {
    std::vector<std::string> argv{std::move(program)};
    if (argv[0] == SQLTRACK_RUN_BIN) argv.push_back("status");
    auto flags = db_.cli_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv);
  }

  EngineDatabase db_{GetParam()};
};

TEST_P(GitCaptureTest, ARunInAWorkTreeRecordsItsCommitBranchAndRemote) {
  git(db_.cwd(), {"remote", "add", "origin", "https://alice:s3cr3t@example.com/lab/models.git"});
  auto result = wrap({});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json expected = {
      {"commit", head()}, {"branch", "main"}, {"remote", "https://example.com/lab/models.git"}};
  EXPECT_EQ(stored_git_json(), expected) << "no dirty unless capture_git = full";

  auto status = cli(SQLTRACK_RUN_BIN, {"--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(nlohmann::json::parse(status.out)["git"], expected) << status.out;

  auto exported = cli(SQLTRACK_BIN, {"export", "--format", "json"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(nlohmann::json::parse(exported.out)["git"], expected) << exported.out;
}

TEST_P(GitCaptureTest, ADetachedHeadIsRecordedWithoutABranch) {
  git(db_.cwd(), {"checkout", "--quiet", "--detach"});
  auto result = wrap({});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto stored = stored_git_json();
  EXPECT_EQ(stored["commit"], head());
  EXPECT_EQ(stored["branch"], nullptr);
}

TEST_P(GitCaptureTest, CaptureGitOffStoresNull) {
  test::write_file(db_.cwd() / "sqltrack.conf", "capture_git = off\n");
  auto result = wrap({});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(stored_git(), "<NULL>") << "setting capture_git = off";

  std::filesystem::remove(db_.cwd() / "sqltrack.conf");
  result = wrap({"--capture-git", "off"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(stored_git(), "<NULL>") << "flag --capture-git off";
}

TEST_P(GitCaptureTest, OutsideAWorkTreeGitIsNull) {
  std::filesystem::remove_all(db_.cwd() / ".git");
  auto result = wrap({"--capture-git", "full"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(stored_git(), "<NULL>");
}

TEST_P(GitCaptureTest, CaptureGitFullRecordsWhetherTrackedFilesChanged) {
  auto result = wrap({"--capture-git", "full"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(stored_git_json()["dirty"], false) << "a clean work tree (the database is untracked)";

  test::write_file(db_.cwd() / "train.py", "print('changed')\n");
  test::write_file(db_.cwd() / "sqltrack.conf", "capture_git = full\n");
  result = wrap({});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto stored = stored_git_json();
  EXPECT_EQ(stored["dirty"], true) << "train.py changed; setting capture_git = full";
  EXPECT_EQ(stored["commit"], head());
}

TEST_P(GitCaptureTest, BadValuesStopBeforeAnythingStarts) {
  auto flag = wrap({"--capture-git", "sometimes"});
  EXPECT_EQ(flag.exit_code, 2) << flag.err;
  EXPECT_NE(flag.err.find("flag --capture-git must be off, on or full, got 'sometimes'"),
            std::string::npos)
      << flag.err;

  test::write_file(db_.cwd() / "sqltrack.conf", "capture_git = yes please\n");
  auto setting = wrap({});
  EXPECT_EQ(setting.exit_code, 1) << setting.err;
  EXPECT_NE(setting.err.find("setting 'capture_git' (config file './sqltrack.conf' line 1) must "
                             "be off, on or full, got 'yes please'"),
            std::string::npos)
      << setting.err;
  std::filesystem::remove(db_.cwd() / "sqltrack.conf");
  if (GetParam() == db::Engine::sqlite) {
    EXPECT_FALSE(std::filesystem::exists(db_.cwd() / "sqltrack.db")) << "nothing started";
  } else {
    EXPECT_FALSE(db_.connect()->table_exists("runs")) << "nothing started";
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, GitCaptureTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName{});

}  // namespace
}  // namespace sqltrack
