#include "sqltrack/metric_store.hpp"

#include "sqltrack/error.hpp"
#include "sqltrack/metric_format.hpp"
#include "sqltrack/metric_upsert.hpp"

namespace sqltrack {

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

void MetricStore::check(db::Database& db, MetricRow&& row, MetricBatch& batch,
                        const std::function<std::string()>& where) {
  std::string reason;
  for (const auto& [key, value] : row.values) {
    const MetricColumn* column = columns_.find(key);
    if (!column && add_columns_) {
      try {
        columns_.add(add_metric_column(db, key, value));
        column = columns_.find(key);
      } catch (const DatabaseError& e) {
        // The database is away: the caller keeps the row and tries again later.
        if (e.retryable()) throw;
        reason = one_line(e.what());
      } catch (const Error& e) {
        reason = one_line(e.what());
      }
      if (!reason.empty() && !reason.starts_with("cannot add column")) {
        reason = "cannot add column \"" + key + "\": " + reason;
      }
    }
    if (!reason.empty()) break;
    if (!column) {
      reason = columns_.unknown_column_reason(key);
      break;
    }
    if (auto mismatch = metric_value_mismatch(*column, value)) {
      reason = *mismatch;
      break;
    }
  }
  if (!reason.empty()) {
    rejects_.reject(where(), reason, format_metric_row(row));
    return;
  }
  batch.add(std::move(row));
}

std::size_t MetricStore::store(db::Database& db, std::int64_t run_id,
                               const std::vector<MetricRow>& rows) {
  if (rows.empty()) return 0;
  auto refused = upsert_metric_rows(db, run_id, rows, columns_, rows_per_statement_);
  for (const auto& row : refused) {
    rejects_.reject("row step=" + std::to_string(rows[row.index].step),
                    "the database refused it: " + one_line(row.reason),
                    format_metric_row(rows[row.index]));
  }
  return rows.size() - refused.size();
}

}  // namespace sqltrack
