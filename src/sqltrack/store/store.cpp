#include "sqltrack/store/store.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "sqltrack/util/error.hpp"
#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {
namespace {

using db::optional_value;
using db::Value;

// "'BOOT_FAIL', 'CANCELLED', ..." for the terminal states. Built from our own
// constants, never from input, so it is safe to put into the SQL text.
const std::string& terminal_status_list() {
  static const std::string list = [] {
    std::string text;
    for (std::size_t i = 0; i < kRunStatusNames.size(); ++i) {
      if (!is_terminal(static_cast<RunStatus>(i))) continue;
      if (!text.empty()) text += ", ";
      text += "'" + std::string(kRunStatusNames[i]) + "'";
    }
    return text;
  }();
  return list;
}

std::int64_t to_id(const std::optional<std::string>& text) {
  if (!text) throw Error("the database returned no id");
  return std::stoll(*text);
}

std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::int64_t> optional_int(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return std::stoll(*text);
}

// A run that start_run may take over instead of creating one.
struct ExistingRun {
  std::int64_t id = 0;
  std::int64_t experiment_id = 0;
  std::optional<RunStatus> status;
  nlohmann::json tags = nlohmann::json::object();
  std::optional<std::int64_t> slurm_job_id;
  std::optional<std::int64_t> slurm_array_task_id;
  std::optional<std::string> slurm_cluster;
  int slurm_restart_count = 0;
};

constexpr const char* kExistingRunColumns =
    "SELECT id, experiment_id, status, tags, slurm_job_id, slurm_array_task_id, slurm_cluster, "
    "slurm_restart_count FROM runs ";

std::optional<ExistingRun> first_existing_run(const db::ResultSet& result) {
  if (result.empty()) return std::nullopt;
  const auto& row = result.rows[0];
  ExistingRun run;
  run.id = to_id(row[0]);
  run.experiment_id = to_id(row[1]);
  run.status = parse_run_status(row[2].value_or(""));
  if (row[3]) {
    auto tags = nlohmann::json::parse(*row[3], nullptr, false);
    if (tags.is_object()) run.tags = std::move(tags);
  }
  run.slurm_job_id = optional_int(row[4]);
  run.slurm_array_task_id = optional_int(row[5]);
  run.slurm_cluster = row[6];
  run.slurm_restart_count = static_cast<int>(optional_int(row[7]).value_or(0));
  return run;
}

std::optional<ExistingRun> load_run(db::Database& db, std::int64_t run_id) {
  const std::array<Value, 1> params{run_id};
  return first_existing_run(db.query(std::string(kExistingRunColumns) + "WHERE id = $1", params));
}

// The run is this job's from an earlier start, and the job has been requeued
// since: only a higher restart count may reopen a run.
bool is_earlier_attempt(const ExistingRun& run, const RunStart& start) {
  return start.slurm_job_id && start.slurm_restart_count.value_or(0) > 0 &&
         run.slurm_job_id == start.slurm_job_id &&
         run.slurm_array_task_id == start.slurm_array_task_id &&
         run.slurm_cluster == start.slurm_cluster &&
         run.slurm_restart_count < *start.slurm_restart_count;
}

std::string requeued_detail(const RunStart& start) {
  return "requeued, restart " + std::to_string(start.slurm_restart_count.value_or(0));
}

// The newest run of the same job from an earlier restart, in any status
// (REQUEUED normally; CANCELLED, PREEMPTED, RUNNING when the wrapper could not
// tell or died). Job ids restart at 1 with a new cluster state, so the cluster
// name must match too.
std::optional<ExistingRun> find_requeued_run(db::Database& db, const RunStart& start) {
  if (!start.slurm_job_id || start.slurm_restart_count.value_or(0) <= 0) return std::nullopt;
  const std::array<Value, 4> params{*start.slurm_job_id, optional_value(start.slurm_array_task_id),
                                    optional_value(start.slurm_cluster),
                                    static_cast<std::int64_t>(*start.slurm_restart_count)};
  return first_existing_run(db.query(
      std::string(kExistingRunColumns) +
          "WHERE slurm_job_id = $1 AND slurm_array_task_id IS NOT DISTINCT FROM $2 "
          "AND slurm_cluster IS NOT DISTINCT FROM $3 AND COALESCE(slurm_restart_count, 0) < $4 "
          "ORDER BY id DESC LIMIT 1",
      params));
}

// The PENDING run `sqltrack submit` made for this job (or array task). Submit
// holds the job until its runs exist, so the wrapper never starts before them.
std::optional<ExistingRun> find_submitted_run(db::Database& db, const RunStart& start) {
  if (start.slurm_array_job_id && start.slurm_array_task_id) {
    const std::array<Value, 2> params{*start.slurm_array_job_id, *start.slurm_array_task_id};
    return first_existing_run(db.query(std::string(kExistingRunColumns) +
                                           "WHERE status = 'PENDING' AND slurm_array_job_id = $1 "
                                           "AND slurm_array_task_id = $2 ORDER BY id DESC LIMIT 1",
                                       params));
  }
  if (!start.slurm_job_id) return std::nullopt;
  const std::array<Value, 1> params{*start.slurm_job_id};
  return first_existing_run(db.query(std::string(kExistingRunColumns) +
                                         "WHERE status = 'PENDING' AND slurm_job_id = $1 "
                                         "AND slurm_array_job_id IS NULL ORDER BY id DESC LIMIT 1",
                                     params));
}

std::string submitted_label(const RunStart& start) {
  if (start.slurm_array_job_id && start.slurm_array_task_id) {
    return std::to_string(*start.slurm_array_job_id) + "_" +
           std::to_string(*start.slurm_array_task_id);
  }
  return start.slurm_job_id ? std::to_string(*start.slurm_job_id) : "";
}

struct RunToAttach {
  ExistingRun run;
  std::string how;  // the detail of its RUNNING history row
};

// Which run a start takes over, and the history detail that says how: the run of --run-id,
// the run of an earlier attempt of a requeued Slurm job, or the PENDING run `sqltrack submit`
// made for this job; nullopt for a new run.
std::optional<RunToAttach> find_run_to_attach(db::Database& db, const RunStart& start) {
  if (start.existing_run_id) {
    std::optional<ExistingRun> existing = load_run(db, *start.existing_run_id);
    if (!existing) {
      throw Error("run " + std::to_string(*start.existing_run_id) + " does not exist");
    }
    bool requeue = is_earlier_attempt(*existing, start);
    if (existing->status && is_terminal(*existing->status) && !requeue) {
      throw Error("run " + std::to_string(*start.existing_run_id) + " already ended " +
                  std::string(to_string(*existing->status)) + "; its status is written once");
    }
    return RunToAttach{*existing, requeue ? requeued_detail(start) : "attached"};
  }
  if (auto requeued = find_requeued_run(db, start)) {
    return RunToAttach{*requeued, requeued_detail(start)};
  }
  if (auto submitted = find_submitted_run(db, start)) {
    return RunToAttach{*submitted,
                       "attached to the run submitted as Slurm job " + submitted_label(start)};
  }
  return std::nullopt;
}

// $1..$21 of both the INSERT and the UPDATE of a start: the experiment, the time and the
// facts the wrapper captured.
std::vector<Value> run_start_values(const RunStart& start, std::int64_t experiment_id,
                                    const std::string& now, const nlohmann::json& tags) {
  return {
      experiment_id,
      now,
      optional_value(start.comment),
      json_text(tags),
      json_text(start.args),
      json_text(start.env),
      start.hostname,
      start.username,
      static_cast<std::int64_t>(start.pid),
      start.cwd,
      start.heartbeat_seconds,
      optional_value(start.slurm_job_id),
      optional_value(start.slurm_array_job_id),
      optional_value(start.slurm_array_task_id),
      optional_value(start.slurm_restart_count),
      optional_value(start.slurm_job_name),
      optional_value(start.slurm_cluster),
      optional_value(start.slurm_nodelist),
      optional_value(start.slurm_partition),
      start.client_id.empty() ? Value(std::monostate{}) : Value(start.client_id),
      start.git.is_null() ? Value(std::monostate{}) : Value(json_text(start.git)),
  };
}

// The RUNNING row of the run's status history.
void add_running_history(db::Database& db, std::int64_t run_id, const std::string& time,
                         const std::string& how) {
  const std::array<Value, 3> history{run_id, time, how};
  db.query(
      "INSERT INTO run_status_history (run_id, time, status, detail) VALUES ($1, $2, 'RUNNING', "
      "$3)",
      history);
}

RunIds attach_run(db::Database& db, const RunToAttach& attach, const RunStart& start) {
  const ExistingRun& existing = attach.run;
  std::string now = format_timestamp(start.time);
  // Tags given at submit time stay; the wrapper's own override them.
  nlohmann::json tags = existing.tags;
  tags.update(start.tags);
  // Arguments and facts are written on attach as well: a requeued job may run elsewhere. Also
  // a terminal run of an earlier attempt: the requeue rule decided it may run again, so the
  // write-once check is not applied here.
  std::vector<Value> params = run_start_values(start, existing.experiment_id, now, tags);
  params.emplace_back(existing.id);  // $22
  db.query(
      "UPDATE runs SET status = 'RUNNING', time_started = COALESCE(time_started, $2), "
      "time_updated = $2, comment = COALESCE($3, comment), tags = $4, args = $5, env = $6, "
      "hostname = $7, username = $8, pid = $9, cwd = $10, heartbeat_seconds = $11, "
      "slurm_job_id = $12, slurm_array_job_id = $13, slurm_array_task_id = $14, "
      "slurm_restart_count = $15, slurm_job_name = $16, slurm_cluster = $17, "
      "slurm_nodelist = $18, slurm_partition = $19, client_id = $20, git = $21, "
      "time_ended = NULL, exit_code = NULL, signal = NULL, core_dumped = NULL, "
      "wall_seconds = NULL, cpu_user_seconds = NULL, cpu_system_seconds = NULL, "
      "max_rss_kib = NULL, gpus = NULL WHERE id = $22 AND experiment_id = $1",
      params);
  add_running_history(db, existing.id, now, attach.how);
  return {existing.id, existing.experiment_id};
}

}  // namespace

bool heartbeat_overdue(Clock::time_point updated, std::optional<double> interval_seconds,
                       Clock::time_point now, std::chrono::duration<double> at_least) {
  const std::chrono::duration<double> late(3 * interval_seconds.value_or(30.0));
  return now - updated > std::max(late, at_least);
}

std::int64_t RunStore::ensure_experiment(std::string_view name) {
  // Most starts find their experiment: one statement then, instead of an insert too.
  const std::array<Value, 1> lookup{std::string(name)};
  constexpr const char* kFind = "SELECT id FROM experiments WHERE name = $1";
  if (auto found = db_.query(kFind, lookup); !found.empty()) return to_id(found.scalar());
  const std::array<Value, 2> params{std::string(name), format_timestamp(Clock::now())};
  db_.query(
      "INSERT INTO experiments (name, time_created) VALUES ($1, $2) "
      "ON CONFLICT (name) DO NOTHING",
      params);
  return to_id(db_.query(kFind, lookup).scalar());
}

RunIds RunStore::start_run(const RunStart& start) {
  if (db_.engine() == db::Engine::postgres && !start.existing_run_id && !start.slurm_job_id &&
      !start.slurm_array_job_id) {
    // Nothing to take over (no --run-id, no Slurm job to look up): the experiment, then the
    // run with its history row in one statement. No transaction round trips (BEGIN, COMMIT);
    // at worst an experiment without this run remains.
    return write_run_start(start);
  }
  db::Transaction transaction(db_);
  RunIds ids = write_run_start(start);
  transaction.commit();
  return ids;
}

RunIds RunStore::start_run_once(const RunStart& start) {
  db::Transaction transaction(db_);
  if (!start.client_id.empty()) {
    const std::array<Value, 1> params{start.client_id};
    if (auto known = first_existing_run(
            db_.query(std::string(kExistingRunColumns) + "WHERE client_id = $1", params))) {
      return {known->id, known->experiment_id};
    }
  }
  RunIds ids = write_run_start(start);
  transaction.commit();
  return ids;
}

RunIds RunStore::write_run_start(const RunStart& start) {
  std::optional<RunToAttach> attach = find_run_to_attach(db_, start);
  if (attach) return attach_run(db_, *attach, start);
  return insert_run(start, "started");
}

RunIds RunStore::insert_run(const RunStart& start, const std::string& how) {
  constexpr const char* kInsertRun =
      "INSERT INTO runs (experiment_id, status, time_created, time_started, time_updated, "
      "comment, tags, args, env, hostname, username, pid, cwd, heartbeat_seconds, "
      "slurm_job_id, slurm_array_job_id, slurm_array_task_id, slurm_restart_count, "
      "slurm_job_name, slurm_cluster, slurm_nodelist, slurm_partition, client_id, git) "
      "VALUES ($1, 'RUNNING', $2, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
      "$15, $16, $17, $18, $19, $20, $21) RETURNING id";
  RunIds ids;
  ids.experiment_id = ensure_experiment(start.experiment);
  std::string now = format_timestamp(start.time);
  std::vector<Value> params = run_start_values(start, ids.experiment_id, now, start.tags);
  if (db_.engine() == db::Engine::postgres) {
    // The run and its first history row in one statement: one round trip.
    params.emplace_back(how);  // $22
    ids.run_id = to_id(db_.query(std::string("WITH started AS (") + kInsertRun +
                                     ") INSERT INTO run_status_history (run_id, time, status, "
                                     "detail) SELECT id, $2, 'RUNNING', $22 FROM started "
                                     "RETURNING run_id",
                                 params)
                           .scalar());
    return ids;
  }
  ids.run_id = to_id(db_.query(kInsertRun, params).scalar());
  add_running_history(db_, ids.run_id, now, how);
  return ids;
}

std::vector<std::int64_t> RunStore::create_submitted_runs(const RunSubmission& submission,
                                                          std::span<const SlurmJobRef> jobs) {
  std::string now = format_timestamp(submission.time);
  db::Transaction transaction(db_);
  std::int64_t experiment_id = ensure_experiment(submission.experiment);
  std::vector<std::int64_t> run_ids;
  run_ids.reserve(jobs.size());
  for (const auto& job : jobs) {
    // A task's own SLURM_JOB_ID is known only once Slurm splits it off the array.
    std::optional<std::int64_t> job_id, array_job_id;
    if (job.array_task_id) {
      array_job_id = job.job_id;
    } else {
      job_id = job.job_id;
    }
    const std::vector<Value> params{experiment_id,
                                    now,
                                    optional_value(submission.comment),
                                    json_text(submission.tags),
                                    json_text(submission.args),
                                    submission.hostname,
                                    submission.username,
                                    submission.cwd,
                                    optional_value(job_id),
                                    optional_value(array_job_id),
                                    optional_value(job.array_task_id)};
    auto inserted = db_.query(
        "INSERT INTO runs (experiment_id, status, time_created, time_updated, comment, tags, "
        "args, hostname, username, cwd, slurm_job_id, slurm_array_job_id, slurm_array_task_id) "
        "VALUES ($1, 'PENDING', $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        params);
    std::int64_t run_id = to_id(inserted.scalar());
    std::string label = std::to_string(job.job_id);
    if (job.array_task_id) label += "_" + std::to_string(*job.array_task_id);
    add_history(run_id, RunStatus::PENDING, "submitted as Slurm job " + label, submission.time);
    run_ids.push_back(run_id);
  }
  transaction.commit();
  return run_ids;
}

bool RunStore::reconcile_status(std::int64_t run_id, RunStatus expected, RunStatus status,
                                std::string_view detail, std::optional<int> exit_code,
                                std::optional<int> signal, Clock::time_point time) {
  db::Transaction transaction(db_);
  const std::vector<Value> params{run_id,
                                  std::string(to_string(expected)),
                                  std::string(to_string(status)),
                                  format_timestamp(time),
                                  optional_value(exit_code),
                                  optional_value(signal),
                                  is_terminal(status)};
  // A wrapper that ended normally wrote its own facts; these fill only the gaps.
  auto updated = db_.query(
      "UPDATE runs SET status = $3, time_updated = $4, "
      "exit_code = CASE WHEN exit_code IS NULL AND signal IS NULL THEN CAST($5 AS INTEGER) "
      "ELSE exit_code END, "
      "signal = CASE WHEN exit_code IS NULL AND signal IS NULL THEN CAST($6 AS INTEGER) "
      "ELSE signal END, "
      "time_ended = CASE WHEN $7 THEN COALESCE(time_ended, $4) ELSE time_ended END "
      "WHERE id = $1 AND status = $2 RETURNING id",
      params);
  if (updated.empty()) return false;
  add_history(run_id, status, detail, time);
  transaction.commit();
  return true;
}

bool RunStore::set_status(std::int64_t run_id, RunStatus status, std::string_view detail,
                          Clock::time_point time) {
  db::Transaction transaction(db_);
  bool written = write_status(run_id, status, detail, time);
  transaction.commit();
  return written;
}

bool RunStore::write_status(std::int64_t run_id, RunStatus status, std::string_view detail,
                            Clock::time_point time) {
  const std::array<Value, 3> params{run_id, std::string(to_string(status)), format_timestamp(time)};
  auto updated = db_.query(
      "UPDATE runs SET status = $2, time_updated = $3 WHERE id = $1 AND "
      "status NOT IN (" +
          terminal_status_list() + ") RETURNING id",
      params);
  if (updated.empty()) return false;
  add_history(run_id, status, detail, time);
  return true;
}

void RunStore::add_history(std::int64_t run_id, RunStatus status, std::string_view detail,
                           Clock::time_point time) {
  const std::array<Value, 4> params{run_id, format_timestamp(time), std::string(to_string(status)),
                                    std::string(detail)};
  db_.query("INSERT INTO run_status_history (run_id, time, status, detail) VALUES ($1, $2, $3, $4)",
            params);
}

bool RunStore::has_history(std::int64_t run_id, RunStatus status, std::string_view detail,
                           Clock::time_point time) {
  const std::array<Value, 4> params{run_id, format_timestamp(time), std::string(to_string(status)),
                                    std::string(detail)};
  return !db_.query(
                 "SELECT 1 FROM run_status_history WHERE run_id = $1 AND time = $2 AND "
                 "status = $3 AND detail = $4 LIMIT 1",
                 params)
              .empty();
}

void RunStore::heartbeat(std::int64_t run_id, Clock::time_point time) {
  const std::array<Value, 2> params{run_id, format_timestamp(time)};
  db_.query(
      "UPDATE runs SET time_updated = $2 WHERE id = $1 AND "
      "(time_updated IS NULL OR time_updated < $2)",
      params);
}

bool RunStore::finish_run(std::int64_t run_id, RunStatus status, std::string_view detail,
                          const RunEnd& end) {
  const std::vector<Value> params{run_id,
                                  format_timestamp(end.time),
                                  optional_value(end.exit_code),
                                  optional_value(end.signal),
                                  end.core_dumped,
                                  end.wall_seconds,
                                  end.cpu_user_seconds,
                                  end.cpu_system_seconds,
                                  static_cast<std::int64_t>(end.max_rss_kib),
                                  end.rejected_lines,
                                  std::string(to_string(status)),
                                  std::string(detail)};
  const std::string facts =
      "time_ended = $2, time_updated = $2, exit_code = $3, signal = $4, core_dumped = $5, "
      "wall_seconds = $6, cpu_user_seconds = $7, cpu_system_seconds = $8, max_rss_kib = $9, "
      "rejected_lines = $10";
  // The status is written once: together with the facts while it is not terminal yet (the
  // usual end), else the facts alone.
  const std::string set_status_and_facts = "UPDATE runs SET status = $11, " + facts +
                                           " WHERE id = $1 AND status NOT IN (" +
                                           terminal_status_list() + ") RETURNING id";
  const std::span<const Value> facts_only(params.data(), 10);
  if (db_.engine() == db::Engine::postgres) {
    // One statement, one round trip: the job waits for this write before the wrapper exits.
    if (!db_.query("WITH ended AS (" + set_status_and_facts +
                       ") INSERT INTO run_status_history (run_id, time, status, detail) "
                       "SELECT id, $2, $11, $12 FROM ended RETURNING run_id",
                   params)
             .empty()) {
      return true;
    }
    db_.query("UPDATE runs SET " + facts + " WHERE id = $1", facts_only);
    return false;
  }
  db::Transaction transaction(db_);
  bool written =
      !db_.query(set_status_and_facts, std::span<const Value>(params.data(), 11)).empty();
  if (written) {
    add_history(run_id, status, detail, end.time);
  } else {
    db_.query("UPDATE runs SET " + facts + " WHERE id = $1", facts_only);
  }
  transaction.commit();
  return written;
}

}  // namespace sqltrack
