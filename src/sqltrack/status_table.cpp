#include "sqltrack/status_table.hpp"

#include <algorithm>
#include <ctime>

#include "sqltrack/sparkline.hpp"
#include "sqltrack/terminal_text.hpp"
#include "sqltrack/timestamp.hpp"

namespace sqltrack {
namespace {

std::string cell_text(const db::ResultSet& runs, std::size_t row, const char* column) {
  return runs.rows[row][runs.column(column)].value_or("");
}

std::string metric_cell(const StatusMetric& metric, const std::string& run_id) {
  auto found = metric.series.find(std::stoll(run_id));
  if (found == metric.series.end()) return "-";
  std::vector<double> values;
  for (const auto& point : found->second.points) values.push_back(point.value);
  return sparkline(values) + " " + short_number(found->second.last_value);
}

}  // namespace

std::string local_time_text(const std::optional<std::string>& stored) {
  if (!stored) return "-";
  auto time = parse_timestamp(*stored);
  if (!time) return *stored;
  std::time_t t = Clock::to_time_t(*time);
  std::tm local{};
  localtime_r(&t, &local);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &local);
  return buffer;
}

std::vector<std::string> status_table_lines(const db::ResultSet& runs, Clock::time_point now,
                                            const StatusMetric* metric) {
  std::vector<std::vector<std::string>> table{{"RUN", "EXPERIMENT", "STATUS", "STARTED", "UPDATED",
                                               "DURATION", "EXIT", "JOB", "HOST", "STEP"}};
  if (metric) table[0].push_back(printable(metric->name));
  for (std::size_t r = 0; r < runs.size(); ++r) {
    auto started = parse_timestamp(cell_text(runs, r, "time_started"));
    auto updated = parse_timestamp(cell_text(runs, r, "time_updated"));
    auto ended = parse_timestamp(cell_text(runs, r, "time_ended"));
    std::string status = cell_text(runs, r, "status");
    if (is_stale(runs, r, now)) status += " (stale)";
    std::string exit = cell_text(runs, r, "exit_code");
    if (exit.empty() && !cell_text(runs, r, "signal").empty()) {
      exit = "sig " + cell_text(runs, r, "signal");
    }
    std::string duration = "-";
    if (started) duration = format_duration((ended ? *ended : now) - *started);
    std::vector<std::string> row{cell_text(runs, r, "id"),
                                 printable(cell_text(runs, r, "experiment")),
                                 status,
                                 local_time_text(runs.rows[r][runs.column("time_started")]),
                                 updated ? format_age(now - *updated) : "-",
                                 duration,
                                 exit.empty() ? "-" : exit,
                                 slurm_job_label(runs, r),
                                 printable(cell_text(runs, r, "hostname")),
                                 cell_text(runs, r, "last_step")};
    if (metric) row.push_back(metric_cell(*metric, row[0]));
    table.push_back(std::move(row));
  }
  std::vector<std::size_t> widths(table[0].size(), 0);
  for (const auto& row : table) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  }
  std::vector<std::string> lines;
  for (const auto& row : table) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      std::string text = row[c].empty() ? "-" : row[c];
      line += text;
      if (c + 1 < row.size()) line += std::string(widths[c] - display_width(text) + 2, ' ');
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::string> read_status_table(db::Database& db, const RunFilter& filter,
                                           const std::optional<MetricColumn>& metric,
                                           Clock::time_point now) {
  auto runs = list_runs(db, filter);
  if (!metric) return status_table_lines(runs, now);
  std::vector<std::int64_t> ids;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    ids.push_back(std::stoll(runs.rows[r][runs.column("id")].value_or("0")));
  }
  StatusMetric shown{metric->name, read_metric_series(db, *metric, ids, kSparklinePoints)};
  return status_table_lines(runs, now, &shown);
}

}  // namespace sqltrack
