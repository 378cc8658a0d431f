#pragma once
// The run queue: commands stored as PENDING runs of an experiment (`sqltrack enqueue`),
// claimed one at a time by workers (`sqltrack-run --next`), each claim atomic — on PostgreSQL
// SELECT ... FOR UPDATE SKIP LOCKED, on SQLite an immediate transaction — so no run is run
// twice however many workers ask at once. A run whose worker died (its heartbeat stopped)
// goes back to the queue a bounded number of times, then ends FAILED.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sqltrack/db/database.hpp"
#include "sqltrack/store/store.hpp"

namespace sqltrack {

struct QueueRequest {
  std::string experiment;
  std::optional<std::string> comment;
  nlohmann::json tags = nlohmann::json::object();
  std::vector<std::vector<std::string>> commands;  // one run each, in this order
  std::vector<std::string> redact_patterns;        // the setting env_redact, split
  std::string hostname;
  std::string username;
  std::string cwd;
  Clock::time_point time = Clock::now();
};

// Stores one PENDING run per command, in one transaction; returns their ids in order. The
// record (runs.args) has secrets redacted (redact_args); a command that had any keeps its
// real argv in queued_commands until its run ends, for the worker that runs it.
std::vector<std::int64_t> enqueue_runs(db::Database& db, const QueueRequest& request);

// The commands of a queue file: one per line, run by /bin/sh -c; blank lines and lines
// starting with # are skipped. A line that could not be stored as it is (a NUL byte, bytes
// that are not UTF-8, longer than kLongestQueuedCommand) throws sqltrack::Error naming
// `name` and the line: nothing of the file is enqueued.
std::vector<std::vector<std::string>> parse_queue_file(std::string_view text,
                                                       std::string_view name = "queue file");

inline constexpr std::size_t kLongestQueuedCommand = 64 * 1024;
inline constexpr std::size_t kLargestQueueFile = 64 * 1024 * 1024;

// Reads and parses a queue file: a regular file or a pipe of at most kLargestQueueFile bytes.
std::vector<std::vector<std::string>> read_queue_file(const std::filesystem::path& path);

// Throws sqltrack::Error when `command` (the `number`th of a request) could not be stored as it
// is: an argument with a NUL byte or bytes that are not UTF-8, or longer than
// kLongestQueuedCommand in all.
void check_queued_command(const std::vector<std::string>& command, std::size_t number);

struct ClaimedRun {
  std::int64_t run_id = 0;
  std::vector<std::string> command;
  int attempt = 1;
  bool from_queued_commands = false;  // its record is redacted; the real argv waits there
};

// Claims the oldest PENDING queued run of the experiment, with its real command: RUNNING from now
// on with the worker's heartbeat interval, attempt counted, a history row naming `worker`. nullopt
// when the queue is empty. A stored command that is not a list of strings ends its run FAILED and
// the next one is claimed.
std::optional<ClaimedRun> claim_next_run(db::Database& db, std::string_view experiment,
                                         std::string_view worker, double heartbeat_seconds);

struct RequeuedRun {
  std::int64_t run_id = 0;
  int attempts = 0;
  RunStatus status = RunStatus::PENDING;  // PENDING again, or FAILED after max_attempts
  std::string detail;
};

// Queued runs still RUNNING whose heartbeat is older than three intervals: their worker is
// gone. Back to PENDING while they have had fewer than `max_attempts` claims, else FAILED.
std::vector<RequeuedRun> requeue_stale_runs(db::Database& db,
                                            const std::optional<std::string>& experiment,
                                            int max_attempts, Clock::time_point now = Clock::now());

// Deletes the real command a queued run with secrets kept in queued_commands.
void forget_queued_command(db::Database& db, std::int64_t run_id);

// Once a queued run has ended, its real command is needed no more: only the record stays.
void forget_command_of_ended_run(db::Database& db, std::int64_t run_id);

}  // namespace sqltrack
