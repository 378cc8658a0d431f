#pragma once
// Writing a batch of metric rows: multi-row INSERT ... ON CONFLICT DO UPDATE with bound
// parameters, the same SQL on both engines, one statement without BEGIN/COMMIT when the batch
// fits in one. Unprepared, 250 rows per statement beat 1000 (planning grows with the
// statement). Larger batches on PostgreSQL go by a plain COPY into metrics when the run has
// no stored row in their steps, else by COPY into a staging table and one
// INSERT ... SELECT ... ON CONFLICT.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/metrics/metric_batch.hpp"
#include "sqltrack/metrics/sql/metric_columns.hpp"

namespace sqltrack {

struct RefusedMetricRow {
  std::size_t index = 0;  // into the rows given
  std::string reason;     // the database's message
};

// Upserts the rows of one run. Every column a row gives must be in `columns` (the caller
// checked the values). A column a row leaves out keeps its stored value (COALESCE), so
// lines for one key merge across batches as they do within one. All rows go in one
// transaction; when the database refuses it, the rows are retried in halves, each in its own
// transaction, until the refused rows are found: those are returned, all others are
// written. Any other DatabaseError (DatabaseError::refused() false: the connection lost, a
// lock, a full disk, a read-only file) propagates with nothing written by that attempt.
std::vector<RefusedMetricRow> upsert_metric_rows(db::Database& db, std::int64_t run_id,
                                                 const std::vector<MetricRow>& rows,
                                                 const MetricColumns& columns,
                                                 std::size_t rows_per_statement = 250);

}  // namespace sqltrack
