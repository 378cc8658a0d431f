#pragma once
// The run status that follows from how the command ended, outside Slurm.

#include <string>

#include "sqltrack/launcher/child_outcome.hpp"
#include "sqltrack/store/run_status.hpp"

namespace sqltrack {

struct FinalStatus {
  RunStatus status;
  std::string detail;  // for the status history, e.g. "SIGTERM received; exited with code 0"
};

// exit 0 → COMPLETED; non-zero exit, death by signal or failure to start →
// FAILED; any exit after the wrapper received SIGINT, SIGTERM or SIGHUP, or
// after a Ctrl-C or Ctrl-\ at the terminal → CANCELLED (someone asked the
// job to stop), whatever the command then did.
FinalStatus final_status(const launcher::ChildOutcome& outcome);

// "interrupted at the terminal (Ctrl-C)", or "(Ctrl-\)" for SIGQUIT.
std::string interrupted_at_terminal(int signal);

}  // namespace sqltrack
