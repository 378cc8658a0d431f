#include "sqltrack/metrics/sql/metric_columns.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "sqltrack/schema/metrics_ddl.hpp"
#include "sqltrack/schema/summary_views.hpp"
#include "sqltrack/util/error.hpp"

namespace sqltrack {
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

const char* kind_name(MetricColumnKind kind) {
  switch (kind) {
    case MetricColumnKind::floating:
      return "a number";
    case MetricColumnKind::integer:
      return "an integer";
    case MetricColumnKind::boolean:
      return "true or false";
    case MetricColumnKind::text:
      return "a quoted string";
    case MetricColumnKind::timestamp:
      return "an ISO 8601 timestamp";
    case MetricColumnKind::other:
      return "a value";
  }
  return "a value";
}

const char* value_name(const MetricValue& value) {
  struct Visitor {
    const char* operator()(std::int64_t) const { return "an integer"; }
    const char* operator()(double) const { return "a float"; }
    const char* operator()(bool) const { return "a boolean"; }
    const char* operator()(const std::string&) const { return "a string"; }
    const char* operator()(const MetricTimestamp&) const { return "a timestamp"; }
  };
  return std::visit(Visitor{}, value);
}

bool is_integral(double v) {
  return std::isfinite(v) && std::trunc(v) == v && v >= -9.2e18 && v <= 9.2e18;
}

}  // namespace

bool is_metric_key_column(std::string_view name) {
  return name == "run_id" || name == "step" || name == "progress";
}

MetricColumnKind metric_column_kind(db::Engine engine, std::string_view declared_type) {
  const std::string type = upper(declared_type);
  if (engine == db::Engine::postgres) {
    if (type == "DOUBLE PRECISION" || type == "REAL") return MetricColumnKind::floating;
    if (type == "BIGINT" || type == "INTEGER" || type == "SMALLINT")
      return MetricColumnKind::integer;
    if (type == "BOOLEAN") return MetricColumnKind::boolean;
    // format_type() adds a length: character varying(20).
    if (type == "TEXT" || type.starts_with("CHARACTER")) return MetricColumnKind::text;
    if (type.starts_with("TIMESTAMP")) return MetricColumnKind::timestamp;
    return MetricColumnKind::other;
  }
  // SQLite: the declared type's affinity (datatype3.html section 3.1), plus the names people
  // use for booleans and timestamps.
  if (contains(type, "BOOL")) return MetricColumnKind::boolean;
  if (contains(type, "TIMESTAMP") || contains(type, "DATETIME")) return MetricColumnKind::timestamp;
  if (contains(type, "INT")) return MetricColumnKind::integer;
  if (contains(type, "CHAR") || contains(type, "CLOB") || contains(type, "TEXT"))
    return MetricColumnKind::text;
  if (contains(type, "REAL") || contains(type, "FLOA") || contains(type, "DOUB"))
    return MetricColumnKind::floating;
  return MetricColumnKind::other;
}

MetricColumns MetricColumns::load(db::Database& db) {
  db::ResultSet result =
      db.engine() == db::Engine::postgres
          // pg_attribute, not information_schema: on a fresh connection the view costs ~60 ms.
          ? db.query(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = to_regclass('metrics') AND attnum > 0 AND NOT attisdropped "
                "ORDER BY attnum")
          : db.query("SELECT name, type FROM pragma_table_info('metrics') ORDER BY cid");
  MetricColumns columns;
  for (const auto& row : result.rows) {
    std::string name = row[0].value_or("");
    if (is_metric_key_column(name)) continue;
    std::string type = row[1].value_or("");
    columns.add({name, metric_column_kind(db.engine(), type), type});
  }
  return columns;
}

const MetricColumn* MetricColumns::find(std::string_view name) const {
  for (const auto& column : columns_) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

const MetricColumn* MetricColumns::resolve(std::string_view key) const {
  // The exact name first: the common key is its own column name and costs no mapping.
  if (const MetricColumn* exact = find(key)) return exact;
  return find(metric_column_name(key));
}

std::string MetricColumns::unknown_column_reason(std::string_view key) const {
  const std::string name = metric_column_name(key);
  std::string reason = "unknown column \"" + name + "\"";
  for (const auto& column : columns_) {
    if (upper(column.name) == upper(key)) {
      return reason + " (did you mean \"" + column.name + "\"? names are case-sensitive)";
    }
  }
  return reason +
         " (add it with a migration, or let sqltrack-run add it: --add-columns or "
         "add_columns = true)";
}

void MetricColumns::add(MetricColumn column) {
  for (auto& existing : columns_) {
    if (existing.name == column.name) {
      existing = std::move(column);
      return;
    }
  }
  columns_.push_back(std::move(column));
}

std::optional<std::string> metric_value_mismatch(const MetricColumn& column,
                                                 const MetricValue& value) {
  bool fits = true;
  switch (column.kind) {
    case MetricColumnKind::other:
      break;
    case MetricColumnKind::floating:
      fits = std::holds_alternative<double>(value) || std::holds_alternative<std::int64_t>(value);
      break;
    case MetricColumnKind::integer:
      fits = std::holds_alternative<std::int64_t>(value) ||
             (std::holds_alternative<double>(value) && is_integral(std::get<double>(value)));
      break;
    case MetricColumnKind::boolean:
      fits = std::holds_alternative<bool>(value);
      break;
    case MetricColumnKind::text:
      fits = std::holds_alternative<std::string>(value) ||
             std::holds_alternative<MetricTimestamp>(value);
      break;
    case MetricColumnKind::timestamp:
      fits = std::holds_alternative<MetricTimestamp>(value);
      break;
  }
  if (fits) return std::nullopt;
  return "column \"" + column.name + "\" (" + column.declared_type + ") takes " +
         kind_name(column.kind) + ", got " + value_name(value);
}

db::Value metric_db_value(const MetricColumn& column, const MetricValue& value) {
  struct Visitor {
    const MetricColumn& column;
    db::Value operator()(std::int64_t v) const { return v; }
    db::Value operator()(double v) const {
      if (column.kind == MetricColumnKind::integer && is_integral(v))
        return static_cast<std::int64_t>(v);
      return v;
    }
    db::Value operator()(bool v) const { return v; }
    db::Value operator()(const std::string& v) const { return v; }
    db::Value operator()(const MetricTimestamp& v) const { return v.iso8601; }
  };
  return std::visit(Visitor{column}, value);
}

bool is_valid_new_metric_column_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxMetricKeyBytes || is_metric_key_column(name)) return false;
  if (std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

MetricColumn add_metric_column(db::Database& db, std::string_view name,
                               const MetricValue& first_value) {
  if (!is_valid_new_metric_column_name(name)) {
    throw Error("cannot add column \"" + std::string(name) +
                "\": new column names must match [a-z_][a-z0-9_]* (at most 63 bytes)");
  }
  const bool pg = db.engine() == db::Engine::postgres;
  struct TypeOf {
    bool pg;
    const char* operator()(std::int64_t) const { return pg ? "double precision" : "REAL"; }
    const char* operator()(double) const { return pg ? "double precision" : "REAL"; }
    const char* operator()(bool) const { return pg ? "boolean" : "BOOLEAN"; }
    const char* operator()(const std::string&) const { return "TEXT"; }
    const char* operator()(const MetricTimestamp&) const {
      return pg ? "timestamp with time zone" : "TIMESTAMP";
    }
  };
  const std::string type = std::visit(TypeOf{pg}, first_value);
  // The name passed the check above and is quoted as well; only the type is ours.
  try {
    add_metrics_column(db, name, type);
  } catch (const DatabaseError& e) {
    // A concurrent wrapper may have added it first (SQLite has no IF NOT EXISTS here).
    if (!e.refused()) throw;
    MetricColumns now = MetricColumns::load(db);
    if (const MetricColumn* column = now.find(name)) return *column;
    throw;
  }
  // run_summary and latest_metrics follow the column list. The column is what the caller
  // needs: views that cannot be made now (a user's view depends on them, a long reader)
  // stay as they were until `sqltrack setup`.
  try {
    refresh_summary_views(db);
  } catch (const DatabaseError&) {
  }
  MetricColumns now = MetricColumns::load(db);
  if (const MetricColumn* column = now.find(name)) return *column;
  return {std::string(name), metric_column_kind(db.engine(), type), type};
}

}  // namespace sqltrack
