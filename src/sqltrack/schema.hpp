#pragma once
// The migrations runner: the project's own migrations (schema/<engine>/*.sql,
// compiled in) and the user's scripts given to `sqltrack setup`, each applied
// once in its own transaction and recorded in applied_migrations.

#include <optional>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"

namespace sqltrack {

struct MigrationScript {
  std::string name;  // recorded name: the project's "sqltrack/0001_base.sql", a user's "v001.sql"
  std::string sql;
};

enum class MigrationOutcome {
  applied,          // ran now
  already_applied,  // recorded before with the same content
  adopted,          // the base schema was already there (made by sqltrack 0.1.3): recorded only
};

struct MigrationReport {
  std::string name;
  MigrationOutcome outcome;
};

// A stable fingerprint of a script's text (FNV-1a, 64 bits, hex).
std::string migration_checksum(std::string_view sql);

// Creates what is missing of the project's schema, safely when many wrappers
// start at once. On PostgreSQL, `schema` (already validated) is created first.
std::vector<MigrationReport> ensure_schema(db::Database& db,
                                           const std::optional<std::string>& schema = {});

// Applies user scripts in the order given. A script recorded before is
// skipped; one recorded with different content is refused before anything
// runs; one that fails is rolled back completely. Scripts may carry their own
// BEGIN; ... END; (as the Python tool's do): those statements are dropped
// because the runner's transaction already wraps the script.
std::vector<MigrationReport> apply_user_migrations(db::Database& db,
                                                   const std::vector<MigrationScript>& scripts);

// Queues this transaction behind other processes' schema changes (migrations, view
// regeneration): a transaction-scoped advisory lock on PostgreSQL; on SQLite the write
// transaction itself does it.
void lock_schema_changes(db::Database& db);

// The statements of a script, without transaction control (BEGIN, START
// TRANSACTION, COMMIT, END). Throws sqltrack::Error for ROLLBACK.
std::vector<std::string> migration_statements(db::Engine engine, const MigrationScript& script);

}  // namespace sqltrack
