#pragma once
// Metric rows on their way into the metrics table: each checked against the columns (an
// unknown key may become a column), merged per (step, progress), and upserted; a row the
// database refuses is found and rejected alone. Used by the wrapper while the command runs
// and by journal replay.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/metrics/metric_batch.hpp"
#include "sqltrack/metrics/reject_log.hpp"
#include "sqltrack/metrics/sql/metric_columns.hpp"

namespace sqltrack {

class MetricStore {
 public:
  MetricStore(MetricColumns columns, bool add_columns, std::size_t rows_per_statement,
              RejectLog& rejects)
      : columns_(std::move(columns)),
        add_columns_(add_columns),
        rows_per_statement_(rows_per_statement),
        rejects_(rejects) {}

  // Adds the row to `batch`, each key renamed to its column (MetricColumns::resolve). A key
  // without a column, or with a value its column does not take, is rejected alone (with the
  // row's step and progress, named by `where()`) and the rest of the row goes on; a row whose
  // every value was rejected is not added. Two keys that go to one column reject the row. May
  // add columns (add_columns); a DatabaseError that is not refused() goes to the caller with
  // the row untouched.
  void check(db::Database& db, MetricRow&& row, MetricBatch& batch,
             const std::function<std::string()>& where);

  // Upserts the rows; those the database refuses are rejected. Returns how many were stored.
  // A DatabaseError that is not refused() (connection lost, busy, disk full, read-only) goes to
  // the caller, the rows not stored.
  std::size_t store(db::Database& db, std::int64_t run_id, const std::vector<MetricRow>& rows);

  void reject(std::string_view where, std::string_view reason, std::string_view line) {
    rejects_.reject(where, reason, line);
  }

  const MetricColumns& columns() const noexcept { return columns_; }

 private:
  // Where one key of the row being checked goes: its column, or the name of the column it
  // would be (`missing`).
  struct KeyTarget {
    const MetricColumn* column = nullptr;
    std::string missing;
    std::string_view name() const { return column ? std::string_view(column->name) : missing; }
  };
  void resolve_targets(const MetricRow& row);
  std::optional<std::string> clash(const MetricRow& row) const;
  bool add_missing_columns(db::Database& db, const MetricRow& row);
  std::optional<std::string> problem(std::string_view key, const MetricValue& value,
                                     const KeyTarget& target) const;

  MetricColumns columns_;
  bool add_columns_;
  std::size_t rows_per_statement_;
  RejectLog& rejects_;
  std::vector<KeyTarget> targets_;  // one per value of the row being checked
  // Columns that could not be added, and why: not tried again for every line.
  std::map<std::string, std::string, std::less<>> not_added_;
};

}  // namespace sqltrack
