#pragma once
// Metric rows on their way into the metrics table: each checked against the columns (an
// unknown key may become a column), merged per (step, progress), and upserted; a row the
// database refuses is found and rejected alone. Used by the wrapper while the command runs
// and by journal replay.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/metric_batch.hpp"
#include "sqltrack/metric_columns.hpp"
#include "sqltrack/reject_log.hpp"

namespace sqltrack {

class MetricStore {
 public:
  MetricStore(MetricColumns columns, bool add_columns, std::size_t rows_per_statement,
              RejectLog& rejects)
      : columns_(std::move(columns)),
        add_columns_(add_columns),
        rows_per_statement_(rows_per_statement),
        rejects_(rejects) {}

  // Adds the row to `batch` when its keys and values fit the columns; otherwise rejects it
  // with the reason, naming it by `where()`. May add a column (add_columns).
  void check(db::Database& db, MetricRow&& row, MetricBatch& batch,
             const std::function<std::string()>& where);

  // Upserts the rows; those the database refuses are rejected. Returns how many were stored.
  // DatabaseError (connection lost, database busy) goes to the caller, the rows not stored.
  std::size_t store(db::Database& db, std::int64_t run_id, const std::vector<MetricRow>& rows);

  void reject(std::string_view where, std::string_view reason, std::string_view line) {
    rejects_.reject(where, reason, line);
  }

  const MetricColumns& columns() const noexcept { return columns_; }

 private:
  MetricColumns columns_;
  bool add_columns_;
  std::size_t rows_per_statement_;
  RejectLog& rejects_;
};

// Newlines in a database's message would break the one-line reports.
std::string one_line(std::string text);

}  // namespace sqltrack
