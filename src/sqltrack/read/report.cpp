#include "sqltrack/read/report.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <span>

#include <nlohmann/json.hpp>

#include "sqltrack/read/report_resources.hpp"
#include "sqltrack/read/status_table.hpp"
#include "sqltrack/store/run_listing.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/terminal_text.hpp"
#include "sqltrack/util/text.hpp"
#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {
namespace {

std::optional<std::string> cell(const db::ResultSet& rows, std::size_t row, const char* column) {
  return rows.rows[row][rows.column(column)];
}

// {"lr": "0.1", "seed": 3} as "lr=0.1, seed=3".
std::string tags_text(const std::optional<std::string>& stored) {
  if (!stored) return "";
  auto tags = nlohmann::json::parse(*stored, nullptr, false);
  if (!tags.is_object()) return *stored;
  std::string text;
  for (const auto& [key, value] : tags.items()) {
    text += (text.empty() ? "" : ", ") + key + "=" + json_value_text(value);
  }
  return text;
}

ReportRun report_run(const db::ResultSet& runs, std::size_t r, Clock::time_point now) {
  ReportRun run;
  run.id = std::stoll(cell(runs, r, "id").value_or("0"));
  run.status = cell(runs, r, "status").value_or("");
  run.started = local_time_text(cell(runs, r, "time_started"));
  run.ended = local_time_text(cell(runs, r, "time_ended"));
  auto started = parse_timestamp(cell(runs, r, "time_started").value_or(""));
  auto end = parse_timestamp(cell(runs, r, "time_ended").value_or(""));
  // Without an end time: a live run lasts until now, any other until its last update.
  if (!end && run.status == "RUNNING") end = now;
  if (!end) end = parse_timestamp(cell(runs, r, "time_updated").value_or(""));
  run.duration = started && end ? format_duration(*end - *started) : "-";
  if (started && end) run.duration_seconds = std::chrono::duration<double>(*end - *started).count();
  if (auto code = cell(runs, r, "exit_code")) {
    run.exit = *code;
  } else if (auto signal = cell(runs, r, "signal")) {
    run.exit = "signal " + *signal;
  } else {
    run.exit = "-";
  }
  run.tags = tags_text(cell(runs, r, "tags"));
  run.slurm_job = slurm_job_label(runs, r);
  run.comment = cell(runs, r, "comment").value_or("");
  run.rejected_lines = std::stoll(cell(runs, r, "rejected_lines").value_or("0"));
  return run;
}

// Legend names: what tells the runs apart (their tags, else their comments), unique.
void label_runs(const db::ResultSet& runs, std::vector<ReportRun>& report_runs) {
  std::vector<nlohmann::json> tags;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    auto text = cell(runs, r, "tags");
    tags.push_back(text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json());
  }
  auto distinguishing = distinguishing_tags(tags);
  std::map<std::string, int> uses;
  for (std::size_t r = 0; r < report_runs.size(); ++r) {
    ReportRun& run = report_runs[r];
    run.label = !distinguishing[r].empty() ? distinguishing[r]
                : !run.comment.empty()     ? one_line(run.comment)
                                           : "";
    if (run.label.size() > 60) run.label = std::string(truncate_to_width(run.label, 59)) + "…";
    ++uses[run.label];
  }
  for (auto& run : report_runs) {
    std::string id = "run " + std::to_string(run.id);
    if (run.label.empty()) {
      run.label = id;
    } else if (uses[run.label] > 1) {
      run.label += " (" + id + ")";
    }
  }
}

// The columns to chart: the named ones, else those with values (at most the default count).
std::vector<MetricColumn> chosen_columns(db::Database& db, const ReportOptions& options,
                                         std::span<const std::int64_t> run_ids, ReportData& data) {
  std::vector<MetricColumn> columns;
  for (const auto& metric : options.metrics) {
    columns.push_back(plottable_metric_column(db, metric));
  }
  if (!options.metrics.empty()) return columns;
  columns = columns_with_values(db, numeric_metric_columns(db), run_ids);
  if (columns.size() > options.max_default_metrics) {
    std::string left_out;
    for (std::size_t i = options.max_default_metrics; i < columns.size(); ++i) {
      left_out += (left_out.empty() ? "" : ", ") + columns[i].name;
    }
    data.notes.push_back("metrics not charted (choose with --metric): " + left_out);
    columns.resize(options.max_default_metrics);
  }
  if (columns.empty()) data.notes.push_back("no metric values in these runs");
  return columns;
}

}  // namespace

bool spans_decades(const std::map<std::int64_t, MetricSeries>& series) {
  double low = 0, high = 0;
  bool any = false;
  for (const auto& [id, run] : series) {
    for (const auto& point : run.points) {
      if (!std::isfinite(point.value)) continue;
      if (point.value <= 0) return false;
      low = any ? std::min(low, point.value) : point.value;
      high = any ? std::max(high, point.value) : point.value;
      any = true;
    }
  }
  return any && high > 100 * low;
}

namespace {

// The experiment's runs, oldest first: the newest `limit` of them (0: all), with a note when
// some are left out.
db::ResultSet newest_runs(db::Database& db, std::int64_t experiment_id, std::size_t limit,
                          ReportData& data) {
  const std::array<db::Value, 2> params{experiment_id,
                                        static_cast<std::int64_t>(limit > 0 ? limit + 1 : 0)};
  auto runs = limit == 0 ? db.query("SELECT * FROM runs WHERE experiment_id = $1 ORDER BY id",
                                    std::span(params).first(1))
                         : db.query(
                               "SELECT * FROM (SELECT * FROM runs WHERE experiment_id = $1 "
                               "ORDER BY id DESC LIMIT $2) AS newest ORDER BY id",
                               params);
  if (limit == 0 || runs.size() <= limit) return runs;
  runs.rows.erase(runs.rows.begin());  // the one beyond the limit, oldest
  const std::array<db::Value, 1> id{experiment_id};
  auto total = db.query("SELECT count(*) FROM runs WHERE experiment_id = $1", id).scalar();
  data.notes.push_back("the " + std::to_string(limit) + " newest of " + total.value_or("?") +
                       " runs are shown (--limit N for another number, 0 for all)");
  return runs;
}

}  // namespace

ReportData read_report(db::Database& db, const ReportOptions& options, Clock::time_point now) {
  std::int64_t experiment_id = experiment_id_named(db, options.experiment);
  const std::array<db::Value, 1> id{experiment_id};
  auto experiment = db.query("SELECT name, comment FROM experiments WHERE id = $1", id);
  ReportData data;
  data.experiment = experiment.rows[0][0].value_or("");
  data.comment = experiment.rows[0][1].value_or("");
  data.generated = format_local_time(now, true);

  auto runs = newest_runs(db, experiment_id, options.limit, data);
  std::vector<std::int64_t> run_ids;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    data.runs.push_back(report_run(runs, r, now));
    run_ids.push_back(data.runs.back().id);
  }
  label_runs(runs, data.runs);

  // Keep the page light with many runs: fewer points per curve, never fewer than 50.
  std::size_t points =
      std::clamp<std::size_t>(20000 / std::max<std::size_t>(run_ids.size(), 1), 50, 500);
  for (const auto& column : chosen_columns(db, options, run_ids, data)) {
    ReportChart chart{column.name, read_metric_series(db, column, run_ids, points)};
    chart.log_scale = spans_decades(chart.series);
    chart.lower_is_better = lower_is_better(column.name);
    data.charts.push_back(std::move(chart));
  }
  data.resources = read_resource_charts(db, run_ids, points);
  return data;
}

}  // namespace sqltrack
