#pragma once
// From settings to a database: the one place that opens a connection, and the calls that
// open one with its schema made current or checked.

#include <memory>

#include "sqltrack/config/config.hpp"
#include "sqltrack/db/database.hpp"
#include "sqltrack/db/sqlite_database.hpp"

namespace sqltrack {

// Opens the configured database. Throws DatabaseError with a one-line message that says
// where the settings came from (never a password). wal_on_close and mode matter for SQLite
// only (see db::SqliteOptions).
std::unique_ptr<db::Database> open_database(
    const Settings& settings, db::WalOnClose wal_on_close = db::WalOnClose::checkpoint,
    db::OpenMode mode = db::OpenMode::create);

// For commands that write: opened as open_database does, with the schema made current
// (the project's migrations applied, in the configured schema).
std::unique_ptr<db::Database> open_for_writing(
    const Settings& settings, db::OpenMode mode = db::OpenMode::create,
    db::WalOnClose wal_on_close = db::WalOnClose::checkpoint);

// For commands that only read: opened read-only (a SQLite file is never created or changed)
// and the schema checked, never migrated: an older one is an error that says to run setup.
std::unique_ptr<db::Database> open_for_reading(const Settings& settings);

}  // namespace sqltrack
