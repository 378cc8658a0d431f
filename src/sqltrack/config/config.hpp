#pragma once
// Settings resolution, as in sqltrack 0.1.3: command-line flags over
// SQLTRACK_DSN_<PARAM> environment variables over the config file, with
// libpq's own defaults (PGHOST, ~/.pgpass, ...) under all of them.

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/db/postgres_database.hpp"
#include "sqltrack/util/environment.hpp"

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
  // The config file that was read, if any, and how it was chosen ("from flag -c").
  std::optional<std::filesystem::path> config_file;
  std::string config_origin;
  // What the programs print as warnings: a config file that holds a password others may read.
  std::vector<std::string> warnings;

  const Setting* find(std::string_view key) const;
  std::optional<std::string> get(std::string_view key) const;
  // A boolean setting: true/false/yes/no/on/off/1/0; ConfigError names the source otherwise.
  bool get_bool(std::string_view key, bool fallback) const;
  // A number; ConfigError names the source when it is not one.
  double get_number(std::string_view key, double fallback) const;
  // The setting add_columns: unknown metric keys become new columns. On by default for
  // SQLite (a personal file), off for PostgreSQL (a shared server's schema belongs to its
  // owners, and ALTER TABLE briefly stalls every writer).
  bool add_columns() const;

  // The mode of files created for the user (the SQLite database, reject files, exports and
  // reports): the setting file_mode, checked when resolved; 0600 when not given.
  mode_t file_mode() const;
  // The SQLite database file (key path, default ./sqltrack.db).
  std::filesystem::path sqlite_path() const;
  // libpq keyword/value pairs: every libpq key that was set, and schema as
  // options=-c search_path="..." (quoted, as setup creates it).
  db::ConnectionParameters postgres_parameters() const;
  // Where the connection settings came from, for error messages. No values.
  std::string describe_sources() const;
};

// Resolves settings from flags, the environment and the config file. The
// config file is -c, else SQLTRACK_CONFIG_PATH, else ./sqltrack.conf or
// ./sqltrack.yaml in cwd when present: a regular file (or a pipe) of at most
// 1 MiB, owned by the reader or root and writable by nobody else. Throws
// ConfigError naming the source of any unknown key, unreadable or untrusted
// file or invalid value.
Settings resolve_settings(const CommandLineSettings& flags, const Environment& env,
                          const std::filesystem::path& cwd = std::filesystem::current_path());

// `message` (a connection failure's text) without the settings' password, however libpq or
// the server quoted it.
std::string without_password(const std::string& message, const Settings& settings);

// A setting's value as the programs show it: a secret's (password, a URI's password inside
// dbname) masked by the rule of util/redaction, control characters escaped.
std::string shown_setting_value(std::string_view key, std::string_view value);

// Seconds between samples: --sample when given, else the setting sample_interval, else 10.
// 0 turns sampling off. Throws UsageError for a bad --sample, ConfigError for a bad setting.
double sample_interval(std::optional<double> flag, const Settings& settings);

// What sqltrack-run records in runs.git of the git work tree the command starts in: nothing,
// its commit, branch and origin (on), or these and whether tracked files were changed (full,
// which starts `git status`; the others read .git only).
enum class GitCapture { off, on, full };

// --capture-git when given, else the setting capture_git, else on. Throws UsageError for a bad
// flag; a bad setting is a ConfigError when the settings are resolved.
GitCapture git_capture(const std::optional<std::string>& flag, const Settings& settings);

// Whether key is a setting this program knows (libpq keyword or our own).
bool is_known_setting(std::string_view key);

// A PostgreSQL schema name we accept: letters, digits and underscores, not
// starting with a digit, at most 63 bytes. Anything else could smuggle SQL.
bool is_valid_schema_name(std::string_view name);

}  // namespace sqltrack
