#pragma once
// The table of `sqltrack-run status`, as lines of text: printed once, or redrawn in place by
// `sqltrack-run status --watch`.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/metrics/sql/metric_columns.hpp"
#include "sqltrack/read/metric_series.hpp"
#include "sqltrack/store/run_listing.hpp"
#include "sqltrack/store/store.hpp"

namespace sqltrack {

// What `status` shows: which runs, in which order, with which metric.
struct StatusQuery {
  RunFilter filter;
  std::optional<MetricColumn> metric;  // a sparkline, the last and the best value per run
  std::optional<MetricOrder> order;    // a leaderboard by a metric's last value
};

// A metric shown as the table's last columns: a sparkline with the last value, and the best.
struct StatusMetric {
  std::string name;
  std::map<std::int64_t, MetricSeries> series;  // by run id
  bool lower_is_better = false;
};

// A header line and one line per run of `runs` (as list_runs returns them), columns aligned.
// TAGS shows the tags that tell the runs apart and COMMENT the comments, each only when some
// run has one. Text from the database has its control characters replaced.
std::vector<std::string> status_table_lines(const db::ResultSet& runs, Clock::time_point now,
                                            const StatusMetric* metric = nullptr);

// Reads the runs (and the metric's series) and returns the table's lines.
std::vector<std::string> read_status_table(db::Database& db, const StatusQuery& query,
                                           Clock::time_point now);

// A JSON value as people read it: a string without its quotes, anything else as JSON text.
std::string json_value_text(const nlohmann::json& value);

// Per run, "k=v k2=v2" of the tags whose values are not the same in every run (a tag some runs
// lack counts as differing); one run alone shows all its tags. Keys in order, values that are
// JSON strings without quotes. Tags that are not a JSON object show as none.
std::vector<std::string> distinguishing_tags(const std::vector<nlohmann::json>& tags);

// "val_loss" → order by its last value ascending; "acc:desc" descending; "x:asc" ascending.
// UsageError for another direction.
MetricOrder parse_metric_order(const std::string& text);

// Which value of the metric is its best: the direction a leaderboard sorts by when it sorts by
// this metric, else lower_is_better(name).
bool best_is_lowest(const StatusQuery& query);

// A stored time as local time, "2026-11-23 10:15:30"; "-" for NULL.
std::string local_time_text(const std::optional<std::string>& stored);

}  // namespace sqltrack
