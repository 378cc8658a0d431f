#include "sqltrack/wrapper/run_outcome.hpp"

#include <csignal>
#include <cstring>

namespace sqltrack {

std::string interrupted_at_terminal(int signal) {
  return signal == SIGQUIT ? "interrupted at the terminal (Ctrl-\\)"
                           : "interrupted at the terminal (Ctrl-C)";
}

FinalStatus final_status(const launcher::ChildOutcome& outcome) {
  for (const auto& received : outcome.signals) {
    if (received.time > outcome.ended) break;
    if (received.at_terminal) {
      return {RunStatus::CANCELLED,
              interrupted_at_terminal(received.signal) + "; " + outcome.summary()};
    }
    if (received.signal == SIGINT || received.signal == SIGTERM || received.signal == SIGHUP) {
      return {RunStatus::CANCELLED, std::string("SIG") + sigabbrev_np(received.signal) +
                                        " received; " + outcome.summary()};
    }
  }
  if (outcome.exit_code == 0) return {RunStatus::COMPLETED, outcome.summary()};
  return {RunStatus::FAILED, outcome.summary()};
}

}  // namespace sqltrack
