#pragma once
// The schema changes the metric writer makes while jobs run, kept here with the rest of the
// DDL: a column added for a new metric key, and the staging table of a COPY batch.

#include <string_view>

#include "sqltrack/db/database.hpp"

namespace sqltrack {

// ALTER TABLE metrics ADD COLUMN "name" type (IF NOT EXISTS on PostgreSQL). `name` is quoted;
// `type` is one of the writer's own type names, never a user's text.
void add_metrics_column(db::Database& db, std::string_view name, std::string_view type);

// A temporary table shaped like metrics, dropped at commit, that one batch is copied into.
inline constexpr std::string_view kMetricsStagingTable = "sqltrack_metrics_staging";
void create_metrics_staging_table(db::Database& db);

}  // namespace sqltrack
