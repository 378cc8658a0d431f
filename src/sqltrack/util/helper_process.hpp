#pragma once
// Running Slurm's command-line tools (scontrol, squeue, sbatch) as helper
// processes: output captured, a deadline enforced, the caller's event loop
// never blocked.
//
// Helpers stay in the caller's process group (the launcher leaves those
// alone) and are reaped here, through a pidfd: never by a wait for any child.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace sqltrack {

struct HelperOutput {
  bool started = false;    // false: not found or not executable (error says why)
  bool timed_out = false;  // killed with SIGKILL at the deadline
  int exit_code = -1;      // when it exited
  int term_signal = 0;     // when a signal ended it (not ours)
  std::string out;
  std::string err;
  std::string error;  // why it did not start

  bool succeeded() const noexcept { return started && !timed_out && exit_code == 0; }
  // One line for messages: "exit 1: Invalid job id specified", "timed out after 3 s",
  // "killed by signal 15", "scontrol: not found in PATH".
  std::string describe() const;
};

using HelperDone = std::function<void(HelperOutput)>;

// Starts argv (argv[0] without '/' is searched in this process's PATH) with
// this process's environment and stdin from /dev/null. `done` is called once,
// from a handler on io (never from inside this call): after the helper exited
// and its output was read, or at the deadline, when it is SIGKILLed (and
// reaped later, without blocking).
void async_run_helper(boost::asio::io_context& io, std::vector<std::string> argv,
                      std::chrono::milliseconds timeout, HelperDone done);

// The same, waiting for it on an io_context of its own: for the CLI.
HelperOutput run_helper(std::vector<std::string> argv, std::chrono::milliseconds timeout);

}  // namespace sqltrack
