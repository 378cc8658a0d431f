#pragma once
// From parsed metric lines to the rows that one write stores: a run's stream fills in the
// step and progress a line leaves out, and a batch merges rows with the same key, because
// one SQL statement cannot upsert the same (run_id, step, progress) twice.

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sqltrack/metrics/protocol.hpp"

namespace sqltrack {

// One metrics row of a run: its key and the metric columns it sets.
struct MetricRow {
  std::int64_t step = 0;
  double progress = 0.0;
  MetricValues values;  // names unique, in first-seen order
};

// The position of one run's metric stream. A line without step belongs to the last step seen
// (0 before any). A line without progress keeps the last progress of the current step; a
// line that moves to another step without giving progress starts it at 0.0. Only the
// current step's progress is remembered: coming back to an earlier step without progress
// means 0.0, not that step's old progress.
class MetricStream {
 public:
  MetricStream() = default;
  // Continues a stream from a known position, e.g. a run resumed after a requeue.
  MetricStream(std::int64_t step, double progress) : step_(step), progress_(progress) {}

  MetricRow to_row(MetricLine line);

  std::int64_t step() const noexcept { return step_; }
  double progress() const noexcept { return progress_; }

 private:
  std::int64_t step_ = 0;
  double progress_ = 0.0;
};

// What a writer takes out of a batch: the rows and the union of their column names, both in
// first-seen order.
struct MetricRowSet {
  std::vector<MetricRow> rows;
  std::vector<std::string> columns;
};

// Rows waiting to be written, at most one per (step, progress). Adding a row whose key is
// already there merges it into that row: each column it gives takes the new value, the
// others keep theirs. Keys compare by value, so -0.0 and 0.0 are one key (stored as 0.0).
class MetricBatch {
 public:
  // Adds or merges a row; true when it merged into a row already in the batch. Throws
  // std::invalid_argument for a NaN or infinite progress (the parser refuses those, so this
  // is a programming error). Precondition: the row's column names are unique.
  bool add(MetricRow row);

  std::size_t size() const noexcept { return rows_.size(); }
  bool empty() const noexcept { return rows_.empty(); }
  const std::vector<MetricRow>& rows() const noexcept { return rows_; }
  // Every column name any row has, in first-seen order.
  const std::vector<std::string>& columns() const noexcept { return columns_; }

  void clear();
  // Moves the rows and columns out and leaves the batch empty.
  MetricRowSet take();

 private:
  struct RowKey {
    std::int64_t step;
    double progress;
    bool operator==(const RowKey&) const = default;
  };
  struct RowKeyHash {
    std::size_t operator()(const RowKey& key) const noexcept;
  };

  std::vector<MetricRow> rows_;
  std::unordered_map<RowKey, std::size_t, RowKeyHash> row_index_;  // key -> position in rows_
  std::vector<std::string> columns_;
  std::unordered_set<std::string> known_columns_;
};

}  // namespace sqltrack
