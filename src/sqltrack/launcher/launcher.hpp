#pragma once
// The process-and-signal core of sqltrack-run: start the command in its own
// process group, forward the wrapper's signals to that group, reap the child,
// and make sure nothing of the job outlives the wrapper.
//
// Integration with the caller's event loop (single-threaded io_context):
//  * Register timers (heartbeat, flush, Slurm poll) and readers (the metrics
//    FIFO) on the same io_context before calling run(); they run while the
//    child runs. run() drives the loop with run_one() until the child and its
//    group are gone and then returns, whatever foreign work is still pending,
//    so a repeating timer never keeps it alive. Stop such timers from
//    on_child_exit (or after run() returns); to drain a reader after the
//    child exits, run the io_context again after run() (io.restart(); io.run()).
//  * io.stop() from a handler does not end run() early: the child is never
//    abandoned. Exceptions escaping any handler (the hooks below included)
//    are reported on stderr as "sqltrack-run: warning: ..." and the loop
//    goes on, for the same reason.
//  * Signals are handled on the loop, so a handler that blocks (a slow
//    database call) delays the forwarding of signals that arrive meanwhile;
//    keep handlers short. boost::asio installs its handlers without
//    SA_RESTART: blocking system calls in handlers may fail with EINTR.
//  * The launcher reaps only processes of the job: members of the child's
//    process group and orphans reparented to the wrapper (it is a child
//    subreaper) that are not in the wrapper's own process group. Helper
//    processes the caller starts (scontrol) stay in the wrapper's group by
//    default, and the caller waits for them itself.
//  * Process-wide effects of run(), kept until the process exits: SIGPIPE is
//    ignored (SIGTTOU too when stdin is the controlling terminal), and the
//    forwarded signals stay caught while the Launcher lives (so a late SIGTERM
//    does not kill the wrapper while it writes the final status). The wrapper
//    is a child subreaper while the job runs, until run() returns.

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sqltrack/launcher/child_outcome.hpp"

namespace boost::asio {
class io_context;
}

namespace sqltrack::launcher {

class JobGuard;

// sqltrack-run runs the launcher's helper processes from its own executable: as
// `sqltrack-run --job-guard` the job guard (job_guard.hpp), as
// `sqltrack-run --terminal-sentinel SIGNALS` the terminal sentinel (see LaunchOptions).
inline constexpr std::string_view kJobGuardFlag = "--job-guard";
inline constexpr std::string_view kTerminalSentinelFlag = "--terminal-sentinel";

// main() calls this first: when argv asks for a helper, runs it and returns its exit status.
std::optional<int> run_helper(int argc, char** argv);

// Signals the wrapper forwards to the child's process group. For SIGTERM,
// SIGINT, SIGHUP and SIGQUIT a SIGCONT follows, so a stopped job still sees them.
// One that is ignored when run() starts (nohup, `cmd &` in a script) stays
// ignored: not caught, not forwarded, and ignored by the child too.
inline constexpr int kForwardedSignals[] = {SIGTERM, SIGINT,  SIGHUP,  SIGQUIT, SIGUSR1,
                                            SIGUSR2, SIGCONT, SIGALRM, SIGXCPU};

struct LaunchOptions {
  // The command. argv[0] without a '/' is searched in the PATH of
  // `environment` (or /usr/local/bin:/usr/bin:/bin when it has none).
  std::vector<std::string> argv;
  // The child's complete environment, "KEY=VALUE" entries.
  std::vector<std::string> environment;
  // Extra descriptors the child gets: {fd in the wrapper, fd number in the
  // child}. stdin, stdout and stderr are always inherited untouched; every
  // other descriptor is closed in the child. The wrapper keeps its copies
  // (close the write end of a pipe in on_start to see EOF when the child exits).
  std::vector<std::pair<int, int>> inherit_fds;
  // After the child exits, what is left of the job (its process group,
  // orphans reparented to the wrapper) gets SIGTERM, then SIGKILL once this
  // has passed.
  std::chrono::milliseconds kill_grace{5000};
  // When stdin is the wrapper's controlling terminal and the wrapper is in
  // the foreground, hand the terminal to the child's group while it runs (so
  // it can read the terminal and gets Ctrl-C directly), and take it back
  // when it exits. Ctrl-Z stops the child and then the wrapper's group, so
  // the shell's fg and bg work as for any job.
  bool manage_terminal = true;
  // sqltrack-run's executable (e.g. /proc/self/exe), which runs the launcher's helpers
  // (run_helper). With a managed terminal, a sentinel from it sits in the child's process
  // group and reports Ctrl-C and Ctrl-\ typed at the terminal (on_terminal_interrupt),
  // which reach that group and never the wrapper. Empty: no sentinel, and such keys go
  // unnoticed.
  std::string helper_program;
  // Told of the job's process group once the child started, and when the job is gone, so
  // that it ends the job should the wrapper be killed. Not owned; may be null.
  JobGuard* guard = nullptr;

  // Hooks, called on the io_context's thread. Exceptions are caught and
  // reported on stderr.
  // Once the command runs (exec succeeded); not called when it failed to start.
  std::function<void(pid_t pid)> on_start;
  // Before on_start, when the terminal sentinel joined the child's process group: a
  // process of the wrapper's, not of the job.
  std::function<void(pid_t sentinel)> on_sentinel_start;
  // After each forwarded signal has been sent to the child's group.
  std::function<void(int signal)> on_signal;
  // SIGINT (Ctrl-C) or SIGQUIT (Ctrl-\) typed at the terminal while the child's group had
  // it: the terminal sent it to that group itself, so it is not forwarded. Called at the
  // latest as the child's exit is handled, before on_child_exit.
  std::function<void(int signal)> on_terminal_interrupt;
  // Once, when the direct child is reaped (or failed to start), before the
  // rest of its group has been cleaned up; run() returns after that.
  std::function<void(const ChildOutcome&)> on_child_exit;
};

class Launcher {
 public:
  // Nothing starts before run(); io must outlive the Launcher.
  Launcher(boost::asio::io_context& io, LaunchOptions options);
  ~Launcher();
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;

  // Starts the command and drives io until the child and every process of
  // its group (and reparented orphans) are gone; returns what happened. A
  // command that cannot be started is reported in the outcome (exec_errno),
  // not thrown. Throws sqltrack::Error, before anything starts, for an empty
  // argv, a closed fd in inherit_fds, or a second call. Must not be called
  // from inside a handler of io.
  ChildOutcome run();

  // PID of the child, which is also its process group id. -1 before it
  // started and once it has been reaped.
  pid_t pid() const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the pending asio handlers
};

}  // namespace sqltrack::launcher
