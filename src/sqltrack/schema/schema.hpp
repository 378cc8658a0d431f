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

// Where a database's schema stands against this build, read without changing anything.
struct SchemaState {
  bool set_up = false;               // applied_migrations exists
  std::size_t known = 0;             // the project's migrations this build records
  std::vector<std::string> missing;  // of those, the ones the database lacks
  std::vector<std::string> newer;    // the project's migrations recorded there, unknown here
};

// One read of applied_migrations; a role that may only SELECT can use it.
SchemaState read_schema_state(db::Database& db);

// For the commands that only read (status, export, report): throws sqltrack::Error, saying
// "run `sqltrack setup`", when the database has no sqltrack schema or one older than this
// build. One read; it changes nothing, so a role that may only SELECT can use it.
void require_current_schema(db::Database& db);

// Applies user scripts in the order given. A script recorded before is
// skipped; one recorded with different content is refused before anything
// runs; one that fails is rolled back completely. Scripts may carry their own
// BEGIN; ... END; (as the Python tool's do): those statements are dropped
// because the runner's transaction already wraps the script.
std::vector<MigrationReport> apply_user_migrations(db::Database& db,
                                                   const std::vector<MigrationScript>& scripts);

// The statements of a script, without transaction control (BEGIN, START
// TRANSACTION, COMMIT, END). Throws sqltrack::Error for ROLLBACK.
std::vector<std::string> migration_statements(db::Engine engine, const MigrationScript& script);

}  // namespace sqltrack
