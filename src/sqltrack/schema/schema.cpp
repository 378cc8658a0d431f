#include "sqltrack/schema/schema.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

#include "sqltrack/db/postgres_database.hpp"
#include "sqltrack/db/sql_text.hpp"
#include "sqltrack/db/sqlite_database.hpp"
#include "sqltrack/schema/schema_files.hpp"
#include "sqltrack/schema/schema_lock.hpp"
#include "sqltrack/schema/summary_views.hpp"
#include "sqltrack/util/error.hpp"

namespace sqltrack {
namespace {

constexpr std::string_view kProjectPrefix = "sqltrack/";
constexpr std::string_view kBaseMigration = "0001_base.sql";
// From this migration on, run_summary and latest_metrics exist and follow the metric columns.
constexpr std::string_view kViewsMigration = "sqltrack/0003_run_summary_views.sql";
// Any constant works; it only has to be the same for every wrapper.

std::vector<const EmbeddedMigration*> project_migrations(db::Engine engine) {
  std::vector<const EmbeddedMigration*> list;
  for (const auto& migration : embedded_migrations()) {
    if (migration.engine == db::engine_name(engine)) list.push_back(&migration);
  }
  return list;
}

// The first keyword of a statement, upper-cased, after blanks and comments.
std::string first_keyword(std::string_view statement) {
  statement = db::skip_sql_comments(statement);
  std::size_t i = 0;
  std::string word;
  while (i < statement.size() && std::isalpha(static_cast<unsigned char>(statement[i]))) {
    word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(statement[i]))));
    ++i;
  }
  return word;
}

std::map<std::string, std::string> recorded_migrations(db::Database& db) {
  std::map<std::string, std::string> recorded;
  if (!db.table_exists("applied_migrations")) return recorded;
  auto result = db.query("SELECT name, checksum FROM applied_migrations", {});
  for (auto& row : result.rows) recorded[row[0].value_or("")] = row[1].value_or("");
  return recorded;
}

// Whether a query failed only because a table it reads does not exist.
bool is_missing_table(const DatabaseError& error) {
  if (error.kind() != DatabaseError::Kind::query) return false;
  if (!error.sqlstate().empty()) return error.sqlstate() == "42P01";   // undefined_table
  return std::string_view(error.what()).starts_with("no such table");  // SQLite
}

// The fast path's single query: the recorded migrations, or nullopt when
// applied_migrations does not exist (yet). Reading it directly, instead of
// asking first whether it exists, saves a round trip on every start.
std::optional<std::map<std::string, std::string>> try_recorded_migrations(db::Database& db) {
  try {
    std::map<std::string, std::string> recorded;
    auto result = db.query("SELECT name, checksum FROM applied_migrations", {});
    for (auto& row : result.rows) recorded[row[0].value_or("")] = row[1].value_or("");
    return recorded;
  } catch (const DatabaseError& error) {
    if (is_missing_table(error)) return std::nullopt;
    throw;
  }
}

// The project's migrations (but 0000_, which is not recorded) that `recorded` lacks.
std::vector<std::string> unrecorded_migrations(
    const std::vector<const EmbeddedMigration*>& migrations,
    const std::map<std::string, std::string>& recorded) {
  std::vector<std::string> missing;
  for (const auto* m : migrations) {
    if (m->name.starts_with("0000_")) continue;
    std::string name = std::string(kProjectPrefix) + std::string(m->name);
    if (!recorded.contains(name)) missing.push_back(std::move(name));
  }
  return missing;
}

void record(db::Database& db, const std::string& name, const std::string& checksum) {
  const std::array<db::Value, 2> params{name, checksum};
  db.query("INSERT INTO applied_migrations (name, checksum) VALUES ($1, $2)", params);
}

std::string excerpt(std::string_view statement) {
  std::string text;
  for (char c : statement) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == ' ' && (text.empty() || text.back() == ' ')) continue;
    text.push_back(c);
  }
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

void run_statements(db::Database& db, const MigrationScript& script) {
  auto statements = migration_statements(db.engine(), script);
  for (std::size_t i = 0; i < statements.size(); ++i) {
    try {
      db.execute(statements[i]);
    } catch (const DatabaseError& e) {
      throw DatabaseError(e.kind(),
                          "migration '" + script.name +
                              "' failed and was rolled back: " + e.what() + " (statement " +
                              std::to_string(i + 1) + ": " + excerpt(statements[i]) + ")",
                          e.sqlstate());
    }
  }
}

}  // namespace

std::string migration_checksum(std::string_view sql) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : sql) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text = "fnv1a64:";
  for (int shift = 60; shift >= 0; shift -= 4) text.push_back(kHex[(hash >> shift) & 0xf]);
  return text;
}

std::vector<std::string> migration_statements(db::Engine engine, const MigrationScript& script) {
  auto statements = engine == db::Engine::postgres ? db::split_postgres_script(script.sql)
                                                   : db::split_sqlite_script(script.sql);
  std::vector<std::string> kept;
  for (auto& statement : statements) {
    std::string keyword = first_keyword(statement);
    if (keyword.empty()) continue;  // only comments
    if (keyword == "BEGIN" || keyword == "START" || keyword == "COMMIT" || keyword == "END") {
      continue;
    }
    if (keyword == "ROLLBACK" && statement.find("TO") == std::string::npos &&
        statement.find("to") == std::string::npos) {
      throw Error("migration '" + script.name +
                  "' contains ROLLBACK; a migration is applied whole or not at all, so it "
                  "cannot end its own transaction");
    }
    kept.push_back(std::move(statement));
  }
  return kept;
}

std::vector<MigrationReport> ensure_schema(db::Database& db,
                                           const std::optional<std::string>& schema) {
  auto migrations = project_migrations(db.engine());
  // Fast path for every start after the first: one read, no lock, no transaction.
  auto recorded = try_recorded_migrations(db).value_or(std::map<std::string, std::string>{});
  std::vector<MigrationReport> reports;
  if (unrecorded_migrations(migrations, recorded).empty() && !recorded.empty()) {
    for (const auto* m : migrations) {
      if (m->name.starts_with("0000_")) continue;
      reports.push_back(
          {std::string(kProjectPrefix) + std::string(m->name), MigrationOutcome::already_applied});
    }
    return reports;
  }

  db::Transaction transaction(db);
  // Wrappers starting together on an empty database queue here instead of racing on
  // CREATE TYPE / CREATE TABLE.
  lock_schema_changes(db);
  if (db.engine() == db::Engine::postgres) {
    if (schema) {
      // The name was validated (letters, digits, underscores) and is quoted as well.
      db.execute("CREATE SCHEMA IF NOT EXISTS " + db::quote_identifier(*schema));
    }
  }
  for (const auto* m : migrations) {
    if (!m->name.starts_with("0000_")) continue;
    run_statements(db, MigrationScript{std::string(m->name), std::string(m->sql)});
  }
  recorded = recorded_migrations(db);
  // A later migration may change a column the views use, which PostgreSQL refuses while
  // they exist; they are made again below.
  if (recorded.contains(std::string(kViewsMigration))) drop_summary_views(db);
  for (const auto* m : migrations) {
    if (m->name.starts_with("0000_")) continue;
    std::string name = std::string(kProjectPrefix) + std::string(m->name);
    std::string checksum = migration_checksum(m->sql);
    if (recorded.contains(name)) {
      reports.push_back({name, MigrationOutcome::already_applied});
    } else if (m->name == kBaseMigration && db.table_exists("runs")) {
      // A database made by sqltrack 0.1.3: its base is ours; keep its data as it is.
      record(db, name, checksum);
      reports.push_back({name, MigrationOutcome::adopted});
    } else {
      run_statements(db, MigrationScript{name, std::string(m->sql)});
      record(db, name, checksum);
      reports.push_back({name, MigrationOutcome::applied});
    }
  }
  // The metric columns may predate the views (a database of sqltrack 0.1.3, user scripts).
  if (recorded_migrations(db).contains(std::string(kViewsMigration))) create_summary_views(db);
  transaction.commit();
  return reports;
}

SchemaState read_schema_state(db::Database& db) {
  SchemaState state;
  const auto migrations = project_migrations(db.engine());
  for (const auto* m : migrations) state.known += m->name.starts_with("0000_") ? 0 : 1;
  auto recorded = try_recorded_migrations(db);
  if (!recorded) return state;
  state.set_up = true;
  state.missing = unrecorded_migrations(migrations, *recorded);
  for (const auto& [name, checksum] : *recorded) {
    if (!name.starts_with(kProjectPrefix)) continue;
    const std::string_view file = std::string_view(name).substr(kProjectPrefix.size());
    const bool known = std::any_of(migrations.begin(), migrations.end(),
                                   [&](const EmbeddedMigration* m) { return m->name == file; });
    if (!known) state.newer.push_back(name);
  }
  return state;
}

void require_current_schema(db::Database& db) {
  const SchemaState state = read_schema_state(db);
  // On PostgreSQL the reader's own role often may not: say who can.
  const std::string who =
      db.engine() == db::Engine::postgres ? " (with a role that may change the schema)" : "";
  if (!state.set_up) {
    throw Error(db.describe() +
                " was not set up by sqltrack (it has no applied_migrations table); this command "
                "only reads: run `sqltrack setup`" +
                who);
  }
  if (state.missing.empty()) return;
  std::string names = state.missing.front();
  if (state.missing.size() > 1)
    names += " and " + std::to_string(state.missing.size() - 1) + " more";
  throw Error("the schema of " + db.describe() + " is older than this sqltrack (" + names +
              " not applied); this command only reads: run `sqltrack setup`" + who);
}

std::vector<MigrationReport> apply_user_migrations(db::Database& db,
                                                   const std::vector<MigrationScript>& scripts) {
  auto recorded = recorded_migrations(db);
  // Refuse edited scripts before running anything, so a batch is all-or-nothing up front.
  for (const auto& script : scripts) {
    auto it = recorded.find(script.name);
    if (it != recorded.end() && it->second != migration_checksum(script.sql)) {
      throw Error("migration '" + script.name +
                  "' was applied before with different content; applied scripts must not "
                  "change: put the change in a new script");
    }
    migration_statements(db.engine(), script);  // reports ROLLBACK before anything runs
  }
  std::vector<MigrationReport> reports;
  for (const auto& script : scripts) {
    if (recorded.contains(script.name)) {
      reports.push_back({script.name, MigrationOutcome::already_applied});
      continue;
    }
    db::Transaction transaction(db);
    // A script may drop or retype a metric column, which PostgreSQL refuses while a view
    // uses it: the views go first and come back with the new column list.
    const bool views = recorded.contains(std::string(kViewsMigration));
    if (views) {
      lock_schema_changes(db);
      drop_summary_views(db);
    }
    run_statements(db, script);
    record(db, script.name, migration_checksum(script.sql));
    if (views) create_summary_views(db);
    transaction.commit();
    recorded[script.name] = migration_checksum(script.sql);
    reports.push_back({script.name, MigrationOutcome::applied});
  }
  return reports;
}

}  // namespace sqltrack
