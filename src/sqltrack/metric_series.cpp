#include "sqltrack/metric_series.hpp"

#include <cctype>
#include <cstdlib>

#include "sqltrack/error.hpp"

namespace sqltrack {
namespace {

bool is_key_column(std::string_view name) {
  return name == "run_id" || name == "step" || name == "progress";
}

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
  // there are fewer rows than buckets); row_number() from the end finds the last value.
  auto result = db.query(
      "SELECT run_id, avg(x) AS step, avg(y) AS value, "
      "max(CASE WHEN from_end = 1 THEN y END) AS last_value FROM ("
      "SELECT run_id, CAST(step AS DOUBLE PRECISION) AS x, CAST(" +
          value +
          " AS DOUBLE PRECISION) AS y, "
          "ntile(CAST($1 AS INTEGER)) OVER (PARTITION BY run_id ORDER BY step, progress) "
          "AS bucket, "
          "row_number() OVER (PARTITION BY run_id ORDER BY step DESC, progress DESC) AS from_end "
          "FROM metrics WHERE " +
          value + " IS NOT NULL AND run_id IN (" + ids +
          ")) AS numbered "
          "GROUP BY run_id, bucket ORDER BY run_id, bucket",
      params);
  for (const auto& row : result.rows) {
    MetricSeries& run = series[std::stoll(row[0].value_or("0"))];
    run.points.push_back({number(row[1]), number(row[2])});
    if (row[3]) run.last_value = number(row[3]);
  }
  return series;
}

}  // namespace sqltrack
