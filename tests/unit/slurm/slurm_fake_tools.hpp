#pragma once
// Fake Slurm commands for unit tests: shell scripts in a temporary directory
// put first on PATH for the test's lifetime. Each one fakes only what the test
// does not test (Slurm's answer), never the code that runs and reads it.

#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "support/test_support.hpp"

namespace sqltrack::test {

class FakeSlurmTools {
 public:
  FakeSlurmTools() {
    const char* path = std::getenv("PATH");
    old_path_ = path ? path : "";
    ::setenv("PATH", (dir_.path().string() + ":" + old_path_).c_str(), 1);
  }
  ~FakeSlurmTools() { ::setenv("PATH", old_path_.c_str(), 1); }
  FakeSlurmTools(const FakeSlurmTools&) = delete;
  FakeSlurmTools& operator=(const FakeSlurmTools&) = delete;

  // A command `name` running `body` under /bin/sh; every call appends its
  // arguments as one line to calls(name).
  void add(const std::string& name, const std::string& body) {
    auto path = dir_ / name;
    write_file(path, "#!/bin/sh\necho \"$*\" >> '" + (dir_ / (name + ".calls")).string() + "'\n" +
                         body + "\n");
    ::chmod(path.c_str(), 0755);
  }

  std::string calls(const std::string& name) const {
    auto path = dir_ / (name + ".calls");
    return std::filesystem::exists(path) ? read_file(path) : "";
  }

  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::string old_path_;
};

}  // namespace sqltrack::test
