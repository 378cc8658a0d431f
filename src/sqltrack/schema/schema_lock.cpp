#include "sqltrack/schema/schema_lock.hpp"

#include <array>
#include <cstdint>

namespace sqltrack {
namespace {

constexpr std::int64_t kSchemaLockKey = 0x5351'4c54'5241'434b;  // "SQLTRACK"

}  // namespace

void lock_schema_changes(db::Database& db) {
  if (db.engine() != db::Engine::postgres) return;
  const std::array<db::Value, 1> key{kSchemaLockKey};
  db.query("SELECT pg_advisory_xact_lock($1)", key);
}

}  // namespace sqltrack
