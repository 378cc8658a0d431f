#include "sqltrack/metrics/sql/metric_upsert.hpp"

#include <algorithm>
#include <span>
#include <unordered_map>

#include "sqltrack/db/postgres_database.hpp"
#include "sqltrack/schema/metrics_ddl.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack {
namespace {

// Below SQLite's default limit of 32766 variables; PostgreSQL allows 65535.
constexpr std::size_t kMaxParameters = 30000;

// A value in COPY's text format: PostgreSQL's text form, with backslash escapes for the
// bytes that end fields and rows, and \N for NULL.
void append_copy_text(std::string& out, const db::Value& value) {
  if (std::holds_alternative<std::monostate>(value)) {
    out += "\\N";
    return;
  }
  const auto* text = std::get_if<std::string>(&value);
  if (!text) {
    out += db::postgres_text(value);
    return;
  }
  for (char c : *text) {
    if (!append_backslash_escape(out, c)) out += c;
  }
}

class UpsertWriter {
 public:
  UpsertWriter(db::Database& db, std::int64_t run_id, const std::vector<MetricRow>& rows,
               const MetricColumns& columns, std::size_t rows_per_statement)
      : db_(db),
        run_id_(run_id),
        rows_(rows),
        columns_(columns),
        rows_per_statement_(std::max<std::size_t>(1, rows_per_statement)) {}

  // Writes rows [first, last) in one transaction.
  void write(std::size_t first, std::size_t last, bool bulk) {
    if (!bulk && statement_end(first, last) == last) {
      write_statement(first, last);  // one statement is atomic: no BEGIN and COMMIT to send
      return;
    }
    db::Transaction transaction(db_);
    if (!bulk) {
      std::size_t begin = first;
      while (begin < last) {
        std::size_t end = statement_end(begin, last);
        write_statement(begin, end);
        begin = end;
      }
    } else if (any_row_stored_in_steps(first, last)) {
      write_through_staging(first, last);
    } else {
      write_by_copy(first, last);
    }
    transaction.commit();
  }

  // Writes what it can of [first, last), collecting the rows the database refuses. The
  // first try uses COPY where the engine has it; halves use multi-row statements.
  void write_isolating(std::size_t first, std::size_t last, std::vector<RefusedMetricRow>& refused,
                       bool bulk) {
    try {
      write(first, last, bulk);
    } catch (const DatabaseError& e) {
      // Only a refused statement is split: a database that cannot write now (connection
      // lost, disk full, read-only) is the caller's to handle, with nothing written.
      if (!e.refused()) throw;
      if (last - first == 1) {
        refused.push_back({first, e.what()});
        return;
      }
      if (bulk) {
        write_isolating(first, last, refused, false);
        return;
      }
      std::size_t middle = first + (last - first) / 2;
      write_isolating(first, middle, refused, false);
      write_isolating(middle, last, refused, false);
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
      for (const auto& [name, value] : rows_[end].values)
        new_columns += seen.contains(name) ? 0 : 1;
      std::size_t params = 1 + (end + 1 - begin) * (2 + seen.size() + new_columns);
      if (end > begin && params > kMaxParameters) break;
      for (const auto& [name, value] : rows_[end].values) seen.emplace(name, true);
      ++end;
    }
    return end;
  }

  struct ColumnSet {
    std::vector<const MetricColumn*> columns;
    std::unordered_map<std::string_view, std::size_t> position;
  };

  ColumnSet columns_of(std::size_t begin, std::size_t end) const {
    ColumnSet set;
    for (std::size_t r = begin; r < end; ++r) {
      for (const auto& [name, value] : rows_[r].values) {
        if (set.position.contains(name)) continue;
        const MetricColumn* column = columns_.find(name);
        if (!column) throw Error("metric column \"" + name + "\" is not known to the writer");
        set.position.emplace(column->name, set.columns.size());
        set.columns.push_back(column);
      }
    }
    return set;
  }

  static std::string column_list(const ColumnSet& set) {
    std::string list = "run_id, step, progress";
    for (const auto* column : set.columns) list += ", " + db::quote_identifier(column->name);
    return list;
  }

  // The merge rule: a column the new row leaves NULL keeps its stored value.
  static std::string on_conflict(const ColumnSet& set) {
    std::string sql = " ON CONFLICT (run_id, step, progress) DO ";
    if (set.columns.empty()) return sql + "NOTHING";
    sql += "UPDATE SET ";
    for (std::size_t c = 0; c < set.columns.size(); ++c) {
      const std::string name = db::quote_identifier(set.columns[c]->name);
      if (c > 0) sql += ", ";
      sql += name + " = COALESCE(excluded." + name + ", metrics." + name + ")";
    }
    return sql;
  }

  // Whether the run has a stored row with a step in the range of rows [begin, end): when it
  // has none, no row of the batch can conflict (a batch holds each key once).
  bool any_row_stored_in_steps(std::size_t begin, std::size_t end) const {
    auto [low, high] =
        std::minmax_element(rows_.begin() + static_cast<std::ptrdiff_t>(begin),
                            rows_.begin() + static_cast<std::ptrdiff_t>(end),
                            [](const MetricRow& a, const MetricRow& b) { return a.step < b.step; });
    const std::vector<db::Value> params{run_id_, low->step, high->step};
    return !db_.query("SELECT 1 FROM metrics WHERE run_id = $1 AND step BETWEEN $2 AND $3 LIMIT 1",
                      params)
                .empty();
  }

  // Rows [begin, end) in COPY's text format, in the order of column_list(set).
  std::string copy_data(const ColumnSet& set, std::size_t begin, std::size_t end) const {
    std::string data;
    data.reserve((end - begin) * (24 + 16 * set.columns.size()));
    std::vector<const MetricValue*> values(set.columns.size());
    for (std::size_t r = begin; r < end; ++r) {
      std::fill(values.begin(), values.end(), nullptr);
      for (const auto& [name, value] : rows_[r].values) values[set.position.at(name)] = &value;
      data += std::to_string(run_id_);
      data += '\t';
      data += std::to_string(rows_[r].step);
      data += '\t';
      append_copy_text(data, db::Value(rows_[r].progress));
      for (std::size_t c = 0; c < values.size(); ++c) {
        data += '\t';
        if (values[c]) {
          append_copy_text(data, metric_db_value(*set.columns[c], *values[c]));
        } else {
          data += "\\N";
        }
      }
      data += '\n';
    }
    return data;
  }

  // PostgreSQL, no stored row in the batch's steps: a plain COPY into metrics, the cheapest
  // write there is. A writer that stores a row in those steps meanwhile makes it fail on the
  // primary key, and the caller writes the rows again through upserts.
  void write_by_copy(std::size_t begin, std::size_t end) {
    ColumnSet set = columns_of(begin, end);
    db_.copy_from("COPY metrics (" + column_list(set) + ") FROM STDIN", copy_data(set, begin, end));
  }

  // PostgreSQL, some rows may exist: COPY into a temporary table, then one INSERT ... SELECT
  // ... ON CONFLICT. The server parses two statements per batch instead of one per 250 rows.
  void write_through_staging(std::size_t begin, std::size_t end) {
    ColumnSet set = columns_of(begin, end);
    create_metrics_staging_table(db_);
    const std::string list = column_list(set);
    const std::string staging(kMetricsStagingTable);
    db_.copy_from("COPY " + staging + " (" + list + ") FROM STDIN", copy_data(set, begin, end));
    db_.execute("INSERT INTO metrics (" + list + ") SELECT " + list + " FROM " + staging +
                on_conflict(set));
  }

  void write_statement(std::size_t begin, std::size_t end) {
    ColumnSet set = columns_of(begin, end);
    const auto& columns = set.columns;
    const auto& position = set.position;
    std::string sql = "INSERT INTO metrics (" + column_list(set) + ") VALUES ";
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
    sql += on_conflict(set);
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
  // COPY through a staging table only for more than one statement's worth of rows: the
  // table's creation and drop write the catalogs (and WAL) on every commit, which costs more
  // than the parsing COPY saves on a few rows (a job's line a second: one row per commit).
  const bool bulk = db.supports_copy() && rows.size() > rows_per_statement;
  writer.write_isolating(0, rows.size(), refused, bulk);
  return refused;
}

}  // namespace sqltrack
