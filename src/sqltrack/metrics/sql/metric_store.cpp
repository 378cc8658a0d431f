#include "sqltrack/metrics/sql/metric_store.hpp"

#include <unordered_map>

#include "sqltrack/metrics/metric_format.hpp"
#include "sqltrack/metrics/sql/metric_upsert.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack {

namespace {

// A job that writes ever new bad keys must not make the memory of them grow without end.
constexpr std::size_t kMaxRememberedColumns = 1000;
// Up to this many keys a row's keys are compared pairwise; beyond, through a hash map.
constexpr std::size_t kPairwiseKeys = 16;

std::string in_quotes(std::string_view text) {
  return "'" + std::string(text) + "'";
}

}  // namespace

void MetricStore::resolve_targets(const MetricRow& row) {
  targets_.resize(row.values.size());
  for (std::size_t i = 0; i < row.values.size(); ++i) {
    KeyTarget& target = targets_[i];
    target.missing.clear();
    target.column = columns_.resolve(row.values[i].first);
    if (!target.column) target.missing = metric_column_name(row.values[i].first);
  }
}

std::optional<std::string> MetricStore::clash(const MetricRow& row) const {
  const auto message = [&](std::size_t first, std::size_t second) {
    return "keys " + in_quotes(row.values[first].first) + " and " +
           in_quotes(row.values[second].first) + " both go to column \"" +
           std::string(targets_[second].name()) + "\"";
  };
  const std::size_t count = row.values.size();
  if (count <= kPairwiseKeys) {
    for (std::size_t i = 1; i < count; ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (targets_[i].name() == targets_[j].name()) return message(j, i);
      }
    }
    return std::nullopt;
  }
  std::unordered_map<std::string_view, std::size_t> first;
  first.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto [seen, inserted] = first.emplace(targets_[i].name(), i);
    if (!inserted) return message(seen->second, i);
  }
  return std::nullopt;
}

// True when it added a column (the targets must then be resolved again).
bool MetricStore::add_missing_columns(db::Database& db, const MetricRow& row) {
  if (!add_columns_) return false;
  bool added = false;
  for (std::size_t i = 0; i < row.values.size(); ++i) {
    const std::string& name = targets_[i].missing;
    if (targets_[i].column || is_metric_key_column(name) || not_added_.contains(name)) continue;
    std::string reason;
    try {
      columns_.add(add_metric_column(db, name, row.values[i].second));
      added = true;
      continue;
    } catch (const DatabaseError& e) {
      // The database cannot write now (or at all): the caller keeps the row.
      if (!e.refused()) throw;
      reason = "cannot add column \"" + name + "\": " + one_line(e.what());
    } catch (const Error& e) {
      reason = one_line(e.what());
    }
    if (not_added_.size() >= kMaxRememberedColumns) not_added_.clear();
    not_added_.emplace(name, reason);
  }
  return added;
}

std::optional<std::string> MetricStore::problem(std::string_view key, const MetricValue& value,
                                                const KeyTarget& target) const {
  if (target.column) return metric_value_mismatch(*target.column, value);
  if (target.missing == "run_id") return std::string("run_id is set by sqltrack-run");
  if (is_metric_key_column(target.missing)) {
    return "its column would be \"" + target.missing +
           "\", the row's key, not a metric: write the key as " + target.missing;
  }
  if (const auto found = not_added_.find(target.missing); found != not_added_.end()) {
    return found->second;
  }
  return columns_.unknown_column_reason(key);
}

void MetricStore::check(db::Database& db, MetricRow&& row, MetricBatch& batch,
                        const std::function<std::string()>& where) {
  resolve_targets(row);
  if (auto reason = clash(row)) {
    rejects_.reject(where(), *reason, format_metric_row(row));
    return;
  }
  if (add_missing_columns(db, row)) resolve_targets(row);
  // Kept values move to the front, renamed to their column; rejected ones go alone.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < row.values.size(); ++i) {
    auto& [key, value] = row.values[i];
    if (auto reason = problem(key, value, targets_[i])) {
      rejects_.reject_value(where(), key, *reason,
                            format_metric_row(MetricRow{row.step, row.progress, {row.values[i]}}));
      continue;
    }
    if (key != targets_[i].column->name) key = targets_[i].column->name;
    if (kept != i) row.values[kept] = std::move(row.values[i]);
    ++kept;
  }
  if (kept == 0 && !row.values.empty()) return;  // nothing of it is left to store
  row.values.erase(row.values.begin() + static_cast<std::ptrdiff_t>(kept), row.values.end());
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
