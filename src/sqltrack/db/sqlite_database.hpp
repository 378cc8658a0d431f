#pragma once
// SQLite through its C API: WAL mode, foreign keys on, a busy timeout so that
// concurrent writers on one machine wait instead of failing.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"

namespace sqltrack::db {

enum class WalOnClose { checkpoint, leave };

struct SqliteOptions {
  std::filesystem::path path = "sqltrack.db";
  std::chrono::milliseconds busy_timeout{60000};
  // Open even on a network filesystem (setting sqlite_on_network_fs); otherwise
  // such a location is refused with a ConfigError (see filesystem_check.hpp).
  bool allow_network_filesystem = false;
  // What the last connection to close does with the WAL: move it into the database
  // file (checkpoint: two disk flushes), or leave it for the next connection and the
  // next automatic checkpoint (a wrapper, whose exit the job waits for).
  WalOnClose wal_on_close = WalOnClose::checkpoint;
};

std::unique_ptr<Database> open_sqlite(const SqliteOptions& options);

// Splits a SQLite script into complete statements (sqlite3_complete decides,
// so trigger bodies with inner semicolons stay whole).
std::vector<std::string> split_sqlite_script(std::string_view script);

}  // namespace sqltrack::db
