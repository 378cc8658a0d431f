#include "sqltrack/store/run_listing.hpp"

#include <array>
#include <charconv>
#include <set>

#include "sqltrack/util/error.hpp"
#include "sqltrack/util/terminal_text.hpp"
#include "sqltrack/util/timestamp.hpp"

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
                                                            "rejected_lines",
                                                            "slurm_job_id",
                                                            "slurm_array_job_id",
                                                            "slurm_array_task_id",
                                                            "slurm_restart_count",
                                                            "last_step"};
const std::set<std::string, std::less<>> kRealColumns = {"heartbeat_seconds", "wall_seconds",
                                                         "cpu_user_seconds", "cpu_system_seconds"};
const std::set<std::string, std::less<>> kJsonColumns = {"tags", "args", "env", "git"};

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

// A WHERE clause and its parameters, built one condition at a time.
class RunConditions {
 public:
  void add(const std::string& condition) {
    where_ += where_.empty() ? " WHERE " : " AND ";
    where_ += condition;
  }
  std::string placeholder(db::Value value) {
    params_.push_back(std::move(value));
    return "$" + std::to_string(params_.size());
  }
  std::string list(const std::vector<db::Value>& values) {
    std::string text;
    for (const auto& value : values) text += (text.empty() ? "" : ", ") + placeholder(value);
    return text;
  }
  const std::string& where() const { return where_; }
  const std::vector<db::Value>& params() const { return params_; }

 private:
  std::string where_;
  std::vector<db::Value> params_;
};

void add_slurm_job(RunConditions& conditions, const std::string& text) {
  auto job = parse_job(text);
  if (!job) {
    throw UsageError("--job expects a Slurm job id like 12 or an array task like 12_3, got '" +
                     text + "'");
  }
  if (job->second) {
    std::string array_id = conditions.placeholder(job->first);
    conditions.add("r.slurm_array_job_id = " + array_id +
                   " AND r.slurm_array_task_id = " + conditions.placeholder(*job->second));
  } else {
    std::string id = conditions.placeholder(job->first);
    conditions.add("(r.slurm_job_id = " + id + " OR r.slurm_array_job_id = " + id + ")");
  }
}

// Tags are a JSON object; rows written by other tools may hold anything, so a value that is
// not an object (or, on SQLite, not JSON) matches no tag instead of failing the query.
void add_tag(RunConditions& conditions, db::Engine engine, const std::string& key,
             const std::string& value) {
  std::string k = conditions.placeholder(key), v = conditions.placeholder(value);
  if (engine == db::Engine::postgres) {
    conditions.add("(CASE WHEN jsonb_typeof(r.tags) = 'object' THEN r.tags ->> " + k +
                   " END) = " + v);
  } else {
    conditions.add(
        "(CASE WHEN json_valid(r.tags) AND json_type(r.tags) = 'object' THEN "
        "EXISTS (SELECT 1 FROM json_each(r.tags) t WHERE t.key = " +
        k + " AND CAST(t.value AS TEXT) = " + v + ") ELSE 0 END)");
  }
}

RunConditions run_conditions(db::Engine engine, const RunFilter& filter) {
  RunConditions conditions;
  if (!filter.run_ids.empty()) {
    conditions.add(
        "r.id IN (" +
        conditions.list(std::vector<db::Value>(filter.run_ids.begin(), filter.run_ids.end())) +
        ")");
  }
  if (filter.experiment) conditions.add("e.name = " + conditions.placeholder(*filter.experiment));
  if (filter.slurm_job) add_slurm_job(conditions, *filter.slurm_job);
  if (!filter.statuses.empty()) {
    std::vector<db::Value> names;
    for (auto status : filter.statuses) names.emplace_back(std::string(to_string(status)));
    conditions.add("r.status IN (" + conditions.list(names) + ")");
  }
  for (const auto& [key, value] : filter.tags) add_tag(conditions, engine, key, value);
  if (filter.created_since) {
    std::string since = conditions.placeholder(format_timestamp(*filter.created_since));
    // julianday reads both our timestamps and SQLite's CURRENT_TIMESTAMP default.
    conditions.add(engine == db::Engine::postgres
                       ? "r.time_created >= " + since
                       : "julianday(r.time_created) >= julianday(" + since + ")");
  }
  return conditions;
}

std::string order_by(const std::optional<MetricOrder>& order) {
  if (!order) return " ORDER BY r.id DESC";
  const std::string column = "m." + db::quote_identifier(order->column);
  return " ORDER BY (SELECT " + column + " FROM metrics m WHERE m.run_id = r.id AND " + column +
         " IS NOT NULL ORDER BY m.step DESC, m.progress DESC LIMIT 1) " +
         (order->descending ? "DESC" : "ASC") + " NULLS LAST, r.id DESC";
}

}  // namespace

std::int64_t experiment_id_named(db::Database& db, const std::string& name) {
  const std::array<db::Value, 1> lookup{name};
  auto found = db.query("SELECT id FROM experiments WHERE name = $1", lookup);
  if (!found.empty() && found.rows[0][0]) return std::stoll(*found.rows[0][0]);
  auto known = db.query("SELECT name FROM experiments ORDER BY name LIMIT 6");
  std::string list;
  for (std::size_t i = 0; i < known.size() && i < 5; ++i) {
    list += (list.empty() ? "" : ", ") + printable(known.rows[i][0].value_or(""));
  }
  if (known.size() > 5) list += ", ...";
  throw Error("no experiment named \"" + printable(name) + "\" (" +
              (list.empty() ? "the database has no experiments" : "experiments: " + list) + ")");
}

db::ResultSet list_runs(db::Database& db, const RunFilter& filter,
                        const std::optional<MetricOrder>& order) {
  RunConditions conditions = run_conditions(db.engine(), filter);
  std::string limit = conditions.placeholder(static_cast<std::int64_t>(filter.limit));
  return db.query(
      "SELECT r.*, e.name AS experiment, "
      "(SELECT max(m.step) FROM metrics m WHERE m.run_id = r.id) AS last_step "
      "FROM runs r JOIN experiments e ON e.id = r.experiment_id" +
          conditions.where() + order_by(order) + " LIMIT " + limit,
      conditions.params());
}

bool is_stale(const db::ResultSet& runs, std::size_t row, Clock::time_point now) {
  if (cell(runs, row, "status") != "RUNNING") return false;
  auto updated = cell(runs, row, "time_updated");
  if (!updated) return false;
  auto time = parse_timestamp(*updated);
  if (!time) return false;
  std::optional<double> interval;
  if (auto text = cell(runs, row, "heartbeat_seconds")) interval = std::stod(*text);
  return heartbeat_overdue(*time, interval, now);
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
