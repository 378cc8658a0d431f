#pragma once
// Tidying runs after the fact: removing them with every row kept about them (`sqltrack rm`) and
// changing what a user wrote about them, the comment and the tags (`sqltrack edit`).

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sqltrack/db/database.hpp"

namespace sqltrack {

// A run as `rm` names it before removing it.
struct RunToRemove {
  std::int64_t id = 0;
  std::string status;  // as stored
};

// The runs of these ids, in the order given. Throws Error naming the first id without a run.
std::vector<RunToRemove> find_runs_to_remove(db::Database& db, std::span<const std::int64_t> ids);

// Whether a run of this status is removed only when forced: a run that has not ended (RUNNING,
// PENDING in the queue or for a Slurm job, REQUEUED, ...) may still be claimed or written to.
bool removal_needs_force(std::string_view status);

// Why these runs are not removed without force: "run 3 (RUNNING) has not ended; ..." naming
// each run that removal_needs_force holds back; empty when there is none.
std::string unended_runs_message(const std::vector<RunToRemove>& runs);

// What remove_runs deleted, per table.
struct RemovedRows {
  std::size_t runs = 0;
  std::size_t metric_rows = 0;       // metrics
  std::size_t status_changes = 0;    // run_status_history
  std::size_t resource_samples = 0;  // run_resources
  std::size_t relationships = 0;     // run_relationships, from or to a removed run
  std::size_t queued_commands = 0;   // queued_commands
};

// Deletes the runs and every row keyed by their ids (the tables above), in one transaction.
// Deletes nothing and throws Error for an id without a run and, unless `force`, for a run that
// has not ended (checked again inside the transaction: a queued run may be claimed meanwhile).
RemovedRows remove_runs(db::Database& db, std::span<const std::int64_t> ids, bool force);

// What `edit` changes; what it leaves out stays as it is.
struct RunEdit {
  std::int64_t run_id = 0;
  std::optional<std::string> comment;           // an empty text removes the comment (NULL)
  std::map<std::string, std::string> set_tags;  // added, or overwriting the key's value
  std::vector<std::string> remove_tags;         // keys removed; absent keys are no error
};

struct EditedRun {
  std::optional<std::string> comment;
  nlohmann::json tags = nlohmann::json::object();
};

// UsageError for an edit that changes nothing or sets and removes the same tag.
void check_run_edit(const RunEdit& edit);

// Applies the edit with one UPDATE and returns the run's comment and tags after it. Tags that
// are not a JSON object (NULL) count as none. Throws as check_run_edit, and Error for a run
// that does not exist.
EditedRun edit_run(db::Database& db, const RunEdit& edit);

}  // namespace sqltrack
