#pragma once
// Helpers shared by the test groups: temporary directories and running real
// processes with their output captured.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sqltrack::test {

// A fresh directory under $TMPDIR, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;  // as a shell reports it: code, or 128 + signal
  std::string out;
  std::string err;
};

struct CommandOptions {
  std::optional<std::filesystem::path> cwd;
  // Variables set (or, with std::nullopt, removed) on top of this process's environment.
  std::map<std::string, std::optional<std::string>> env;
  std::string stdin_text;
};

// Runs argv[0] (searched in PATH) and waits for it.
CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options = {});

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& text);

// The value of an environment variable, or a test failure naming it.
std::string required_env(const char* name);

}  // namespace sqltrack::test
