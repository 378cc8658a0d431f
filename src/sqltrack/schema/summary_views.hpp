#pragma once
// The read-side views run_summary (one row per run) and latest_metrics (per run, the last
// value of each metric column). Users add metric columns at any time (their migrations,
// --add-columns), so a view with a fixed column list would go stale: both views are
// regenerated from the current columns of `metrics` after migrations (ensure_schema,
// apply_user_migrations, `sqltrack setup`) and after add_metric_column. Migration
// 0003_run_summary_views.sql creates the same views for a metrics table without metric columns.

#include <string>
#include <string_view>
#include <vector>

#include "sqltrack/db/database.hpp"

namespace sqltrack {

// An SQL expression for the last value of one metric column of a run: the value at the
// largest (step, progress) among the run's rows where the column is not NULL (metric rows
// are sparse: val_loss may come every 100 steps). `run_id` is an SQL expression ("r.id").
std::string last_metric_value_sql(std::string_view column, std::string_view run_id);

// The names run_summary gives the metric columns, in order: a metric's own name, or
// "metric_<name>" when a run column of the view has that name already.
std::vector<std::string> run_summary_metric_names(const std::vector<std::string>& metric_columns);

// CREATE VIEW latest_metrics and CREATE VIEW run_summary for these metric columns.
std::vector<std::string> create_summary_views_sql(db::Engine engine,
                                                  const std::vector<std::string>& metric_columns);

// The metric columns of `metrics`, in table order (run_id, step and progress are the key).
std::vector<std::string> metric_column_names(db::Database& db);

// Drops both views when they exist: before a migration that may drop or retype a metric
// column, which PostgreSQL refuses while a view uses it.
void drop_summary_views(db::Database& db);

// Drops and creates both views from the current columns of `metrics`, in the caller's
// transaction.
void create_summary_views(db::Database& db);

// create_summary_views in a transaction of its own, queued behind other processes' schema
// changes. Must not be called inside a transaction.
void refresh_summary_views(db::Database& db);

}  // namespace sqltrack
