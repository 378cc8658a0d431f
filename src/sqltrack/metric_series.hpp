#pragma once
// A metric column's values over steps for a set of runs, averaged down in the database to a
// few points per run: the sparklines of `sqltrack-run status --metric` and the learning curves
// of `sqltrack report`.

#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string_view>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/metric_columns.hpp"

namespace sqltrack {

struct MetricPoint {
  double step = 0;
  double value = 0;
};

struct MetricSeries {
  // In (step, progress) order. With more rows than points asked for, the rows are cut into
  // that many consecutive buckets of near-equal size and each point is a bucket's mean.
  std::vector<MetricPoint> points;
  // The value at the largest (step, progress), not averaged.
  double last_value = std::numeric_limits<double>::quiet_NaN();
};

// The metric columns that hold numbers (integer, floating point, numeric/decimal), in table
// order.
std::vector<MetricColumn> numeric_metric_columns(db::Database& db);

// The metric column `name`, checked to exist and to hold numbers; otherwise an Error that
// names it and the metric columns that do.
MetricColumn plottable_metric_column(db::Database& db, std::string_view name);

// The series of `column` for each run that has a non-NULL value in it (others are absent),
// with at most `max_points` points per run.
std::map<std::int64_t, MetricSeries> read_metric_series(db::Database& db,
                                                        const MetricColumn& column,
                                                        std::span<const std::int64_t> run_ids,
                                                        std::size_t max_points);

}  // namespace sqltrack
