#pragma once
// The writes the wrapper makes about a run while its command runs, as values: so each can be
// written now, or kept in the run's journal and written later with its original time.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "sqltrack/store/store.hpp"
#include "sqltrack/util/error.hpp"

namespace sqltrack {

struct HeartbeatEvent {
  Clock::time_point time = Clock::now();
};

// A history row that does not change the status (a signal received, a Slurm warning).
struct HistoryEvent {
  RunStatus status = RunStatus::RUNNING;
  std::string detail;
  Clock::time_point time = Clock::now();
};

// A status change, subject to the write-once rule for terminal states.
struct StatusEvent {
  RunStatus status = RunStatus::RUNNING;
  std::string detail;
  Clock::time_point time = Clock::now();
};

// How the command ended: the final status and the facts of the end.
struct FinishEvent {
  RunStatus status = RunStatus::COMPLETED;
  std::string detail;
  RunEnd end;
};

using RunEvent = std::variant<HeartbeatEvent, HistoryEvent, StatusEvent, FinishEvent>;

// Writes the event. `replay`: the event may have been written before (a journal replayed
// twice), so history rows that are already there are not added again.
void apply_run_event(RunStore& store, std::int64_t run_id, const RunEvent& event, bool replay);

// `value` as an Int when it is a JSON whole number that fits Int; Error naming `key` otherwise
// (a float such as 5.5e113 or 1.5 is none: converting it would be undefined or lose a part).
template <class Int>
Int integer_from_json(const nlohmann::json& value, std::string_view key) {
  if (value.is_number_unsigned()) {
    const auto number = value.get<std::uint64_t>();
    if (std::in_range<Int>(number)) return static_cast<Int>(number);
  } else if (value.is_number_integer()) {
    const auto number = value.get<std::int64_t>();
    if (std::in_range<Int>(number)) return static_cast<Int>(number);
  }
  throw Error("malformed record: '" + std::string(key) + "' is not a whole number in range");
}

nlohmann::json run_event_to_json(const RunEvent& event);
// Throws sqltrack::Error when the JSON is not an event.
RunEvent run_event_from_json(const nlohmann::json& json);

nlohmann::json run_start_to_json(const RunStart& start);
RunStart run_start_from_json(const nlohmann::json& json);

}  // namespace sqltrack
