#include "sqltrack/metric_upsert.hpp"

#include <algorithm>
#include <span>
#include <unordered_map>

#include "sqltrack/error.hpp"

namespace sqltrack {
namespace {

// Below SQLite's default limit of 32766 variables; PostgreSQL allows 65535.
constexpr std::size_t kMaxParameters = 30000;

bool retryable(const DatabaseError& e) {
  return e.kind() == DatabaseError::Kind::connection || e.kind() == DatabaseError::Kind::busy;
}

class UpsertWriter {
 public:
  UpsertWriter(db::Database& db, std::int64_t run_id, const std::vector<MetricRow>& rows,
               const MetricColumns& columns, std::size_t rows_per_statement)
      : db_(db), run_id_(run_id), rows_(rows), columns_(columns),
        rows_per_statement_(std::max<std::size_t>(1, rows_per_statement)) {}

  // Writes rows [first, last) in one transaction.
  void write(std::size_t first, std::size_t last) {
    db::Transaction transaction(db_);
    std::size_t begin = first;
    while (begin < last) {
      std::size_t end = statement_end(begin, last);
      write_statement(begin, end);
      begin = end;
    }
    transaction.commit();
  }

  // Writes what it can of [first, last), collecting the rows the database refuses.
  void write_isolating(std::size_t first, std::size_t last, std::vector<RefusedMetricRow>& refused) {
    try {
      write(first, last);
    } catch (const DatabaseError& e) {
      if (retryable(e)) throw;
      if (last - first == 1) {
        refused.push_back({first, e.what()});
        return;
      }
      std::size_t middle = first + (last - first) / 2;
      write_isolating(first, middle, refused);
      write_isolating(middle, last, refused);
    }
  }

 private:
  // The end of the statement that starts at `begin`: at most rows_per_statement rows and
  // kMaxParameters parameters.
  std::size_t statement_end(std::size_t begin, std::size_t last) const {
    std::unordered_map<std::string_view, bool> seen;
    std::size_t end = begin;
    while (end < last && end - begin < rows_per_statement_) {
      std::size_t new_columns = 0;
      for (const auto& [name, value] : rows_[end].values) new_columns += seen.contains(name) ? 0 : 1;
      std::size_t params = 1 + (end + 1 - begin) * (2 + seen.size() + new_columns);
      if (end > begin && params > kMaxParameters) break;
      for (const auto& [name, value] : rows_[end].values) seen.emplace(name, true);
      ++end;
    }
    return end;
  }

  void write_statement(std::size_t begin, std::size_t end) {
    std::vector<const MetricColumn*> columns;
    std::unordered_map<std::string_view, std::size_t> position;
    for (std::size_t r = begin; r < end; ++r) {
      for (const auto& [name, value] : rows_[r].values) {
        if (position.contains(name)) continue;
        const MetricColumn* column = columns_.find(name);
        if (!column) throw Error("metric column \"" + name + "\" is not known to the writer");
        position.emplace(column->name, columns.size());
        columns.push_back(column);
      }
    }
    std::string sql = "INSERT INTO metrics (run_id, step, progress";
    for (const auto* column : columns) sql += ", " + db::quote_identifier(column->name);
    sql += ") VALUES ";
    std::vector<db::Value> params;
    params.reserve(1 + (end - begin) * (2 + columns.size()));
    params.emplace_back(run_id_);
    for (std::size_t r = begin; r < end; ++r) {
      sql += r == begin ? "($1" : ", ($1";
      std::vector<db::Value> row(2 + columns.size());
      row[0] = rows_[r].step;
      row[1] = rows_[r].progress;
      for (const auto& [name, value] : rows_[r].values) {
        std::size_t index = position.at(name);
        row[2 + index] = metric_db_value(*columns[index], value);
      }
      for (auto& value : row) {
        params.push_back(std::move(value));
        sql += ", $" + std::to_string(params.size());
      }
      sql += ')';
    }
    sql += " ON CONFLICT (run_id, step, progress) DO ";
    if (columns.empty()) {
      sql += "NOTHING";
    } else {
      sql += "UPDATE SET ";
      for (std::size_t c = 0; c < columns.size(); ++c) {
        const std::string name = db::quote_identifier(columns[c]->name);
        if (c > 0) sql += ", ";
        sql += name + " = COALESCE(excluded." + name + ", metrics." + name + ")";
      }
    }
    db_.query(sql, params);
  }

  db::Database& db_;
  std::int64_t run_id_;
  const std::vector<MetricRow>& rows_;
  const MetricColumns& columns_;
  std::size_t rows_per_statement_;
};

}  // namespace

std::vector<RefusedMetricRow> upsert_metric_rows(db::Database& db, std::int64_t run_id,
                                                 const std::vector<MetricRow>& rows,
                                                 const MetricColumns& columns,
                                                 std::size_t rows_per_statement) {
  std::vector<RefusedMetricRow> refused;
  if (rows.empty()) return refused;
  UpsertWriter writer(db, run_id, rows, columns, rows_per_statement);
  writer.write_isolating(0, rows.size(), refused);
  return refused;
}

}  // namespace sqltrack
