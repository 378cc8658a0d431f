#pragma once
// SQLite through its C API: WAL mode, foreign keys on, a busy timeout so that
// concurrent writers on one machine wait instead of failing.

#include <sys/types.h>

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
  // Without `create`, a missing file is an error (DatabaseError access, "no database at ...").
  OpenMode mode = OpenMode::create;
  // A new database file gets exactly this mode, and SQLite gives its -wal and -shm the same.
  mode_t file_mode = 0600;
};

// Unless read-only: the database file, when it is a symbolic link, must be one of the user's or
// root's (a database kept elsewhere on purpose); the file it names and its -wal, -shm and
// -journal must be regular files of the user, or of the user's group when that group may
// write them (a file a team shares). Otherwise DatabaseError access, naming the file.
std::unique_ptr<Database> open_sqlite(const SqliteOptions& options);

// The SQLite library built in, e.g. "3.40.1".
std::string sqlite_library_version();

// Splits a SQLite script into complete statements (sqlite3_complete decides,
// so trigger bodies with inner semicolons stay whole).
std::vector<std::string> split_sqlite_script(std::string_view script);

}  // namespace sqltrack::db
