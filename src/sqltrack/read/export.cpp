#include "sqltrack/read/export.hpp"

#include <array>
#include <chrono>
#include <set>

#include <nlohmann/json.hpp>

#include "sqltrack/metrics/sql/metric_columns.hpp"
#include "sqltrack/schema/summary_views.hpp"
#include "sqltrack/store/run_listing.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/table_writer.hpp"
#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {
namespace {

// The run columns of a summary row, as selected and as written (ts_start, ts_end and
// duration_seconds follow MLOS's results_df).
constexpr std::string_view kRunSelect =
    "SELECT r.id, e.name, r.status, r.time_started, r.time_ended, r.exit_code, r.signal, "
    "r.hostname, r.slurm_job_id, r.slurm_array_job_id, r.slurm_array_task_id, "
    "r.slurm_restart_count, r.comment, r.args, r.git, e.tags, r.tags";
enum RunField : std::size_t {
  kId,
  kExperiment,
  kStatus,
  kStarted,
  kEnded,
  kExitCode,
  kSignal,
  kHostname,
  kSlurmJobId,
  kSlurmArrayJobId,
  kSlurmArrayTaskId,
  kSlurmRestartCount,
  kComment,
  kArgs,
  kGit,
  kExperimentTags,
  kRunTags,
  kRunFieldCount
};
const std::vector<std::string> kRunColumns = {"run_id",
                                              "experiment",
                                              "status",
                                              "ts_start",
                                              "ts_end",
                                              "duration_seconds",
                                              "exit_code",
                                              "signal",
                                              "hostname",
                                              "slurm_job_id",
                                              "slurm_array_job_id",
                                              "slurm_array_task_id",
                                              "slurm_restart_count",
                                              "comment",
                                              "args",
                                              "git"};

struct ExportFilter {
  std::string where;  // " WHERE ..." over runs r, or empty
  std::vector<db::Value> params;
};

ExportFilter run_filter(db::Database& db, const ExportOptions& options) {
  ExportFilter filter;
  auto placeholder = [&](db::Value value) {
    filter.params.push_back(std::move(value));
    return "$" + std::to_string(filter.params.size());
  };
  std::vector<std::string> conditions;
  if (!options.experiments.empty()) {
    std::string ids;
    for (const auto& name : options.experiments) {
      ids += (ids.empty() ? "" : ", ") + placeholder(experiment_id_named(db, name));
    }
    conditions.push_back("r.experiment_id IN (" + ids + ")");
  }
  if (!options.statuses.empty()) {
    std::string names;
    for (auto status : options.statuses) {
      names += (names.empty() ? "" : ", ") + placeholder(std::string(to_string(status)));
    }
    conditions.push_back("r.status IN (" + names + ")");
  }
  for (std::size_t i = 0; i < conditions.size(); ++i) {
    filter.where += (i == 0 ? " WHERE " : " AND ") + conditions[i];
  }
  return filter;
}

// The keys of a JSON column's objects over the selected runs, sorted by their bytes.
std::set<std::string> json_keys(db::Database& db, const ExportFilter& filter, const char* column) {
  const std::string object = std::string(column);
  const std::string sql =
      db.engine() == db::Engine::postgres
          ? "SELECT DISTINCT k.key FROM runs r JOIN experiments e ON e.id = r.experiment_id "
            "CROSS JOIN LATERAL jsonb_object_keys(CASE WHEN jsonb_typeof(" +
                object + ") = 'object' THEN " + object + " END) AS k(key)" + filter.where
          : "SELECT DISTINCT k.key FROM runs r JOIN experiments e ON e.id = r.experiment_id, "
            "json_each(CASE WHEN json_type(" +
                object + ") = 'object' THEN " + object + " END) AS k" + filter.where;
  std::set<std::string> keys;
  for (auto& row : db.query(sql, filter.params).rows) {
    if (row[0]) keys.insert(std::move(*row[0]));
  }
  return keys;
}

Cell plain_cell(const db::Value& value) {
  struct Visitor {
    Cell operator()(std::monostate) const { return std::monostate{}; }
    Cell operator()(std::int64_t v) const { return v; }
    Cell operator()(double v) const { return v; }
    Cell operator()(bool v) const { return v; }
    Cell operator()(const std::string& v) const { return v; }
  };
  return std::visit(Visitor{}, value);
}

std::optional<std::chrono::system_clock::time_point> time_of(const db::Value& value) {
  const auto* text = std::get_if<std::string>(&value);
  if (!text) return std::nullopt;
  return parse_timestamp(*text);
}

// Times in one spelling on both engines (PostgreSQL prints them in the session's zone).
Cell timestamp_cell(const db::Value& value) {
  if (auto time = time_of(value)) return format_timestamp(*time);
  return plain_cell(value);
}

Cell json_value_cell(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return std::monostate{};
    case nlohmann::json::value_t::string:
      return value.get<std::string>();
    case nlohmann::json::value_t::boolean:
      return value.get<bool>();
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      if (value.is_number_unsigned() && value.get<std::uint64_t>() > INT64_MAX) {
        return value.get<double>();
      }
      return value.get<std::int64_t>();
    case nlohmann::json::value_t::number_float:
      return value.get<double>();
    default:
      return JsonText{value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  }
}

nlohmann::json parse_json(const db::Value& value) {
  const auto* text = std::get_if<std::string>(&value);
  if (!text) return nlohmann::json(nullptr);
  return nlohmann::json::parse(*text, nullptr, false);
}

// Compact JSON, the same on both engines (jsonb prints with blanks after commas).
Cell json_cell(const db::Value& value) {
  if (std::holds_alternative<std::monostate>(value)) return std::monostate{};
  auto json = parse_json(value);
  if (json.is_discarded()) return plain_cell(value);
  return JsonText{json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

// One cell per key: the object's value there, NULL where it has none.
void append_flattened(std::vector<Cell>& cells, const db::Value& value,
                      const std::set<std::string>& keys) {
  if (keys.empty()) return;
  auto json = parse_json(value);
  for (const auto& key : keys) {
    auto it = json.is_object() ? json.find(key) : json.end();
    cells.push_back(json.is_object() && it != json.end() ? json_value_cell(*it)
                                                         : Cell{std::monostate{}});
  }
}

struct Metric {
  std::string name;
  MetricColumnKind kind;
};

std::vector<Metric> metric_columns(db::Database& db) {
  MetricColumns loaded = MetricColumns::load(db);
  std::vector<Metric> metrics;
  for (auto& name : metric_column_names(db)) {
    const MetricColumn* column = loaded.find(name);
    metrics.push_back({name, column ? column->kind : MetricColumnKind::other});
  }
  return metrics;
}

// SQLite keeps booleans as 0/1 and times as the text written: give them one form.
Cell metric_cell(const Metric& metric, const db::Value& value) {
  if (metric.kind == MetricColumnKind::boolean) {
    if (const auto* number = std::get_if<std::int64_t>(&value)) return *number != 0;
  }
  if (metric.kind == MetricColumnKind::timestamp) return timestamp_cell(value);
  return plain_cell(value);
}

std::string metric_summary_sql(db::Engine engine, const Metric& metric, MetricSummary summary) {
  const std::string column = "m." + db::quote_identifier(metric.name);
  // min and max of JSON and other types without an order are not defined: their last value.
  if (summary == MetricSummary::last || metric.kind == MetricColumnKind::other) {
    return last_metric_value_sql(metric.name, "r.id");
  }
  std::string function = summary == MetricSummary::min ? "min" : "max";
  if (metric.kind == MetricColumnKind::boolean && engine == db::Engine::postgres) {
    function = summary == MetricSummary::min ? "bool_and" : "bool_or";
  }
  return "(SELECT " + function + "(" + column + ") FROM metrics m WHERE m.run_id = r.id)";
}

std::size_t export_summary(db::Database& db, const ExportOptions& options,
                           const ExportFilter& filter, TableWriter& writer) {
  const auto experiment_keys = json_keys(db, filter, "e.tags");
  const auto run_keys = json_keys(db, filter, "r.tags");
  const auto metrics = metric_columns(db);

  std::vector<std::string> columns = kRunColumns;
  for (const auto& key : experiment_keys) columns.push_back("tags." + key);
  for (const auto& key : run_keys) columns.push_back("config." + key);
  for (const auto& metric : metrics) columns.push_back("result." + metric.name);
  writer.header(columns);

  std::string sql(kRunSelect);
  for (const auto& metric : metrics) {
    sql += ", " + metric_summary_sql(db.engine(), metric, options.metrics);
  }
  sql +=
      " FROM runs r JOIN experiments e ON e.id = r.experiment_id" + filter.where + " ORDER BY r.id";

  std::size_t count = 0;
  std::vector<Cell> cells;
  db.stream(
      sql, filter.params, [](const std::vector<std::string>&) {},
      [&](std::span<const db::Value> row) {
        cells.clear();
        for (std::size_t i = kId; i <= kStatus; ++i) cells.push_back(plain_cell(row[i]));
        cells.push_back(timestamp_cell(row[kStarted]));
        cells.push_back(timestamp_cell(row[kEnded]));
        auto started = time_of(row[kStarted]), ended = time_of(row[kEnded]);
        if (started && ended) {
          using namespace std::chrono;
          cells.push_back(
              static_cast<double>(duration_cast<microseconds>(*ended - *started).count()) / 1e6);
        } else {
          cells.push_back(std::monostate{});
        }
        for (std::size_t i = kExitCode; i <= kComment; ++i) cells.push_back(plain_cell(row[i]));
        cells.push_back(json_cell(row[kArgs]));
        cells.push_back(json_cell(row[kGit]));
        append_flattened(cells, row[kExperimentTags], experiment_keys);
        append_flattened(cells, row[kRunTags], run_keys);
        for (std::size_t m = 0; m < metrics.size(); ++m) {
          cells.push_back(metric_cell(metrics[m], row[kRunFieldCount + m]));
        }
        writer.row(cells);
        ++count;
      });
  return count;
}

std::size_t export_metric_rows(db::Database& db, const ExportFilter& filter, TableWriter& writer) {
  const auto metrics = metric_columns(db);
  std::vector<std::string> columns = {"run_id", "step", "progress"};
  std::string sql = "SELECT m.run_id, m.step, m.progress";
  for (const auto& metric : metrics) {
    columns.push_back(metric.name);
    sql += ", m." + db::quote_identifier(metric.name);
  }
  writer.header(columns);
  // The primary key's order: the rows come off its index, nothing is sorted.
  sql += " FROM metrics m WHERE m.run_id IN (SELECT r.id FROM runs r" + filter.where +
         ") ORDER BY m.run_id, m.step, m.progress";

  std::size_t count = 0;
  std::vector<Cell> cells;
  db.stream(
      sql, filter.params, [](const std::vector<std::string>&) {},
      [&](std::span<const db::Value> row) {
        cells.clear();
        for (std::size_t i = 0; i < 3; ++i) cells.push_back(plain_cell(row[i]));
        for (std::size_t m = 0; m < metrics.size(); ++m) {
          cells.push_back(metric_cell(metrics[m], row[3 + m]));
        }
        writer.row(cells);
        ++count;
      });
  return count;
}

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view text) {
  if (text == "csv") return ExportFormat::csv;
  if (text == "json") return ExportFormat::json_lines;
  return std::nullopt;
}

std::optional<MetricSummary> parse_metric_summary(std::string_view text) {
  if (text == "last") return MetricSummary::last;
  if (text == "min") return MetricSummary::min;
  if (text == "max") return MetricSummary::max;
  if (text == "all") return MetricSummary::all;
  return std::nullopt;
}

std::size_t export_runs(db::Database& db, const ExportOptions& options, std::ostream& out) {
  const ExportFilter filter = run_filter(db, options);
  auto writer =
      options.format == ExportFormat::csv ? make_csv_writer(out) : make_json_lines_writer(out);
  std::size_t count = options.metrics == MetricSummary::all
                          ? export_metric_rows(db, filter, *writer)
                          : export_summary(db, options, filter, *writer);
  writer->finish();
  return count;
}

}  // namespace sqltrack
