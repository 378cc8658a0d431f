#pragma once
// The run queue: commands stored as PENDING runs of an experiment (`sqltrack enqueue`),
// claimed one at a time by workers (`sqltrack-run --next`), each claim atomic — on PostgreSQL
// SELECT ... FOR UPDATE SKIP LOCKED, on SQLite an immediate transaction — so no run is run
// twice however many workers ask at once. A run whose worker died (its heartbeat stopped)
// goes back to the queue a bounded number of times, then ends FAILED.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sqltrack/config.hpp"
#include "sqltrack/db/database.hpp"
#include "sqltrack/environment.hpp"
#include "sqltrack/run_session.hpp"
#include "sqltrack/store.hpp"

namespace sqltrack {

struct QueueRequest {
  std::string experiment;
  std::optional<std::string> comment;
  nlohmann::json tags = nlohmann::json::object();
  std::vector<std::vector<std::string>> commands;  // one run each, in this order
  std::string hostname;
  std::string username;
  std::string cwd;
  Clock::time_point time = Clock::now();
};

// Stores one PENDING run per command, in one transaction; returns their ids in order.
std::vector<std::int64_t> enqueue_runs(db::Database& db, const QueueRequest& request);

// The commands of a queue file: one per line, run by /bin/sh -c; blank lines and lines
// starting with # are skipped.
std::vector<std::vector<std::string>> parse_queue_file(std::string_view text);

struct ClaimedRun {
  std::int64_t run_id = 0;
  std::vector<std::string> command;
  int attempt = 1;
};

// Claims the oldest PENDING queued run of the experiment: RUNNING from now on with the
// worker's heartbeat interval, attempt counted, a history row naming `worker`. nullopt when
// the queue is empty. A stored command that is not a list of strings ends its run FAILED and
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

// `sqltrack-run --next`: claims a run of `options.experiment` and runs its command with the
// whole wrapper (run_wrapped); with `loop`, again until the queue is empty or the worker is
// told to stop. Returns 0 for an empty queue, else the last run's exit status (with `loop`:
// 0 when every run exited 0, else the status of the last one that did not).
int run_queued(const WrapOptions& options, const Settings& settings, const Environment& env,
               bool loop);

}  // namespace sqltrack
