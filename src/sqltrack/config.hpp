#pragma once
// Settings resolution, as in sqltrack 0.1.3: command-line flags over
// SQLTRACK_DSN_<PARAM> environment variables over the config file, with
// libpq's own defaults (PGHOST, ~/.pgpass, ...) under all of them.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/db/postgres_database.hpp"
#include "sqltrack/db/sqlite_database.hpp"
#include "sqltrack/environment.hpp"

namespace sqltrack {

// Values given on the command line (-u -a -d -s -c --engine).
struct CommandLineSettings {
  std::optional<std::string> user;
  std::optional<std::string> host;  // host, host:port, [v6]:port or a socket directory
  std::optional<std::string> database;
  std::optional<std::string> schema;
  std::optional<std::filesystem::path> config_path;
  std::optional<std::string> engine;
};

// One resolved value and where it came from, e.g. "flag -a", "environment
// variable SQLTRACK_DSN_HOST", "./sqltrack.conf line 3".
struct Setting {
  std::string value;
  std::string source;
};

class Settings {
 public:
  db::Engine engine = db::Engine::sqlite;
  std::string engine_source = "default";
  // Canonical key (dbname, not database) → value. Secrets are kept, never printed.
  std::map<std::string, Setting, std::less<>> values;
  // The config file that was read, if any.
  std::optional<std::filesystem::path> config_file;

  const Setting* find(std::string_view key) const;
  std::optional<std::string> get(std::string_view key) const;
  // A boolean setting: true/false/yes/no/on/off/1/0; ConfigError names the source otherwise.
  bool get_bool(std::string_view key, bool fallback) const;
  // A number; ConfigError names the source when it is not one.
  double get_number(std::string_view key, double fallback) const;

  // The SQLite database file (key path, default ./sqltrack.db).
  std::filesystem::path sqlite_path() const;
  // libpq keyword/value pairs: every libpq key that was set, and schema as
  // options=-c search_path=... .
  db::ConnectionParameters postgres_parameters() const;
  // Where the connection settings came from, for error messages. No values.
  std::string describe_sources() const;
};

// Resolves settings from flags, the environment and the config file. The
// config file is -c, else SQLTRACK_CONFIG_PATH, else ./sqltrack.conf or
// ./sqltrack.yaml in cwd when present. Throws ConfigError naming the source
// of any unknown key, unreadable file or invalid value.
Settings resolve_settings(const CommandLineSettings& flags, const Environment& env,
                          const std::filesystem::path& cwd = std::filesystem::current_path());

// Opens the configured database. Throws DatabaseError(Kind::connection) with
// a one-line message that says where the settings came from (never a password).
// wal_on_close matters for SQLite only (see db::SqliteOptions).
std::unique_ptr<db::Database> open_database(
    const Settings& settings, db::WalOnClose wal_on_close = db::WalOnClose::checkpoint);

// Whether key is a setting this program knows (libpq keyword or our own).
bool is_known_setting(std::string_view key);

// A PostgreSQL schema name we accept: letters, digits and underscores, not
// starting with a digit, at most 63 bytes. Anything else could smuggle SQL.
bool is_valid_schema_name(std::string_view name);

}  // namespace sqltrack
