#pragma once
// `sqltrack slurm-sync`: runs whose wrapper could not say how they ended
// (killed with the job, node lost, job cancelled while pending) get the state
// Slurm reports. Safe to run from an epilog on every node and from cron at the
// same time: each write is a compare-and-set on the status it read, so a run
// changes once, and a terminal status is never overwritten.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/slurm/slurm_job_state.hpp"
#include "sqltrack/store/run_status.hpp"

namespace sqltrack {

// "12" (the job, or every task of array 12) or "12_3" (one array task).
struct SlurmJobLabel {
  std::int64_t job_id = 0;
  std::optional<std::int64_t> array_task_id;
};
std::optional<SlurmJobLabel> parse_slurm_job_label(std::string_view text);

// "90" or "90s", "15m", "2h", "7d". nullopt for anything else.
std::optional<std::chrono::seconds> parse_sync_duration(std::string_view text);

// What Slurm says about one job, or why it cannot say.
struct SlurmLookup {
  enum class Kind { found, unknown, error };
  Kind kind = Kind::error;
  SlurmJobState state;  // when found
  std::string source;   // "scontrol" or "sacct"
  std::string message;  // when not found: what the command said
};

// Job label ("12", "12_3") → lookup, for every label asked.
using SlurmJobLookup =
    std::function<std::map<std::string, SlurmLookup>(const std::vector<std::string>& labels)>;

// Asks Slurm's commands, each with `timeout`: `scontrol show job -o LABEL` per
// job (one `scontrol show job -o` for all jobs when there are many); for a job
// scontrol no longer knows (gone after MinJobAge), `sacct` when the cluster
// has accounting.
std::map<std::string, SlurmLookup> lookup_slurm_jobs(const std::vector<std::string>& labels,
                                                     std::chrono::milliseconds timeout);

// What the reconciler writes for a run in `current` status (started at
// `run_restart_count`) when Slurm reports `state`: nothing while the job is
// pending or running; REQUEUED for a RUNNING run whose job went back to the
// queue (Restarts grew); Slurm's final state, with its exit code, once it has
// one.
struct SyncDecision {
  std::optional<RunStatus> status;  // nullopt: leave the run as it is
  std::string detail;               // for the history, or why the run is left
  std::optional<int> exit_code;     // from Slurm's ExitCode "code:signal"
  std::optional<int> signal;
};
SyncDecision decide_sync(RunStatus current, int run_restart_count, const SlurmJobState& state);

struct SlurmSyncOptions {
  std::optional<std::string> job;             // only this job ("12" or "12_3")
  std::optional<std::chrono::seconds> since;  // only runs updated (or created) this recently
  std::chrono::milliseconds timeout{10000};   // per Slurm command
  // While Slurm still says COMPLETING (as during the job's epilog), ask again
  // every second for this long.
  std::chrono::seconds wait{0};
};

struct SyncedRun {
  enum class Action {
    written,  // the status changed
    left,     // Slurm says the job is still pending or running (or nothing new)
    unknown,  // Slurm no longer knows the job
    error,    // Slurm could not be asked
    raced,    // another writer changed the run first
  };
  std::int64_t run_id = 0;
  std::string job;  // the label asked for
  RunStatus before = RunStatus::RUNNING;
  std::optional<RunStatus> after;
  Action action = Action::left;
  std::string detail;
};

// Every run that is not terminal and has a Slurm job id (filtered by options),
// in id order, with what was done. Throws sqltrack::UsageError for a bad job
// label; Slurm's own trouble is reported per run (Action::error).
std::vector<SyncedRun> slurm_sync(db::Database& db, const SlurmSyncOptions& options,
                                  const SlurmJobLookup& lookup);
std::vector<SyncedRun> slurm_sync(db::Database& db, const SlurmSyncOptions& options);

}  // namespace sqltrack
