#pragma once
// The 24 run states of sqltrack 0.1.3's `runstatus` enum (Slurm's job state
// codes), in the enum's order (as schema/postgres/0001_base.sql creates it).

#include <array>
#include <optional>
#include <string_view>

namespace sqltrack {

enum class RunStatus {
  BOOT_FAIL,
  CANCELLED,
  CONFIGURING,
  COMPLETED,
  COMPLETING,
  DEADLINE,
  FAILED,
  NODE_FAIL,
  OUT_OF_MEMORY,
  PENDING,
  PREEMPTED,
  RESV_DEL_HOLD,
  REQUEUE_FED,
  REQUEUE_HOLD,
  REQUEUED,
  RESIZING,
  REVOKED,
  RUNNING,
  SIGNALING,
  SPECIAL_EXIT,
  STAGE_OUT,
  STOPPED,
  SUSPENDED,
  TIMEOUT,
};

inline constexpr std::array<std::string_view, 24> kRunStatusNames{
    "BOOT_FAIL",   "CANCELLED",    "CONFIGURING",   "COMPLETED", "COMPLETING", "DEADLINE",
    "FAILED",      "NODE_FAIL",    "OUT_OF_MEMORY", "PENDING",   "PREEMPTED",  "RESV_DEL_HOLD",
    "REQUEUE_FED", "REQUEUE_HOLD", "REQUEUED",      "RESIZING",  "REVOKED",    "RUNNING",
    "SIGNALING",   "SPECIAL_EXIT", "STAGE_OUT",     "STOPPED",   "SUSPENDED",  "TIMEOUT",
};

constexpr std::string_view to_string(RunStatus status) noexcept {
  return kRunStatusNames[static_cast<std::size_t>(status)];
}

constexpr std::optional<RunStatus> parse_run_status(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kRunStatusNames.size(); ++i) {
    if (kRunStatusNames[i] == name) return static_cast<RunStatus>(i);
  }
  return std::nullopt;
}

// A terminal state is written once and never overwritten by a later writer.
// REQUEUED is not terminal: the same run goes back to RUNNING.
constexpr bool is_terminal(RunStatus status) noexcept {
  switch (status) {
    case RunStatus::BOOT_FAIL:
    case RunStatus::CANCELLED:
    case RunStatus::COMPLETED:
    case RunStatus::DEADLINE:
    case RunStatus::FAILED:
    case RunStatus::NODE_FAIL:
    case RunStatus::OUT_OF_MEMORY:
    case RunStatus::PREEMPTED:
    case RunStatus::REVOKED:
    case RunStatus::SPECIAL_EXIT:
    case RunStatus::TIMEOUT:
      return true;
    default:
      return false;
  }
}

}  // namespace sqltrack
