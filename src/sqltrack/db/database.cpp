#include "sqltrack/db/database.hpp"

#include "sqltrack/util/error.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack::db {

std::string_view engine_name(Engine engine) noexcept {
  return engine == Engine::postgres ? "postgres" : "sqlite";
}

std::size_t ResultSet::column(std::string_view name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return i;
  }
  throw Error("result has no column '" + std::string(name) + "'");
}

std::optional<std::string> ResultSet::scalar() const {
  if (rows.size() != 1 || rows[0].size() != 1) {
    throw Error("expected one value, got " + counted(rows.size(), "row") + " of " +
                counted(rows.empty() ? 0 : rows[0].size(), "column"));
  }
  return rows[0][0];
}

std::string quote_identifier(std::string_view name) {
  std::string quoted;
  quoted.reserve(name.size() + 2);
  quoted.push_back('"');
  for (char c : name) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

void Database::copy_from(std::string_view /*copy_sql*/, std::string_view /*data*/) {
  throw DatabaseError(DatabaseError::Kind::query,
                      std::string(engine_name(engine())) + " has no COPY FROM STDIN");
}

}  // namespace sqltrack::db
