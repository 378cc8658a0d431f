#include "sqltrack/config.hpp"

#include <libpq-fe.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

#include "sqltrack/db/sqlite_database.hpp"
#include "sqltrack/error.hpp"

namespace sqltrack {
namespace {

// Our own keys besides libpq's keywords. Extend this list when a feature adds a setting.
const std::set<std::string, std::less<>> kOwnKeys = {
    "engine",                // postgres or sqlite
    "schema",                // PostgreSQL schema, set as search_path
    "path",                  // SQLite database file
    "env_redact",            // extra patterns of environment names whose values are redacted
    "busy_timeout",          // SQLite: seconds a writer waits for a lock
    "add_columns",           // true: unknown metric keys become new columns
    "flush_interval",        // seconds between metric writes at the latest
    "batch_rows",            // metric rows per statement (250)
    "reject_dir",            // where rejected metric lines are kept
    "sqlite_on_network_fs",  // true: use a SQLite file on NFS/Lustre/... anyway
    "sample_interval",       // seconds between resource samples of sqltrack-run (0: off)
    "journal_dir",           // where a run waits when the database is away
    "sync_timeout",          // seconds the wrapper waits at the end for an absent database
};

// Other spellings accepted for compatibility with sqltrack 0.1.3 configs.
std::string canonical_key(std::string key) {
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (key == "database") return "dbname";
  if (key == "dbpath") return "path";
  return key;
}

const std::set<std::string, std::less<>>& libpq_keywords() {
  static const std::set<std::string, std::less<>> keywords = [] {
    std::set<std::string, std::less<>> set;
    PQconninfoOption* options = PQconndefaults();
    for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o) {
      set.insert(o->keyword);
    }
    PQconninfoFree(options);
    return set;
  }();
  return keywords;
}

bool is_postgres_key(std::string_view key) {
  // Our own keys first: listing libpq's keywords loads libpq, which SQLite users need not have.
  if (key == "schema") return true;
  if (kOwnKeys.contains(key)) return false;
  return libpq_keywords().contains(key);
}

std::string trim(std::string_view text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

using RawSettings = std::vector<std::pair<std::string, Setting>>;

// `path` is opened; `shown` is how messages name it (as the user gave it).
RawSettings read_conf_file(const std::filesystem::path& path, const std::filesystem::path& shown,
                           const std::string& origin) {
  std::ifstream in(path);
  if (!in) {
    throw ConfigError("cannot read config file '" + shown.string() + "' (" + origin +
                      "): " + std::strerror(errno));
  }
  RawSettings settings;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string text = trim(line);
    // configparser syntax: comments, an optional [DEFAULT] header, key = value or key: value.
    if (text.empty() || text[0] == '#' || text[0] == ';' || text[0] == '[') continue;
    auto separator = text.find_first_of("=:");
    if (separator == std::string::npos) {
      throw ConfigError("config file '" + shown.string() + "' line " + std::to_string(number) +
                        ": expected key = value, got '" + text + "'");
    }
    std::string key = trim(std::string_view(text).substr(0, separator));
    std::string value = trim(std::string_view(text).substr(separator + 1));
    settings.emplace_back(
        key, Setting{value, "config file '" + shown.string() + "' line " + std::to_string(number)});
  }
  return settings;
}

RawSettings read_yaml_file(const std::filesystem::path& path, const std::filesystem::path& shown,
                           const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::BadFile&) {
    throw ConfigError("cannot read config file '" + shown.string() + "' (" + origin +
                      "): " + std::strerror(errno ? errno : ENOENT));
  } catch (const YAML::Exception& e) {
    throw ConfigError("config file '" + shown.string() + "' is not valid YAML: " + e.what());
  }
  RawSettings settings;
  if (root.IsNull()) return settings;
  if (!root.IsMap()) {
    throw ConfigError("config file '" + shown.string() + "' must be a mapping of key: value");
  }
  for (const auto& entry : root) {
    std::string source =
        "config file '" + shown.string() + "' line " + std::to_string(entry.first.Mark().line + 1);
    // Keys and list items must be plain scalars: as<std::string>() throws yaml-cpp's own
    // exception for a list or mapping (found by fuzz/config_fuzzer.cpp).
    if (!entry.first.IsScalar()) throw ConfigError(source + ": a key must be a plain name");
    std::string key = entry.first.as<std::string>();
    std::string value;
    if (entry.second.IsScalar()) {
      value = entry.second.as<std::string>();
    } else if (entry.second.IsSequence()) {
      // A list (e.g. env_redact) becomes the comma-separated form of the plain config.
      for (const auto& item : entry.second) {
        if (!item.IsScalar()) {
          throw ConfigError(source + ": the list of '" + key + "' may hold only plain values");
        }
        if (!value.empty()) value += ",";
        value += item.as<std::string>();
      }
    } else if (!entry.second.IsNull()) {
      throw ConfigError(source + ": value of '" + key + "' must be a scalar or a list");
    }
    settings.emplace_back(key, Setting{value, source});
  }
  return settings;
}

bool is_yaml(const std::filesystem::path& path) {
  auto ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

// Splits "host:port", "[v6]:port" or a socket directory into host and port.
std::pair<std::string, std::optional<std::string>> split_host_port(const std::string& text) {
  if (text.starts_with("/") || text.starts_with("@")) return {text, std::nullopt};
  if (text.starts_with("[")) {
    auto close = text.find(']');
    if (close != std::string::npos) {
      std::string host = text.substr(1, close - 1);
      if (close + 1 < text.size() && text[close + 1] == ':') return {host, text.substr(close + 2)};
      return {host, std::nullopt};
    }
  }
  auto colon = text.rfind(':');
  if (colon != std::string::npos && text.find(':') == colon) {
    return {text.substr(0, colon), text.substr(colon + 1)};
  }
  return {text, std::nullopt};
}

void check_port(const std::string& port, const std::string& source) {
  int value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
    throw ConfigError("invalid port '" + port + "' (" + source + "): expected 1-65535");
  }
}

}  // namespace

bool is_known_setting(std::string_view key) {
  return kOwnKeys.contains(key) || libpq_keywords().contains(key);
}

bool is_valid_schema_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

const Setting* Settings::find(std::string_view key) const {
  auto it = values.find(key);
  return it == values.end() ? nullptr : &it->second;
}

std::optional<std::string> Settings::get(std::string_view key) const {
  const Setting* setting = find(key);
  if (setting == nullptr) return std::nullopt;
  return setting->value;
}

bool Settings::get_bool(std::string_view key, bool fallback) const {
  const Setting* setting = find(key);
  if (setting == nullptr) return fallback;
  std::string v = canonical_key(setting->value);
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  throw ConfigError("setting '" + std::string(key) + "' (" + setting->source +
                    ") must be true or false, got '" + setting->value + "'");
}

double Settings::get_number(std::string_view key, double fallback) const {
  const Setting* setting = find(key);
  if (setting == nullptr) return fallback;
  double value = 0;
  const std::string& text = setting->value;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw ConfigError("setting '" + std::string(key) + "' (" + setting->source +
                      ") must be a number, got '" + text + "'");
  }
  return value;
}

std::filesystem::path Settings::sqlite_path() const {
  return get("path").value_or("sqltrack.db");
}

db::ConnectionParameters Settings::postgres_parameters() const {
  db::ConnectionParameters parameters;
  std::string options = get("options").value_or("");
  for (const auto& [key, setting] : values) {
    if (key == "options" || !libpq_keywords().contains(key)) continue;
    parameters.emplace_back(key, setting.value);
  }
  if (auto schema = get("schema")) {
    // Validated at resolution time, so the name needs no escaping here.
    if (!options.empty()) options += " ";
    options += "-c search_path=" + *schema;
  }
  if (!options.empty()) parameters.emplace_back("options", options);
  if (!find("application_name")) parameters.emplace_back("application_name", "sqltrack");
  return parameters;
}

std::string Settings::describe_sources() const {
  std::set<std::string> sources;
  for (const auto& [key, setting] : values) {
    if (engine == db::Engine::postgres ? is_postgres_key(key) : key == "path") {
      sources.insert(setting.source.substr(0, setting.source.find(" line ")));
    }
  }
  if (sources.empty()) return "libpq defaults";
  std::string text;
  for (const auto& source : sources) {
    if (!text.empty()) text += ", ";
    text += source;
  }
  return text;
}

Settings resolve_settings(const CommandLineSettings& flags, const Environment& env,
                          const std::filesystem::path& cwd) {
  Settings settings;

  // 1. The config file: lowest of our sources.
  std::optional<std::filesystem::path> file;
  std::string origin;
  if (flags.config_path) {
    file = *flags.config_path;
    origin = "from flag -c";
  } else if (auto path = lookup(env, "SQLTRACK_CONFIG_PATH"); path && !path->empty()) {
    file = *path;
    origin = "from environment variable SQLTRACK_CONFIG_PATH";
  } else {
    for (const char* name : {"sqltrack.conf", "sqltrack.yaml", "sqltrack.yml"}) {
      if (std::filesystem::exists(cwd / name)) {
        file = std::filesystem::path(".") / name;
        origin = "found in the working directory";
        break;
      }
    }
  }
  auto apply = [&](const std::string& raw_key, Setting setting) {
    std::string key = canonical_key(raw_key);
    if (!is_known_setting(key)) {
      throw ConfigError("unknown setting '" + raw_key + "' (" + setting.source +
                        "): expected a libpq keyword or one of engine, schema, path, "
                        "env_redact, busy_timeout, add_columns, flush_interval, batch_rows, "
                        "reject_dir, sqlite_on_network_fs, sample_interval, journal_dir, "
                        "sync_timeout");
    }
    settings.values[key] = std::move(setting);
  };
  if (file) {
    std::filesystem::path full = file->is_absolute() ? *file : cwd / *file;
    RawSettings raw =
        is_yaml(*file) ? read_yaml_file(full, *file, origin) : read_conf_file(full, *file, origin);
    for (auto& [key, setting] : raw) apply(key, std::move(setting));
    settings.config_file = *file;
  }

  // 2. SQLTRACK_DSN_<PARAM> environment variables.
  for (const auto& [name, value] : env) {
    constexpr std::string_view prefix = "SQLTRACK_DSN_";
    if (!std::string_view(name).starts_with(prefix)) continue;
    apply(name.substr(prefix.size()), Setting{value, "environment variable " + name});
  }
  if (auto engine = lookup(env, "SQLTRACK_ENGINE")) {
    apply("engine", Setting{*engine, "environment variable SQLTRACK_ENGINE"});
  }

  // 3. Flags: highest.
  if (flags.user) apply("user", Setting{*flags.user, "flag -u"});
  if (flags.database) apply("dbname", Setting{*flags.database, "flag -d"});
  if (flags.schema) apply("schema", Setting{*flags.schema, "flag -s"});
  if (flags.engine) apply("engine", Setting{*flags.engine, "flag --engine"});
  if (flags.host) {
    auto [host, port] = split_host_port(*flags.host);
    apply("host", Setting{host, "flag -a"});
    if (port) apply("port", Setting{*port, "flag -a"});
  }

  // Validation, naming the source of each bad value.
  if (const Setting* port = settings.find("port")) check_port(port->value, port->source);
  if (const Setting* schema = settings.find("schema")) {
    if (!is_valid_schema_name(schema->value)) {
      throw ConfigError("invalid schema name '" + schema->value + "' (" + schema->source +
                        "): use letters, digits and underscores, not starting with a digit");
    }
  }
  if (const Setting* engine = settings.find("engine")) {
    std::string name = canonical_key(engine->value);
    if (name == "postgres" || name == "postgresql") {
      settings.engine = db::Engine::postgres;
    } else if (name == "sqlite" || name == "sqlite3") {
      settings.engine = db::Engine::sqlite;
    } else {
      throw ConfigError("unknown engine '" + engine->value + "' (" + engine->source +
                        "): expected postgres or sqlite");
    }
    settings.engine_source = engine->source;
  } else {
    // No engine named: PostgreSQL as soon as any PostgreSQL parameter is given.
    for (const auto& [key, setting] : settings.values) {
      if (is_postgres_key(key)) {
        settings.engine = db::Engine::postgres;
        settings.engine_source = "implied by '" + key + "' (" + setting.source + ")";
        break;
      }
    }
  }
  if (settings.engine == db::Engine::sqlite) {
    if (const Setting* path = settings.find("path"); path && path->value.empty()) {
      throw ConfigError("setting 'path' (" + path->source + ") is empty");
    }
  }
  return settings;
}

std::unique_ptr<db::Database> open_database(const Settings& settings, db::WalOnClose wal_on_close) {
  if (settings.engine == db::Engine::sqlite) {
    db::SqliteOptions options;
    options.wal_on_close = wal_on_close;
    options.path = settings.sqlite_path();
    options.busy_timeout = std::chrono::milliseconds(
        static_cast<long long>(settings.get_number("busy_timeout", 60) * 1000));
    options.allow_network_filesystem = settings.get_bool("sqlite_on_network_fs", false);
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
    throw DatabaseError(
        e.kind(), std::string(e.what()) + " (settings from " + settings.describe_sources() + ")");
  }
}

}  // namespace sqltrack
