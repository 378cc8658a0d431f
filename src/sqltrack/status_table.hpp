#pragma once
// The table of `sqltrack-run status`, as lines of text: printed once, or redrawn in place by
// `sqltrack-run status --watch`.

#include <optional>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/metric_columns.hpp"
#include "sqltrack/metric_series.hpp"
#include "sqltrack/run_listing.hpp"
#include "sqltrack/store.hpp"

namespace sqltrack {

// A metric shown as the table's last column: a sparkline and the last value of each run.
struct StatusMetric {
  std::string name;
  std::map<std::int64_t, MetricSeries> series;  // by run id
};

// A header line and one line per run of `runs` (as list_runs returns them), columns aligned.
// Text from the database has its control characters replaced.
std::vector<std::string> status_table_lines(const db::ResultSet& runs, Clock::time_point now,
                                            const StatusMetric* metric = nullptr);

// Reads the runs (and the metric's series) and returns the table's lines.
std::vector<std::string> read_status_table(db::Database& db, const RunFilter& filter,
                                           const std::optional<MetricColumn>& metric,
                                           Clock::time_point now);

// A stored time as local time, "2026-11-23 10:15:30"; "-" for NULL.
std::string local_time_text(const std::optional<std::string>& stored);

}  // namespace sqltrack
