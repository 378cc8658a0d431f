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
#include "sqltrack/metrics/sql/metric_columns.hpp"

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
  // Over every row, not averaged.
  double min_value = std::numeric_limits<double>::quiet_NaN();
  double max_value = std::numeric_limits<double>::quiet_NaN();
};

// Whether a smaller value of this metric is the better one: names that say loss, error,
// perplexity or time (val_loss, test_err, wer, mse, epoch_time). Others: larger is better.
bool lower_is_better(std::string_view metric_name);

// Whether the column holds numbers: integer, floating point, numeric/decimal.
bool holds_numbers(const MetricColumn& column);

// Every metric column of `metrics` with what it holds, in table order.
std::vector<MetricColumn> metric_columns_in_order(db::Database& db);

// The metric columns that hold numbers (integer, floating point, numeric/decimal), in table
// order.
std::vector<MetricColumn> numeric_metric_columns(db::Database& db);

// Those of `columns` that have a value in any of the runs: one scan of their rows for all.
std::vector<MetricColumn> columns_with_values(db::Database& db, std::vector<MetricColumn> columns,
                                              std::span<const std::int64_t> run_ids);

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
