#pragma once
// Experiments, runs and status changes: every write the wrapper makes about a
// run, the same on both engines.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sqltrack/db/database.hpp"
#include "sqltrack/store/run_status.hpp"

namespace sqltrack {

using Clock = std::chrono::system_clock;

// Facts known when the wrapper starts a run.
//
// Which run the wrapper takes, in this order:
//  1. existing_run_id (--run-id): that run; a terminal one only when it is this
//     job's run from an earlier restart (see 2);
//  2. inside a requeued job (slurm_restart_count > 0): the newest run of the same
//     job (slurm_job_id, slurm_array_task_id, slurm_cluster) with a lower
//     restart count, whatever its status: it goes back to RUNNING;
//  3. inside a job made by `sqltrack submit`: its PENDING run (same slurm_job_id,
//     or same slurm_array_job_id and slurm_array_task_id);
//  4. otherwise a new run.
// start_run_once also returns, as it is, a run whose client_id is already in the
// database (a journal replayed again).
struct RunStart {
  std::string experiment;
  std::optional<std::int64_t> existing_run_id;  // --run-id: attach instead of create
  std::optional<std::string> comment;
  nlohmann::json tags = nlohmann::json::object();
  nlohmann::json args = nlohmann::json::array();
  nlohmann::json env = nlohmann::json::object();
  std::string hostname;
  std::string username;
  long pid = 0;
  std::string cwd;
  double heartbeat_seconds = 30;
  std::optional<std::int64_t> slurm_job_id;
  std::optional<std::int64_t> slurm_array_job_id;
  std::optional<std::int64_t> slurm_array_task_id;
  std::optional<int> slurm_restart_count;
  std::optional<std::string> slurm_job_name;
  std::optional<std::string> slurm_cluster;
  std::optional<std::string> slurm_nodelist;
  std::optional<std::string> slurm_partition;
  // runs.git: the commit, branch, origin (and dirty) of the git work tree the command starts
  // in; null outside one or with capture_git = off.
  nlohmann::json git;
  // Made by the wrapper before it reaches the database (a UUID), so a run started while the
  // database is away is created once when its journal is replayed, however often.
  std::string client_id;
  Clock::time_point time = Clock::now();
};

// Whether a run's heartbeat at `updated` is late at `now`: older than three of its intervals
// (30 s when it has none recorded) and than `at_least`. Its wrapper is then most likely gone:
// status shows it stale, requeue-stale and mark-stale act on it.
bool heartbeat_overdue(Clock::time_point updated, std::optional<double> interval_seconds,
                       Clock::time_point now, std::chrono::duration<double> at_least = {});

struct RunIds {
  std::int64_t run_id = 0;
  std::int64_t experiment_id = 0;
};

// A queued job as `sqltrack submit` learns it from Slurm: a plain job, or one
// task of an array.
struct SlurmJobRef {
  std::int64_t job_id = 0;                    // the job, or the array's job id
  std::optional<std::int64_t> array_task_id;  // set for a task of array job_id
};

// Facts known when `sqltrack submit` queues a job, before anything runs.
struct RunSubmission {
  std::string experiment;
  std::optional<std::string> comment;
  nlohmann::json tags = nlohmann::json::object();
  nlohmann::json args = nlohmann::json::array();  // the sbatch command line
  std::string hostname;
  std::string username;
  std::string cwd;
  Clock::time_point time = Clock::now();
};

// Facts known when the command has ended.
struct RunEnd {
  Clock::time_point time = Clock::now();
  std::optional<int> exit_code;
  std::optional<int> signal;
  bool core_dumped = false;
  double wall_seconds = 0;
  double cpu_user_seconds = 0;
  double cpu_system_seconds = 0;
  long max_rss_kib = 0;
  // Metric lines the wrapper could not store (kept in the reject file) by the time it ended.
  std::int64_t rejected_lines = 0;
};

class RunStore {
 public:
  explicit RunStore(db::Database& db) : db_(db) {}

  // For writes that live next to the store (resource samples, journal replay).
  db::Database& database() const noexcept { return db_; }

  // The experiment's id, creating it if missing. Safe when many wrappers
  // start at once with the same new name: one row, no unique-violation errors.
  std::int64_t ensure_experiment(std::string_view name);

  // Creates the run, or takes over an existing one (see RunStart), as RUNNING
  // with time_started, and appends the change to the status history ("started",
  // "attached", "requeued, restart N", "attached to the run submitted as Slurm
  // job 12"). A run taken over keeps its experiment and comment; its tags are
  // merged (the wrapper's win). Throws sqltrack::Error when the run to attach to
  // is missing or already ended. start.client_id must be new to the database.
  RunIds start_run(const RunStart& start);

  // start_run for a start that may have been stored before (journal replay): the
  // run with start.client_id when there is one, else a new start.
  RunIds start_run_once(const RunStart& start);

  // One PENDING run per job (per array task), in one transaction, each with its
  // Slurm ids and a history row "submitted as Slurm job 12_3". Returns the run
  // ids in the order of jobs.
  std::vector<std::int64_t> create_submitted_runs(const RunSubmission& submission,
                                                  std::span<const SlurmJobRef> jobs);

  // The reconciler's write: `status` only while the run still has `expected`
  // (so two reconcilers at once write it once, and never over a terminal
  // status). With it, Slurm's exit code and signal where the run has none, and
  // time_ended for a terminal status. Returns whether it was written.
  bool reconcile_status(std::int64_t run_id, RunStatus expected, RunStatus status,
                        std::string_view detail, std::optional<int> exit_code,
                        std::optional<int> signal, Clock::time_point time = Clock::now());

  // Writes a status change unless the run already has a terminal status
  // (terminal states are written once). Returns whether it was written; the
  // history row is appended only then.
  bool set_status(std::int64_t run_id, RunStatus status, std::string_view detail,
                  Clock::time_point time = Clock::now());

  // Whether the run has this history row already (a journal replayed twice).
  bool has_history(std::int64_t run_id, RunStatus status, std::string_view detail,
                   Clock::time_point time);

  // A history row that does not change the status (e.g. Slurm's time-limit warning).
  void add_history(std::int64_t run_id, RunStatus status, std::string_view detail,
                   Clock::time_point time = Clock::now());

  // time_updated moves forward only: a heartbeat replayed late does not take it back.
  void heartbeat(std::int64_t run_id, Clock::time_point time = Clock::now());

  // The final status (subject to the write-once rule) and the facts of the end,
  // which are written in any case.
  bool finish_run(std::int64_t run_id, RunStatus status, std::string_view detail,
                  const RunEnd& end);

 private:
  // set_status inside a transaction the caller holds.
  bool write_status(std::int64_t run_id, RunStatus status, std::string_view detail,
                    Clock::time_point time);
  // start_run's writes, in the caller's transaction when it holds one: it takes over the run
  // a start is for (--run-id, an earlier attempt of a requeued job, a submitted job's PENDING
  // run) or inserts a new one.
  RunIds write_run_start(const RunStart& start);
  RunIds insert_run(const RunStart& start, const std::string& how);

  db::Database& db_;
};

}  // namespace sqltrack
