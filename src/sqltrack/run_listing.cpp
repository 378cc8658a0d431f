#include "sqltrack/run_listing.hpp"

#include <charconv>
#include <set>

#include "sqltrack/error.hpp"
#include "sqltrack/timestamp.hpp"

namespace sqltrack {
namespace {

std::optional<std::string> cell(const db::ResultSet& runs, std::size_t row, const char* column) {
  for (std::size_t c = 0; c < runs.columns.size(); ++c) {
    if (runs.columns[c] == column) return runs.rows[row][c];
  }
  return std::nullopt;
}

const std::set<std::string, std::less<>> kIntegerColumns = {"id",
                                                            "experiment_id",
                                                            "pid",
                                                            "exit_code",
                                                            "signal",
                                                            "max_rss_kib",
                                                            "slurm_job_id",
                                                            "slurm_array_job_id",
                                                            "slurm_array_task_id",
                                                            "slurm_restart_count",
                                                            "last_step"};
const std::set<std::string, std::less<>> kRealColumns = {"heartbeat_seconds", "wall_seconds",
                                                         "cpu_user_seconds", "cpu_system_seconds"};
const std::set<std::string, std::less<>> kJsonColumns = {"tags", "args", "env"};

std::optional<std::pair<std::int64_t, std::optional<std::int64_t>>> parse_job(
    const std::string& text) {
  std::int64_t job = 0, task = 0;
  auto underscore = text.find('_');
  std::string_view job_text = std::string_view(text).substr(0, underscore);
  auto [end, ec] = std::from_chars(job_text.data(), job_text.data() + job_text.size(), job);
  if (ec != std::errc() || end != job_text.data() + job_text.size()) return std::nullopt;
  if (underscore == std::string::npos) return std::pair{job, std::optional<std::int64_t>{}};
  std::string_view task_text = std::string_view(text).substr(underscore + 1);
  auto [end2, ec2] = std::from_chars(task_text.data(), task_text.data() + task_text.size(), task);
  if (ec2 != std::errc() || end2 != task_text.data() + task_text.size()) return std::nullopt;
  return std::pair{job, std::optional<std::int64_t>{task}};
}

}  // namespace

db::ResultSet list_runs(db::Database& db, const RunFilter& filter) {
  std::vector<db::Value> params;
  std::string where;
  auto add = [&](const std::string& condition) {
    where += where.empty() ? " WHERE " : " AND ";
    where += condition;
  };
  auto placeholder = [&](db::Value value) {
    params.push_back(std::move(value));
    return "$" + std::to_string(params.size());
  };
  if (!filter.run_ids.empty()) {
    std::string list;
    for (auto id : filter.run_ids) list += (list.empty() ? "" : ", ") + placeholder(id);
    add("r.id IN (" + list + ")");
  }
  if (filter.experiment) add("e.name = " + placeholder(*filter.experiment));
  if (filter.slurm_job) {
    auto job = parse_job(*filter.slurm_job);
    if (!job) {
      throw UsageError("--job expects a Slurm job id like 12 or an array task like 12_3, got '" +
                       *filter.slurm_job + "'");
    }
    if (job->second) {
      std::string array_id = placeholder(job->first);
      add("r.slurm_array_job_id = " + array_id +
          " AND r.slurm_array_task_id = " + placeholder(*job->second));
    } else {
      std::string id = placeholder(job->first);
      add("(r.slurm_job_id = " + id + " OR r.slurm_array_job_id = " + id + ")");
    }
  }
  std::string limit = placeholder(static_cast<std::int64_t>(filter.limit));
  return db.query(
      "SELECT r.*, e.name AS experiment, "
      "(SELECT max(m.step) FROM metrics m WHERE m.run_id = r.id) AS last_step "
      "FROM runs r JOIN experiments e ON e.id = r.experiment_id" +
          where + " ORDER BY r.id DESC LIMIT " + limit,
      params);
}

bool is_stale(const db::ResultSet& runs, std::size_t row, Clock::time_point now) {
  if (cell(runs, row, "status") != "RUNNING") return false;
  auto updated = cell(runs, row, "time_updated");
  if (!updated) return false;
  auto time = parse_timestamp(*updated);
  if (!time) return false;
  double interval = 30;
  if (auto text = cell(runs, row, "heartbeat_seconds")) interval = std::stod(*text);
  return now - *time > std::chrono::duration<double>(3 * interval);
}

nlohmann::json run_to_json(const db::ResultSet& runs, std::size_t row) {
  nlohmann::json object = nlohmann::json::object();
  for (std::size_t c = 0; c < runs.columns.size(); ++c) {
    const std::string& name = runs.columns[c];
    const auto& value = runs.rows[row][c];
    if (!value) {
      object[name] = nullptr;
    } else if (kIntegerColumns.contains(name)) {
      object[name] = std::stoll(*value);
    } else if (kRealColumns.contains(name)) {
      object[name] = std::stod(*value);
    } else if (kJsonColumns.contains(name)) {
      object[name] = nlohmann::json::parse(*value, nullptr, false);
    } else if (name == "core_dumped") {
      object[name] = *value == "t" || *value == "1" || *value == "true";
    } else {
      object[name] = *value;
    }
  }
  return object;
}

std::string slurm_job_label(const db::ResultSet& runs, std::size_t row) {
  auto array_job = cell(runs, row, "slurm_array_job_id");
  auto task = cell(runs, row, "slurm_array_task_id");
  if (array_job && task) return *array_job + "_" + *task;
  return cell(runs, row, "slurm_job_id").value_or("");
}

}  // namespace sqltrack
