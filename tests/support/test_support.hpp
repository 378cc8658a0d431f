#pragma once
// Helpers shared by the test groups: temporary directories and running real
// processes with their output captured.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
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
// One word for a POSIX shell: 'text' with embedded quotes escaped.
std::string shell_quote(const std::string& text);
// argv as one shell command line.
std::string shell_command(const std::vector<std::string>& argv);
void write_file(const std::filesystem::path& path, const std::string& text);

// The value of an environment variable, or a test failure naming it.
std::string required_env(const char* name);

// A local user of the tests besides root, made when missing (`useradd --system`): the suite
// runs as root, as CI does, and a test of what one user may do to another needs one.
struct LocalUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};
LocalUser local_user(const std::string& name);

// A local group of the tests, made when missing (`groupadd --system`).
gid_t local_group(const std::string& name);

// argv run as `user`, with the user's group and `groups` besides, no others (setpriv).
std::vector<std::string> as_user(const LocalUser& user, std::vector<std::string> argv,
                                 const std::vector<gid_t>& groups = {});

// The reject file of run `run` ("12", or "pid4711") in `dir`: sqltrack-run-RUN-TAG.rejects,
// TAG naming the database. Empty when there is none; a test failure when there are several.
std::filesystem::path find_reject_file(const std::filesystem::path& dir, const std::string& run);

}  // namespace sqltrack::test

#include "sqltrack/config/config.hpp"
#include "sqltrack/db/database.hpp"

namespace sqltrack::test {

// The throwaway PostgreSQL server that scripts/start-postgres.sh started
// (SQLTRACK_TEST_PGHOST/PGPORT/PGUSER).
struct PostgresServer {
  std::string socket_dir;
  std::string port;
  std::string user;
};
PostgresServer postgres_server();

// A database of its own for one test on the test server, dropped at scope exit.
class ScratchPostgresDatabase {
 public:
  ScratchPostgresDatabase();
  ~ScratchPostgresDatabase();
  ScratchPostgresDatabase(const ScratchPostgresDatabase&) = delete;
  ScratchPostgresDatabase& operator=(const ScratchPostgresDatabase&) = delete;

  const std::string& name() const noexcept { return name_; }
  // Flags that point sqltrack and sqltrack-run at it over TCP on loopback.
  std::vector<std::string> cli_flags() const;
  Settings settings() const;
  std::unique_ptr<db::Database> connect() const;

 private:
  PostgresServer server_;
  std::string name_;
};

// One engine's database for a test that runs on both: a SQLite file in a
// temporary directory, or a scratch PostgreSQL database.
class EngineDatabase {
 public:
  explicit EngineDatabase(db::Engine engine);
  db::Engine engine() const noexcept { return engine_; }
  // The flags for the executables (for SQLite: none; run them with cwd()).
  std::vector<std::string> cli_flags() const;
  // sqltrack-run with these flags, then `flags`, then -- and the command.
  std::vector<std::string> wrapper_argv(const std::vector<std::string>& flags,
                                        const std::vector<std::string>& command) const;
  const std::filesystem::path& cwd() const noexcept { return dir_.path(); }
  Settings settings() const;
  std::unique_ptr<db::Database> connect() const;

 private:
  db::Engine engine_;
  TempDir dir_;
  std::unique_ptr<ScratchPostgresDatabase> postgres_;
};

// Names the instances of a test parameterized on the engine "sqlite" and "postgres".
struct EngineParamName {
  template <class ParamInfo>
  std::string operator()(const ParamInfo& param_info) const {
    return std::string(db::engine_name(param_info.param));
  }
};

}  // namespace sqltrack::test

namespace sqltrack::test {

// A pseudo-terminal for one test: the test types on the master side; a process gets the
// slave device as its controlling terminal (BackgroundProcess). `slave` is empty when the
// system has none to give.
struct PseudoTerminal {
  PseudoTerminal();
  ~PseudoTerminal();
  PseudoTerminal(const PseudoTerminal&) = delete;
  PseudoTerminal& operator=(const PseudoTerminal&) = delete;
  // Writes `keys` as typed; false when they could not all be written.
  bool type(const std::string& keys) const;
  // The terminal's foreground process group.
  pid_t foreground() const;
  int master = -1;
  std::string slave;
};

// A process started in the background, for tests that signal it while it runs.
// Its stdout and stderr go to files in a temporary directory.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const CommandOptions& options = {});
  // With a pseudo-terminal's slave device: the process leads a new session with it as its
  // controlling terminal and stdin, as a job in the foreground of a login shell (stdout and
  // stderr still go to files).
  BackgroundProcess(const std::vector<std::string>& argv, const CommandOptions& options,
                    const std::string& controlling_terminal);
  ~BackgroundProcess();  // SIGKILLs and reaps it if it still runs
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  int pid() const noexcept { return pid_; }
  void signal(int sig) const;
  // Waits for the exit; the status as a shell reports it (code, or 128 + signal).
  // Returns -1 when it has not exited within the timeout.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  std::string out() const;
  std::string err() const;

 private:
  TempDir dir_;
  int pid_ = -1;
  bool reaped_ = false;
};

// Polls until predicate() is true or the timeout passes; returns the last result.
bool wait_until(const std::function<bool()>& predicate,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Whether a process with this pid exists (and is not a zombie).
bool process_alive(int pid);

}  // namespace sqltrack::test
