#pragma once
// Git repositories that tests make with the git binary, whatever the git config of the user
// who runs them: an author and committer from the environment, no global or system config.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sqltrack/util/text.hpp"
#include "support/test_support.hpp"

namespace sqltrack::test {

inline std::map<std::string, std::optional<std::string>> git_environment() {
  return {{"GIT_AUTHOR_NAME", "sqltrack test"},    {"GIT_AUTHOR_EMAIL", "test@sqltrack.invalid"},
          {"GIT_COMMITTER_NAME", "sqltrack test"}, {"GIT_COMMITTER_EMAIL", "test@sqltrack.invalid"},
          {"GIT_CONFIG_GLOBAL", "/dev/null"},      {"GIT_CONFIG_NOSYSTEM", "1"}};
}

// `git -C dir ARGS...`: its output without the blanks around it. A failure of git is a test
// failure that names the command and what git said.
inline std::string git(const std::filesystem::path& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"git", "-C", dir.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.env = git_environment();
  CommandResult result = run_command(argv, options);
  EXPECT_EQ(result.exit_code, 0) << shell_command(argv) << ": " << result.err;
  return std::string(trim(result.out));
}

// A repository in `dir` (made when missing) on branch main, with one commit of train.py.
inline void make_repository(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  git(dir, {"init", "--quiet", "--initial-branch=main"});
  write_file(dir / "train.py", "print('step=1 loss=0.5')\n");
  git(dir, {"add", "train.py"});
  git(dir, {"commit", "--quiet", "-m", "first"});
}

}  // namespace sqltrack::test
