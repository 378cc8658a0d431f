// --version of both programs: the version of project() in CMakeLists.txt, the commit the build
// was configured from ("unknown" outside a git checkout) and the engines built in.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace sqltrack {
namespace {

// VERSION of `project(sqltrack VERSION ...)`, the one place the version is written.
std::string project_version() {
  const std::string cmake = test::read_file(SQLTRACK_SOURCE_DIR "/CMakeLists.txt");
  std::smatch match;
  if (!std::regex_search(cmake, match, std::regex(R"(project\(sqltrack VERSION ([0-9.]+))"))) {
    ADD_FAILURE() << "no project(sqltrack VERSION ...) in CMakeLists.txt";
    return {};
  }
  return match[1];
}

bool git_installed() {
  return test::run_command({"sh", "-c", "command -v git"}).exit_code == 0;
}

// The commit a build of `dir` would report.
std::string source_commit(const std::filesystem::path& dir) {
  auto result = test::run_command({SQLTRACK_CMAKE_COMMAND, "-DSOURCE_DIR=" + dir.string(), "-P",
                                   SQLTRACK_SOURCE_DIR "/tests/programs/source_commit.cmake"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

TEST(Version, BothProgramsNameVersionCommitAndEngines) {
  const std::string version = project_version();
  for (const std::string program : {"sqltrack-run", "sqltrack"}) {
    auto result =
        test::run_command({program == "sqltrack" ? SQLTRACK_BIN : SQLTRACK_RUN_BIN, "--version"});
    ASSERT_EQ(result.exit_code, 0) << program << ": " << result.err;
    std::smatch match;
    const std::regex expected(program +
                              " ([0-9.]+) \\(commit (unknown|[0-9a-f]{7,})\\)\n"
                              "engines: sqlite 3\\.[0-9.]+ \\(built in\\), postgresql "
                              "\\(libpq, loaded at run time\\)\n");
    ASSERT_TRUE(std::regex_match(result.out, match, expected)) << program << " --version printed:\n"
                                                               << result.out;
    EXPECT_EQ(match[1], version) << "the version of project() in CMakeLists.txt";
    const std::string commit = match[2];
    if (commit != "unknown" && git_installed()) {
      auto known = test::run_command(
          {"git", "-C", SQLTRACK_SOURCE_DIR, "cat-file", "-e", commit + "^{commit}"});
      EXPECT_EQ(known.exit_code, 0) << commit << " is no commit of " << SQLTRACK_SOURCE_DIR;
    }
  }
}

TEST(Version, TheCommitIsTheSourcesOrUnknownOutsideGit) {
  test::TempDir dir;
  EXPECT_EQ(source_commit(dir.path()), "unknown\n") << "a source tree that is no git checkout";
  if (!git_installed()) GTEST_SKIP() << "git is not installed";
  auto init = test::run_command({"git", "init", "-q", dir.path().string()});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  std::filesystem::create_directory(dir / "sqltrack");
  EXPECT_EQ(source_commit(dir / "sqltrack"), "unknown\n")
      << "a source tree inside another checkout is not that checkout";
  auto head = test::run_command({"git", "-C", SQLTRACK_SOURCE_DIR, "rev-parse", "--short", "HEAD"});
  if (head.exit_code != 0) GTEST_SKIP() << "the source is not a git checkout";
  EXPECT_EQ(source_commit(SQLTRACK_SOURCE_DIR), head.out);
}

}  // namespace
}  // namespace sqltrack
