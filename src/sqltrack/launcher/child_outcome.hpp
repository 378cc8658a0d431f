#pragma once
// What became of the command sqltrack-run started: a plain value, so the
// database code and the tests can read it without touching processes.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sqltrack::launcher {

// A signal the wrapper received while it looked after the child.
struct ReceivedSignal {
  int signal = 0;
  // When the event loop handled it (not the kernel's delivery time).
  std::chrono::system_clock::time_point time;
  // True when kill(-pgid, signal) reached the child's process group; false
  // when the group was already gone (ESRCH), and for one typed at the terminal.
  bool forwarded = false;
  // Typed at the terminal (Ctrl-C: SIGINT, Ctrl-\: SIGQUIT): the terminal sent it to the
  // child's group itself, and the wrapper learned of it (LaunchOptions::helper_program).
  bool at_terminal = false;
};

struct ChildOutcome {
  // Exactly one of exit_code, term_signal and exec_errno is set once the
  // child is reaped (exec_errno is 0 when unset).
  std::optional<int> exit_code;    // the child called exit(exit_code)
  std::optional<int> term_signal;  // a signal killed the child
  bool core_dumped = false;
  // errno of a start that failed before the command ran: ENOENT (not found,
  // also from the PATH search), EACCES (not executable), EAGAIN (fork), ...
  int exec_errno = 0;
  int wait_status = 0;  // raw status from wait4, for the record

  // Resource usage from wait4 of the direct child: the child and every
  // descendant it waited for (processes the launcher reaped are not included).
  double user_cpu_s = 0;
  double system_cpu_s = 0;
  long max_rss_kib = 0;

  std::chrono::system_clock::time_point started;   // just before fork
  std::chrono::system_clock::time_point ended;     // when the child was reaped
  std::chrono::steady_clock::duration duration{};  // monotonic, started to ended

  // Every forwarded signal and every interrupt typed at the terminal, in the order
  // handled. The outcome given to on_child_exit lists those up to the child's exit; run()
  // returns them all.
  std::vector<ReceivedSignal> signals;

  // Processes of the job (its process group, or orphans reparented to the
  // wrapper) were still alive when the child exited, and the launcher
  // terminated them; leftovers_killed when some needed SIGKILL after the grace.
  bool leftovers = false;
  bool leftovers_killed = false;

  // The wrapper's own exit status, as a shell reports a command's: the exit
  // code, 128 + signal, 127 for a command not found, 126 for one that could
  // not be executed; 1 when nothing was recorded (the child was never reaped).
  int wrapper_exit_code() const;

  // One line for humans: "exited with code 3", "killed by signal 11 (SIGSEGV),
  // core dumped", "command not found (No such file or directory)".
  std::string summary() const;
};

}  // namespace sqltrack::launcher
