#pragma once
// The SQL files under schema/, compiled into the library (see cmake/GenerateSchema.cmake).

#include <string_view>
#include <vector>

namespace sqltrack {

struct EmbeddedMigration {
  std::string_view engine;  // "postgres" or "sqlite"
  std::string_view name;    // "0001_base.sql"
  std::string_view sql;
};

// Sorted by engine, then name.
const std::vector<EmbeddedMigration>& embedded_migrations();

}  // namespace sqltrack
