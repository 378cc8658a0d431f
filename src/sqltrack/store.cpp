#include "sqltrack/store.hpp"

#include <array>
#include <vector>

#include "sqltrack/error.hpp"
#include "sqltrack/timestamp.hpp"

namespace sqltrack {
namespace {

using db::Value;

template <class T>
Value optional_value(const std::optional<T>& value) {
  if (!value) return std::monostate{};
  if constexpr (std::is_integral_v<T>) {
    return static_cast<std::int64_t>(*value);
  } else {
    return *value;
  }
}

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

}  // namespace

std::int64_t RunStore::ensure_experiment(std::string_view name) {
  const std::array<Value, 2> params{std::string(name), format_timestamp(Clock::now())};
  db_.query(
      "INSERT INTO experiments (name, time_created) VALUES ($1, $2) "
      "ON CONFLICT (name) DO NOTHING",
      params);
  const std::array<Value, 1> lookup{std::string(name)};
  return to_id(db_.query("SELECT id FROM experiments WHERE name = $1", lookup).scalar());
}

RunIds RunStore::start_run(const RunStart& start) {
  RunIds ids;
  std::string now = format_timestamp(start.time);
  db::Transaction transaction(db_);
  if (start.existing_run_id) {
    const std::array<Value, 1> id{*start.existing_run_id};
    auto found = db_.query("SELECT experiment_id, status FROM runs WHERE id = $1", id);
    if (found.empty()) {
      throw Error("run " + std::to_string(*start.existing_run_id) + " does not exist");
    }
    auto status = parse_run_status(found.rows[0][1].value_or(""));
    if (status && is_terminal(*status)) {
      throw Error("run " + std::to_string(*start.existing_run_id) + " already ended " +
                  std::string(to_string(*status)) + "; its status is written once");
    }
    ids = {*start.existing_run_id, to_id(found.rows[0][0])};
  } else {
    ids.experiment_id = ensure_experiment(start.experiment);
  }
  // Arguments and facts are written on attach as well: a requeued job may run elsewhere.
  const std::vector<Value> params{
      ids.experiment_id,
      now,
      optional_value(start.comment),
      start.tags.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      start.args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      start.env.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
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
      ids.run_id,
  };
  if (start.existing_run_id) {
    db_.query(
        "UPDATE runs SET status = 'RUNNING', time_started = COALESCE(time_started, $2), "
        "time_updated = $2, comment = COALESCE($3, comment), tags = $4, args = $5, env = $6, "
        "hostname = $7, username = $8, pid = $9, cwd = $10, heartbeat_seconds = $11, "
        "slurm_job_id = $12, slurm_array_job_id = $13, slurm_array_task_id = $14, "
        "slurm_restart_count = $15, slurm_job_name = $16, slurm_cluster = $17, "
        "slurm_nodelist = $18, slurm_partition = $19, time_ended = NULL, exit_code = NULL, "
        "signal = NULL WHERE id = $20 AND experiment_id = $1",
        params);
  } else {
    auto inserted = db_.query(
        "INSERT INTO runs (experiment_id, status, time_created, time_started, time_updated, "
        "comment, tags, args, env, hostname, username, pid, cwd, heartbeat_seconds, "
        "slurm_job_id, slurm_array_job_id, slurm_array_task_id, slurm_restart_count, "
        "slurm_job_name, slurm_cluster, slurm_nodelist, slurm_partition) "
        "VALUES ($1, 'RUNNING', $2, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
        "$15, $16, $17, $18, $19) RETURNING id",
        std::span<const Value>(params.data(), params.size() - 1));
    ids.run_id = to_id(inserted.scalar());
  }
  const std::array<Value, 3> history{ids.run_id, now,
                                     std::string(start.existing_run_id ? "attached" : "started")};
  db_.query(
      "INSERT INTO run_status_history (run_id, time, status, detail) VALUES ($1, $2, 'RUNNING', "
      "$3)",
      history);
  transaction.commit();
  return ids;
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

void RunStore::heartbeat(std::int64_t run_id, Clock::time_point time) {
  const std::array<Value, 2> params{run_id, format_timestamp(time)};
  db_.query("UPDATE runs SET time_updated = $2 WHERE id = $1", params);
}

bool RunStore::finish_run(std::int64_t run_id, RunStatus status, std::string_view detail,
                          const RunEnd& end) {
  db::Transaction transaction(db_);
  const std::vector<Value> facts{run_id,
                                 format_timestamp(end.time),
                                 optional_value(end.exit_code),
                                 optional_value(end.signal),
                                 end.core_dumped,
                                 end.wall_seconds,
                                 end.cpu_user_seconds,
                                 end.cpu_system_seconds,
                                 static_cast<std::int64_t>(end.max_rss_kib)};
  db_.query(
      "UPDATE runs SET time_ended = $2, time_updated = $2, exit_code = $3, signal = $4, "
      "core_dumped = $5, wall_seconds = $6, cpu_user_seconds = $7, cpu_system_seconds = $8, "
      "max_rss_kib = $9 WHERE id = $1",
      facts);
  bool written = write_status(run_id, status, detail, end.time);
  transaction.commit();
  return written;
}

}  // namespace sqltrack
