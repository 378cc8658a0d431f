#include "sqltrack/read/status_table.hpp"

#include <algorithm>
#include <ctime>
#include <map>

#include "sqltrack/util/error.hpp"
#include "sqltrack/util/sparkline.hpp"
#include "sqltrack/util/terminal_text.hpp"
#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {
namespace {

constexpr std::size_t kCommentColumns = 40;

using Table = std::vector<std::vector<std::string>>;

std::string cell_text(const db::ResultSet& runs, std::size_t row, const char* column) {
  return runs.rows[row][runs.column(column)].value_or("");
}

std::string metric_cell(const StatusMetric& metric, std::int64_t run_id) {
  auto found = metric.series.find(run_id);
  if (found == metric.series.end()) return "-";
  std::vector<double> values;
  for (const auto& point : found->second.points) values.push_back(point.value);
  return sparkline(values) + " " + short_number(found->second.last_value);
}

std::string best_cell(const StatusMetric& metric, std::int64_t run_id) {
  auto found = metric.series.find(run_id);
  if (found == metric.series.end()) return "-";
  return short_number(metric.lower_is_better ? found->second.min_value : found->second.max_value);
}

std::string exit_text(const db::ResultSet& runs, std::size_t r) {
  std::string exit = cell_text(runs, r, "exit_code");
  if (exit.empty() && !cell_text(runs, r, "signal").empty()) {
    exit = "sig " + cell_text(runs, r, "signal");
  }
  return exit.empty() ? "-" : exit;
}

std::vector<std::string> run_row(const db::ResultSet& runs, std::size_t r, Clock::time_point now) {
  auto started = parse_timestamp(cell_text(runs, r, "time_started"));
  auto updated = parse_timestamp(cell_text(runs, r, "time_updated"));
  auto ended = parse_timestamp(cell_text(runs, r, "time_ended"));
  std::string status = cell_text(runs, r, "status");
  if (is_stale(runs, r, now)) status += " (stale)";
  std::string duration = "-";
  if (started) duration = format_duration((ended ? *ended : now) - *started);
  return {cell_text(runs, r, "id"),
          printable(cell_text(runs, r, "experiment")),
          status,
          local_time_text(runs.rows[r][runs.column("time_started")]),
          updated ? format_age(now - *updated) : "-",
          duration,
          exit_text(runs, r),
          slurm_job_label(runs, r),
          printable(cell_text(runs, r, "hostname")),
          cell_text(runs, r, "last_step")};
}

// Adds a column only when some run has something to show in it.
void add_optional_column(Table& table, std::string header, const std::vector<std::string>& cells) {
  if (std::all_of(cells.begin(), cells.end(), [](const auto& c) { return c.empty(); })) return;
  table[0].push_back(std::move(header));
  for (std::size_t r = 0; r < cells.size(); ++r) table[r + 1].push_back(cells[r]);
}

std::vector<std::string> comment_cells(const db::ResultSet& runs) {
  std::vector<std::string> cells;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    std::string comment = printable(cell_text(runs, r, "comment"));
    if (display_width(comment) > kCommentColumns) {
      comment = std::string(truncate_to_width(comment, kCommentColumns - 1)) + "…";
    }
    cells.push_back(std::move(comment));
  }
  return cells;
}

std::vector<std::string> tag_cells(const db::ResultSet& runs) {
  std::vector<nlohmann::json> tags;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    auto text = runs.rows[r][runs.column("tags")];
    tags.push_back(text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json());
  }
  auto cells = distinguishing_tags(tags);
  for (auto& cell : cells) cell = printable(cell);
  return cells;
}

std::vector<std::string> aligned_lines(const Table& table) {
  std::vector<std::size_t> widths(table[0].size(), 0);
  for (const auto& row : table) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], display_width(row[c].empty() ? "-" : row[c]));
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

}  // namespace

std::string json_value_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

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

std::vector<std::string> distinguishing_tags(const std::vector<nlohmann::json>& tags) {
  // key → the values it has over the runs; a run without the key adds a null.
  std::map<std::string, std::vector<nlohmann::json>> values;
  for (const auto& run : tags) {
    if (!run.is_object()) continue;
    for (const auto& [key, value] : run.items()) values[key];
  }
  for (auto& [key, seen] : values) {
    for (const auto& run : tags) {
      seen.push_back(run.is_object() && run.contains(key) ? run[key] : nlohmann::json());
    }
  }
  std::vector<std::string> cells(tags.size());
  for (const auto& [key, seen] : values) {
    const nlohmann::json& first = seen.front();
    bool differs = tags.size() == 1 || std::any_of(seen.begin(), seen.end(),
                                                   [&first](const auto& v) { return v != first; });
    if (!differs) continue;
    for (std::size_t r = 0; r < tags.size(); ++r) {
      if (seen[r].is_null()) continue;
      cells[r] += (cells[r].empty() ? "" : " ") + key + "=" + json_value_text(seen[r]);
    }
  }
  return cells;
}

MetricOrder parse_metric_order(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return {text, false};
  std::string direction = text.substr(colon + 1);
  if (direction != "asc" && direction != "desc") {
    throw UsageError("--sort expects COLUMN, COLUMN:asc or COLUMN:desc, got '" + text + "'");
  }
  return {text.substr(0, colon), direction == "desc"};
}

bool best_is_lowest(const StatusQuery& query) {
  if (query.order && query.metric && query.order->column == query.metric->name) {
    return !query.order->descending;
  }
  return query.metric && lower_is_better(query.metric->name);
}

std::vector<std::string> status_table_lines(const db::ResultSet& runs, Clock::time_point now,
                                            const StatusMetric* metric) {
  Table table{{"RUN", "EXPERIMENT", "STATUS", "STARTED", "UPDATED", "DURATION", "EXIT", "JOB",
               "HOST", "STEP"}};
  for (std::size_t r = 0; r < runs.size(); ++r) table.push_back(run_row(runs, r, now));
  add_optional_column(table, "TAGS", tag_cells(runs));
  add_optional_column(table, "COMMENT", comment_cells(runs));
  if (metric) {
    table[0].push_back(printable(metric->name));
    table[0].push_back(metric->lower_is_better ? "BEST (min)" : "BEST (max)");
    for (std::size_t r = 0; r < runs.size(); ++r) {
      auto id = std::stoll(cell_text(runs, r, "id"));
      table[r + 1].push_back(metric_cell(*metric, id));
      table[r + 1].push_back(best_cell(*metric, id));
    }
  }
  return aligned_lines(table);
}

std::vector<std::string> read_status_table(db::Database& db, const StatusQuery& query,
                                           Clock::time_point now) {
  auto runs = list_runs(db, query.filter, query.order);
  if (!query.metric) return status_table_lines(runs, now);
  std::vector<std::int64_t> ids;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    ids.push_back(std::stoll(runs.rows[r][runs.column("id")].value_or("0")));
  }
  StatusMetric shown{query.metric->name,
                     read_metric_series(db, *query.metric, ids, kSparklinePoints),
                     best_is_lowest(query)};
  return status_table_lines(runs, now, &shown);
}

}  // namespace sqltrack
