#pragma once
// Starting the child with Boost.Process v2: PATH search, and the setup that
// runs in the vforked child before exec. Internal to the launcher.

#include <signal.h>
#include <sys/types.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace sqltrack::launcher::detail {

struct ResolvedCommand {
  std::string path;  // what to exec; empty when error is set
  int error = 0;     // ENOENT when nothing was found
};

// Resolves a command name like execvp: a name with '/' is used as is;
// otherwise the first executable regular file in PATH (from `environment`,
// else a default) wins, and a file that exists but is not executable is
// returned when nothing better exists, so that exec reports EACCES.
ResolvedCommand find_executable(const std::string& name,
                                const std::vector<std::string>& environment);

struct SpawnRequest {
  std::vector<std::string> argv;
  std::vector<std::string> environment;
  std::vector<std::pair<int, int>> inherit_fds;  // {wrapper fd, child fd}
  // Make the child's new process group the foreground group of stdin's terminal.
  bool take_terminal = false;
  // Signals the child starts with ignored; all others start at their default
  // action. Index: signal number.
  std::array<bool, NSIG> ignored{};
};

struct SpawnResult {
  pid_t pid = -1;  // the running child, leader of its own process group; -1 on failure
  int error = 0;   // errno of the failed start (PATH search, fork or exec)
};

// vforks and execs with every signal (but the synchronous faults) blocked in
// the wrapper meanwhile; returns once the exec succeeded or failed. A child
// whose exec failed has been reaped when this returns.
SpawnResult spawn(const SpawnRequest& request);

// Starts `path` (argv: a null-terminated array) detached from the caller: not its child (a
// short-lived middle process ends at once, so init or the nearest subreaper above adopts
// it) and in a session of its own, so that neither the caller's death nor a signal to the
// caller's process group reaches it. Its stdin is `stdin_fd`, stdout /dev/null, stderr the
// caller's; no other descriptor and an empty environment. Costs two vfork-like clones, no
// copy of the caller's memory. Returns once the exec succeeded or failed.
SpawnResult spawn_detached(const char* path, char* const argv[], int stdin_fd);

}  // namespace sqltrack::launcher::detail
