#include "sqltrack/read/metric_series.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

#include "sqltrack/util/error.hpp"

namespace sqltrack {
namespace {

bool is_key_column(std::string_view name) {
  return name == "run_id" || name == "step" || name == "progress";
}

std::string name_list(const std::vector<MetricColumn>& columns) {
  std::string list;
  for (const auto& column : columns) list += (list.empty() ? "" : ", ") + column.name;
  return list;
}

// PostgreSQL writes NaN and Infinity, which strtod reads too.
double number(const std::optional<std::string>& text) {
  if (!text) return std::numeric_limits<double>::quiet_NaN();
  return std::strtod(text->c_str(), nullptr);
}

}  // namespace

bool holds_numbers(const MetricColumn& column) {
  if (column.kind == MetricColumnKind::floating || column.kind == MetricColumnKind::integer) {
    return true;
  }
  std::string type;
  for (char c : column.declared_type) {
    type += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return type.starts_with("NUMERIC") || type.starts_with("DECIMAL");
}

std::vector<MetricColumn> metric_columns_in_order(db::Database& db) {
  MetricColumns known = MetricColumns::load(db);
  std::vector<MetricColumn> columns;
  for (const auto& name : db.table_columns("metrics")) {
    if (is_key_column(name)) continue;
    if (const MetricColumn* column = known.find(name)) columns.push_back(*column);
  }
  return columns;
}

std::vector<MetricColumn> numeric_metric_columns(db::Database& db) {
  std::vector<MetricColumn> numeric;
  for (auto& column : metric_columns_in_order(db)) {
    if (holds_numbers(column)) numeric.push_back(std::move(column));
  }
  return numeric;
}

MetricColumn plottable_metric_column(db::Database& db, std::string_view name) {
  auto columns = metric_columns_in_order(db);
  for (const auto& column : columns) {
    if (column.name != name) continue;
    if (holds_numbers(column)) return column;
    std::vector<MetricColumn> numeric;
    for (const auto& other : columns) {
      if (holds_numbers(other)) numeric.push_back(other);
    }
    throw Error("metric column \"" + column.name + "\" holds " + column.declared_type +
                ", not numbers; numeric metric columns: " +
                (numeric.empty() ? "none" : name_list(numeric)));
  }
  throw Error("no metric column \"" + std::string(name) + "\" in metrics; " +
              (columns.empty() ? "metrics has no metric columns yet (add them with a migration)"
                               : "its metric columns are: " + name_list(columns)));
}

std::vector<MetricColumn> columns_with_values(db::Database& db, std::vector<MetricColumn> columns,
                                              std::span<const std::int64_t> run_ids) {
  if (columns.empty() || run_ids.empty()) return {};
  std::string counts, ids;
  for (const auto& column : columns) {
    counts += (counts.empty() ? "count(" : ", count(") + db::quote_identifier(column.name) + ")";
  }
  std::vector<db::Value> params;
  for (auto id : run_ids) {
    params.emplace_back(id);
    ids += (ids.empty() ? "$" : ", $") + std::to_string(params.size());
  }
  auto result =
      db.query("SELECT " + counts + " FROM metrics WHERE run_id IN (" + ids + ")", params);
  std::vector<MetricColumn> with_values;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (!result.empty() && result.rows[0][c].value_or("0") != "0") {
      with_values.push_back(std::move(columns[c]));
    }
  }
  return with_values;
}

bool lower_is_better(std::string_view metric_name) {
  std::string name;
  for (char c : metric_name) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::array<std::string_view, 14> kWords{
      "loss", "err", "error", "perplexity", "ppl",     "mse", "mae",
      "rmse", "wer", "cer",   "time",       "latency", "nll", "seconds"};
  // "valloss" as well: column names from "valLoss" lose their separators.
  if (name.ends_with("loss")) return true;
  // Otherwise a word of the name, split at '_': "val_loss", "test_err"; not "terror".
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = std::min(name.find('_', start), name.size());
    std::string_view word = std::string_view(name).substr(start, end - start);
    if (std::find(kWords.begin(), kWords.end(), word) != kWords.end()) return true;
    start = end + 1;
  }
  return false;
}

std::map<std::int64_t, MetricSeries> read_metric_series(db::Database& db,
                                                        const MetricColumn& column,
                                                        std::span<const std::int64_t> run_ids,
                                                        std::size_t max_points) {
  std::map<std::int64_t, MetricSeries> series;
  if (run_ids.empty() || max_points == 0) return series;
  std::vector<db::Value> params{static_cast<std::int64_t>(max_points)};
  std::string ids;
  for (auto id : run_ids) {
    params.emplace_back(id);
    ids += (ids.empty() ? "$" : ", $") + std::to_string(params.size());
  }
  const std::string value = db::quote_identifier(column.name);
  // ntile() numbers each run's rows 1..N into near-equal consecutive buckets (one row each when
  // there are fewer rows than buckets); last_value() over the same window finds the last value,
  // so the rows are sorted once (on a big table the sort is most of the time).
  auto result = db.query(
      "SELECT run_id, avg(x) AS step, avg(y) AS value, max(last_y) AS last_value, min(y), max(y) "
      "FROM (SELECT run_id, CAST(step AS DOUBLE PRECISION) AS x, CAST(" +
          value +
          " AS DOUBLE PRECISION) AS y, "
          "ntile(CAST($1 AS INTEGER)) OVER run_rows AS bucket, "
          "CAST(last_value(" +
          value +
          ") OVER run_rows AS DOUBLE PRECISION) AS last_y "
          "FROM metrics WHERE " +
          value + " IS NOT NULL AND run_id IN (" + ids +
          ") WINDOW run_rows AS (PARTITION BY run_id ORDER BY step, progress "
          "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) AS numbered "
          "GROUP BY run_id, bucket ORDER BY run_id, bucket",
      params);
  for (const auto& row : result.rows) {
    MetricSeries& run = series[std::stoll(row[0].value_or("0"))];
    run.points.push_back({number(row[1]), number(row[2])});
    if (row[3]) run.last_value = number(row[3]);
    double low = number(row[4]), high = number(row[5]);
    if (!(low >= run.min_value)) run.min_value = low;  // NaN at first
    if (!(high <= run.max_value)) run.max_value = high;
  }
  return series;
}

}  // namespace sqltrack
