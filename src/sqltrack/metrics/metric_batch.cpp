#include "sqltrack/metrics/metric_batch.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace sqltrack {
namespace {

// Merging rows of a few columns scans linearly; past this many name comparisons an index is
// cheaper, and it keeps a merge of rows with thousands of columns linear.
constexpr std::size_t kLinearMergeComparisons = 256;

// Gives each column of update its new value in row, appending the columns row lacks.
void merge_values(MetricValues& row, MetricValues&& update) {
  if (row.size() * update.size() <= kLinearMergeComparisons) {
    for (auto& [name, value] : update) {
      const std::string& wanted = name;  // clang before 16 cannot capture a structured binding
      const auto same_name = [&wanted](const auto& column) { return column.first == wanted; };
      if (const auto found = std::find_if(row.begin(), row.end(), same_name); found != row.end()) {
        found->second = std::move(value);
      } else {
        row.emplace_back(std::move(name), std::move(value));
      }
    }
    return;
  }
  // Reserved first so that appending never moves the strings the index views.
  row.reserve(row.size() + update.size());
  std::unordered_map<std::string_view, std::size_t> position;
  position.reserve(row.size() + update.size());
  for (std::size_t i = 0; i < row.size(); ++i) position.emplace(row[i].first, i);
  for (auto& [name, value] : update) {
    if (const auto found = position.find(name); found != position.end()) {
      row[found->second].second = std::move(value);
    } else {
      row.emplace_back(std::move(name), std::move(value));
      position.emplace(row.back().first, row.size() - 1);
    }
  }
}

}  // namespace

MetricRow MetricStream::to_row(MetricLine line) {
  if (line.step && *line.step != step_) {
    step_ = *line.step;
    progress_ = 0.0;
  }
  if (line.progress) progress_ = *line.progress;
  return MetricRow{step_, progress_, std::move(line.values)};
}

std::size_t MetricBatch::RowKeyHash::operator()(const RowKey& key) const noexcept {
  std::size_t hash = std::hash<std::int64_t>{}(key.step);
  hash ^= std::hash<double>{}(key.progress) + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2);
  return hash;
}

bool MetricBatch::add(MetricRow row) {
  if (!std::isfinite(row.progress)) {
    throw std::invalid_argument("metric row progress must be finite, got " +
                                std::to_string(row.progress));
  }
  if (row.progress == 0.0) row.progress = 0.0;  // -0.0 is the key 0.0

  for (const auto& column : row.values) {
    if (!known_columns_.contains(column.first)) {
      known_columns_.insert(column.first);
      columns_.push_back(column.first);
    }
  }

  const auto [entry, inserted] =
      row_index_.try_emplace(RowKey{row.step, row.progress}, rows_.size());
  if (inserted) {
    rows_.push_back(std::move(row));
    return false;
  }
  merge_values(rows_[entry->second].values, std::move(row.values));
  return true;
}

void MetricBatch::clear() {
  rows_.clear();
  row_index_.clear();
  columns_.clear();
  known_columns_.clear();
}

MetricRowSet MetricBatch::take() {
  MetricRowSet taken{std::move(rows_), std::move(columns_)};
  clear();  // a moved-from vector is valid but unspecified; make it empty
  return taken;
}

}  // namespace sqltrack
