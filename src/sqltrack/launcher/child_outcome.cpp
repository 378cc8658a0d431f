#include "sqltrack/launcher/child_outcome.hpp"

#include <cerrno>
#include <cstring>

namespace sqltrack::launcher {

int ChildOutcome::wrapper_exit_code() const {
  // Like a shell (and tini): ENOENT means "not found", anything else that
  // stopped the exec means "found but cannot run it".
  if (exec_errno != 0) return exec_errno == ENOENT ? 127 : 126;
  if (term_signal) return 128 + *term_signal;
  if (exit_code) return *exit_code;
  return 1;
}

std::string ChildOutcome::summary() const {
  if (exec_errno != 0) {
    const char* what = exec_errno == ENOENT ? "command not found" : "command could not be executed";
    return std::string(what) + " (" + std::strerror(exec_errno) + ")";
  }
  if (term_signal) {
    const char* abbrev = sigabbrev_np(*term_signal);
    std::string text = "killed by signal " + std::to_string(*term_signal);
    if (abbrev != nullptr) text += std::string(" (SIG") + abbrev + ")";
    if (core_dumped) text += ", core dumped";
    return text;
  }
  if (exit_code) return "exited with code " + std::to_string(*exit_code);
  return "no outcome recorded";
}

}  // namespace sqltrack::launcher
