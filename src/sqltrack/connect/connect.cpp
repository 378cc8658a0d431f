#include "sqltrack/connect/connect.hpp"

#include <chrono>
#include <cstdlib>
#include <string>

#include "sqltrack/db/postgres_database.hpp"
#include "sqltrack/schema/schema.hpp"
#include "sqltrack/util/error.hpp"

namespace sqltrack {

std::unique_ptr<db::Database> open_database(const Settings& settings, db::WalOnClose wal_on_close,
                                            db::OpenMode mode) {
  if (settings.engine == db::Engine::sqlite) {
    db::SqliteOptions options;
    options.wal_on_close = wal_on_close;
    options.mode = mode;
    options.path = settings.sqlite_path();
    options.busy_timeout = std::chrono::milliseconds(
        static_cast<long long>(settings.get_number("busy_timeout", 60) * 1000));
    options.allow_network_filesystem = settings.get_bool("sqlite_on_network_fs", false);
    options.file_mode = settings.file_mode();
    try {
      return db::open_sqlite(options);
    } catch (const DatabaseError& e) {
      throw DatabaseError(
          e.kind(), std::string(e.what()) + " (settings from " + settings.describe_sources() + ")");
    }
  }
  db::ConnectionParameters parameters = settings.postgres_parameters();
  // libpq waits for an unanswered TCP connect as long as the kernel does (minutes); the
  // command waits for this connect, so bound it unless the user chose a bound.
  bool bounded = std::getenv("PGCONNECT_TIMEOUT") != nullptr;
  for (const auto& [key, value] : parameters) bounded = bounded || key == "connect_timeout";
  if (!bounded) parameters.emplace_back("connect_timeout", "10");
  try {
    return db::open_postgres(parameters);
  } catch (const DatabaseError& e) {
    throw DatabaseError(e.kind(), without_password(e.what(), settings) + " (settings from " +
                                      settings.describe_sources() + ")");
  }
}

std::unique_ptr<db::Database> open_for_writing(const Settings& settings, db::OpenMode mode,
                                               db::WalOnClose wal_on_close) {
  auto db = open_database(settings, wal_on_close, mode);
  ensure_schema(*db, settings.get("schema"));
  return db;
}

std::unique_ptr<db::Database> open_for_reading(const Settings& settings) {
  auto db = open_database(settings, db::WalOnClose::checkpoint, db::OpenMode::read_only);
  require_current_schema(*db);
  return db;
}

}  // namespace sqltrack
