#pragma once
// The columns of the metrics table as the writer sees them: which keys a line may use, which
// values each column takes, and how a new column is added when the user allows it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/metrics/protocol.hpp"

namespace sqltrack {

// What a column holds, from its declared SQL type. `other` (json, date, numeric(p,s), ...)
// takes any value and lets the database decide.
enum class MetricColumnKind { floating, integer, boolean, text, timestamp, other };

struct MetricColumn {
  std::string name;
  MetricColumnKind kind = MetricColumnKind::other;
  std::string declared_type;  // as the database reports it, for messages
};

MetricColumnKind metric_column_kind(db::Engine engine, std::string_view declared_type);

class MetricColumns {
 public:
  // The metric columns of `metrics` (run_id, step and progress are the key, not metrics).
  static MetricColumns load(db::Database& db);

  const MetricColumn* find(std::string_view name) const;
  // The column a line's key goes to: the column of exactly that name (a migration's
  // "trainLoss"), else the column of its mapped name (metric_column_name), else null.
  const MetricColumn* resolve(std::string_view key) const;
  // The message for a key that has no column: names the column it would be, suggests a column
  // that differs only in case, and says how to add it.
  std::string unknown_column_reason(std::string_view key) const;
  void add(MetricColumn column);
  std::size_t size() const noexcept { return columns_.size(); }

 private:
  std::vector<MetricColumn> columns_;
};

// Why the value does not fit the column, or nullopt when it does. An integer fits a float
// column; an integral float (3.0) fits an integer column.
std::optional<std::string> metric_value_mismatch(const MetricColumn& column,
                                                 const MetricValue& value);

// The value as bound for the column (an integral float for an integer column becomes an
// integer; a timestamp is bound as its ISO 8601 text).
db::Value metric_db_value(const MetricColumn& column, const MetricValue& value);

// Names a user may add with --add-columns: [a-z_][a-z0-9_]*, at most 63 bytes, and not a
// key column. Lower case only, because PostgreSQL folds unquoted names in users' SQL.
bool is_valid_new_metric_column_name(std::string_view name);

// run_id, step and progress: the metrics table's key, never a metric.
bool is_metric_key_column(std::string_view name);

// Adds the column with a type inferred from the first value seen (a number, whole or not:
// double precision; boolean, text, timestamptz on PostgreSQL; REAL, BOOLEAN, TEXT, TIMESTAMP
// on SQLite) and returns it. A whole number types the column as a float because metrics
// that start at 1 (an accuracy, a loss scale) go on as fractions. Another wrapper adding the same
// column at the same time is not an error: the column that exists then is returned. Throws Error
// for an invalid name.
MetricColumn add_metric_column(db::Database& db, std::string_view name,
                               const MetricValue& first_value);

}  // namespace sqltrack
