#include "sqltrack/schema/metrics_ddl.hpp"

#include <string>

namespace sqltrack {

void add_metrics_column(db::Database& db, std::string_view name, std::string_view type) {
  const bool pg = db.engine() == db::Engine::postgres;
  db.execute(std::string("ALTER TABLE metrics ADD COLUMN ") + (pg ? "IF NOT EXISTS " : "") +
             db::quote_identifier(name) + " " + std::string(type));
}

void create_metrics_staging_table(db::Database& db) {
  db.execute("CREATE TEMPORARY TABLE " + std::string(kMetricsStagingTable) +
             " (LIKE metrics) ON COMMIT DROP");
}

}  // namespace sqltrack
