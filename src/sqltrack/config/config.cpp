#include "sqltrack/config/config.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "sqltrack/config/numeric_ranges.hpp"
#include "sqltrack/util/capture.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/input_file.hpp"
#include "sqltrack/util/output_file.hpp"
#include "sqltrack/util/redaction.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack {
namespace {

// Our own keys besides libpq's keywords. Extend this list when a feature adds a setting.
const std::set<std::string, std::less<>> kOwnKeys = {
    "engine",                // postgres or sqlite
    "schema",                // PostgreSQL schema, set as search_path
    "path",                  // SQLite database file
    "env_redact",            // extra patterns of environment names whose values are redacted
    "busy_timeout",          // SQLite: seconds a writer waits for a lock
    "add_columns",           // unknown metric keys become new columns (SQLite: on by default)
    "flush_interval",        // seconds between metric writes at the latest
    "batch_rows",            // metric rows per statement (250)
    "reject_dir",            // where rejected metric lines are kept
    "sqlite_on_network_fs",  // true: use a SQLite file on NFS/Lustre/... anyway
    "sample_interval",       // seconds between resource samples of sqltrack-run (0: off)
    "journal_dir",           // where a run waits when the database is away
    "sync_timeout",          // seconds the wrapper waits at the end for an absent database
    "file_mode",             // mode of the SQLite database, reject and export files created
    "capture_git",           // what sqltrack-run records of the git work tree: off, on, full
};

// Other spellings accepted for compatibility with sqltrack 0.1.3 configs.
std::string canonical_key(std::string key) {
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (key == "database") return "dbname";
  if (key == "dbpath") return "path";
  return key;
}

bool is_postgres_key(std::string_view key) {
  // Our own keys first: listing libpq's keywords loads libpq, which SQLite users need not have.
  if (key == "schema") return true;
  if (kOwnKeys.contains(key)) return false;
  return db::is_libpq_keyword(key);
}

using RawSettings = std::vector<std::pair<std::string, Setting>>;

// A value, key or line from the user as a message quotes it, with the secrets in it masked.
std::string in_quotes(std::string_view text) {
  return "'" + text_for_message(text) + "'";
}

// A config line (or key) that is not key = value: when its first word names a secret
// ("password hunter2"), the rest is that secret.
std::string quoted_line(std::string_view line) {
  const auto end = line.find_first_of(" \t");
  if (end != std::string_view::npos && is_secret_name(line.substr(0, end), {}, NameKind::option)) {
    return in_quotes(std::string(line.substr(0, end)) + " " + std::string(kRedactedMarker));
  }
  return in_quotes(line);
}

// A file's name as messages quote it.
std::string file_name(const std::filesystem::path& path) {
  return "'" + escape_for_terminal(path.string()) + "'";
}

// configparser syntax: comments, an optional [DEFAULT] header, key = value or key: value.
// `name` is how messages name the file ("config file './sqltrack.conf'").
RawSettings parse_conf_text(std::string_view text, const std::string& name) {
  RawSettings settings;
  std::size_t start = 0;
  for (int number = 1; start < text.size(); ++number) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string line(trim(text.substr(start, end - start)));
    start = end + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';' || line[0] == '[') continue;
    const std::string where = name + " line " + std::to_string(number);
    auto separator = line.find_first_of("=:");
    if (separator == std::string::npos) {
      throw ConfigError(where + ": expected key = value, got " + quoted_line(line));
    }
    std::string key(trim(std::string_view(line).substr(0, separator)));
    std::string value(trim(std::string_view(line).substr(separator + 1)));
    settings.emplace_back(key, Setting{value, where});
  }
  return settings;
}

// A value of the YAML form: a scalar, or a list of them (env_redact) as the comma-separated
// form of the plain config.
std::string yaml_value(const YAML::Node& node, const std::string& key, const std::string& source) {
  if (node.IsScalar()) return node.as<std::string>();
  if (node.IsNull()) return {};
  if (!node.IsSequence()) {
    throw ConfigError(source + ": value of " + in_quotes(key) + " must be a scalar or a list");
  }
  std::string value;
  for (const auto& item : node) {
    if (!item.IsScalar()) {
      throw ConfigError(source + ": the list of " + in_quotes(key) + " may hold only plain values");
    }
    if (!value.empty()) value += ",";
    value += item.as<std::string>();
  }
  return value;
}

RawSettings parse_yaml_text(const std::string& text, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(name + " is not valid YAML: " + text_for_message(e.what()));
  }
  RawSettings settings;
  if (root.IsNull()) return settings;
  if (!root.IsMap()) throw ConfigError(name + " must be a mapping of key: value");
  for (const auto& entry : root) {
    std::string source = name + " line " + std::to_string(entry.first.Mark().line + 1);
    // Keys and list items must be plain scalars: as<std::string>() throws yaml-cpp's own
    // exception for a list or mapping (found by fuzz/config_fuzzer.cpp).
    if (!entry.first.IsScalar()) throw ConfigError(source + ": a key must be a plain name");
    std::string key = entry.first.as<std::string>();
    settings.emplace_back(key, Setting{yaml_value(entry.second, key, source), source});
  }
  return settings;
}

bool is_yaml(const std::filesystem::path& path) {
  auto ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

// Splits "host:port", "[v6]:port" or a socket directory ("/run/pg", "/run/pg:5433") into
// host and port. A socket directory's port is the digits after its last ':'.
std::pair<std::string, std::optional<std::string>> split_host_port(const std::string& text) {
  if (text.starts_with("/") || text.starts_with("@")) {
    auto colon = text.rfind(':');
    bool port_follows = colon != std::string::npos && colon + 1 < text.size() &&
                        text.find_first_not_of("0123456789", colon + 1) == std::string::npos;
    if (!port_follows) return {text, std::nullopt};
    return {text.substr(0, colon), text.substr(colon + 1)};
  }
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

// One port, or one per host of a list as libpq takes them ("5432,5433"; empty: the default).
void check_port(const std::string& ports, const std::string& source) {
  std::size_t begin = 0;
  while (begin <= ports.size()) {
    std::size_t end = std::min(ports.find(',', begin), ports.size());
    std::string_view port = std::string_view(ports).substr(begin, end - begin);
    int value = 0;
    auto [last, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    bool empty_in_list = port.empty() && ports.find(',') != std::string::npos;
    if (!empty_in_list &&
        (ec != std::errc() || last != port.data() + port.size() || value < 1 || value > 65535)) {
      throw ConfigError("invalid port " + in_quotes(ports) + " (" + source + "): expected 1-65535");
    }
    begin = end + 1;
  }
}

// Each numeric setting within its range (numeric_ranges.hpp), named with its source.
void check_numeric_settings(const Settings& settings) {
  for (const NumericRange& range : kNumericRanges) {
    const Setting* setting = range.setting.empty() ? nullptr : settings.find(range.setting);
    if (setting == nullptr) continue;
    check_in_range(range, settings.get_number(range.setting, 0), setting->value,
                   "setting '" + std::string(range.setting) + "' (" + setting->source + ")");
  }
}

// file_mode as chmod writes it: three or four octal digits ("0640", "640").
std::optional<mode_t> parse_octal_mode(std::string_view text) {
  if (text.size() < 3 || text.size() > 4) return std::nullopt;
  mode_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    mode = static_cast<mode_t>(mode * 8 + static_cast<mode_t>(c - '0'));
  }
  return mode;
}

// The owner reads and writes (the programs open the file again); others never write, and
// nothing is executable, set-id or sticky.
constexpr mode_t kFileModeRequired = 0600;
constexpr mode_t kFileModeAllowed = 0664;

void check_file_mode(const Settings& settings) {
  const Setting* setting = settings.find("file_mode");
  if (setting == nullptr) return;
  const std::string who = "setting 'file_mode' (" + setting->source + ")";
  auto mode = parse_octal_mode(setting->value);
  if (!mode) {
    throw ConfigError(who + " must be an octal mode such as 0600 or 0640, got " +
                      in_quotes(setting->value));
  }
  if ((*mode & kFileModeRequired) != kFileModeRequired || (*mode & ~kFileModeAllowed) != 0) {
    // Only octal digits: nothing in it to mask or escape.
    throw UsageError(who + " is " + setting->value +
                     ", out of range: expected 0600 plus any of 0040, 0020 and 0004 (such as "
                     "0640 or 0660): read and write for the owner, no write for others, no "
                     "execute bits");
  }
}

constexpr std::string_view kGitCaptureValues = "off, on or full";

std::optional<GitCapture> parse_git_capture(std::string_view text) {
  const std::string value = canonical_key(std::string(text));
  if (value == "off") return GitCapture::off;
  if (value == "on") return GitCapture::on;
  if (value == "full") return GitCapture::full;
  return std::nullopt;
}

void check_capture_git(const Settings& settings) {
  const Setting* setting = settings.find("capture_git");
  if (setting == nullptr || parse_git_capture(setting->value)) return;
  throw ConfigError("setting 'capture_git' (" + setting->source + ") must be " +
                    std::string(kGitCaptureValues) + ", got " + in_quotes(setting->value));
}

// What libpq's expand_dbname takes for a connection string rather than a database name.
bool is_connection_string(std::string_view value) {
  return value.starts_with("postgresql://") || value.starts_with("postgres://") ||
         value.find('=') != std::string_view::npos;
}

// The parameters of a URI or key=value connection string, parsed by libpq itself, each with
// the source of the string.
RawSettings expand_connection_string(const Setting& setting) {
  db::ConnectionParameters parsed;
  try {
    parsed = db::parse_connection_string(setting.value);
  } catch (const DatabaseError& e) {
    throw ConfigError("invalid connection URI or string (" + setting.source +
                      "): " + text_for_message(trim(e.what())));
  }
  RawSettings parameters;
  for (auto& [key, value] : parsed) parameters.emplace_back(key, Setting{value, setting.source});
  return parameters;
}

std::string unknown_setting(const std::string& raw_key, const std::string& source) {
  return "unknown setting " + quoted_line(raw_key) + " (" + source +
         "): expected a libpq keyword or one of engine, schema, path, env_redact, busy_timeout, "
         "add_columns, flush_interval, batch_rows, reject_dir, sqlite_on_network_fs, "
         "sample_interval, journal_dir, sync_timeout, file_mode, capture_git";
}

void apply_setting(Settings& settings, const std::string& raw_key, Setting setting) {
  std::string key = canonical_key(raw_key);
  if (!is_known_setting(key)) throw ConfigError(unknown_setting(raw_key, setting.source));
  if (key == "dbname" && is_connection_string(setting.value)) {
    // libpq's expand_dbname: a URI or connection string as dbname gives its parameters.
    for (auto& [part, value] : expand_connection_string(setting)) {
      settings.values[part] = std::move(value);
    }
    return;
  }
  settings.values[key] = std::move(setting);
}

// The settings of one source (file, environment or flags), over those of the sources below.
// A URI given as dbname goes first: the source's own keys win over its parts.
void apply_source(Settings& settings, RawSettings source) {
  std::stable_partition(source.begin(), source.end(), [](const auto& entry) {
    return canonical_key(entry.first) == "dbname" && is_connection_string(entry.second.value);
  });
  for (auto& [key, setting] : source) apply_setting(settings, key, std::move(setting));
}

struct ConfigFileChoice {
  std::filesystem::path path;  // as given, for messages
  std::string origin;
};

// -c, else SQLTRACK_CONFIG_PATH, else sqltrack.conf / .yaml / .yml in the working directory.
std::optional<ConfigFileChoice> choose_config_file(const CommandLineSettings& flags,
                                                   const Environment& env,
                                                   const std::filesystem::path& cwd) {
  if (flags.config_path) return ConfigFileChoice{*flags.config_path, "from flag -c"};
  if (auto path = lookup(env, "SQLTRACK_CONFIG_PATH"); path && !path->empty()) {
    return ConfigFileChoice{*path, "from environment variable SQLTRACK_CONFIG_PATH"};
  }
  for (const char* name : {"sqltrack.conf", "sqltrack.yaml", "sqltrack.yml"}) {
    std::error_code ec;
    if (std::filesystem::exists(cwd / name, ec)) {
      return ConfigFileChoice{std::filesystem::path(".") / name, "found in the working directory"};
    }
  }
  return std::nullopt;
}

constexpr std::size_t kConfigFileLimit = std::size_t{1} << 20;

// As ssh and libpq's pgpass: a config file chooses where runs (command lines, environment)
// are recorded, so only its reader or root may own it, and nobody else may write it.
void check_trusted(const struct stat& info, const ConfigFileChoice& file) {
  const std::string name = "config file " + file_name(file.path) + " (" + file.origin + ")";
  if (info.st_uid != ::geteuid() && info.st_uid != 0) {
    throw ConfigError(name + " belongs to " + describe_user(info.st_uid) + ", not to you, " +
                      describe_user(::geteuid()) +
                      ": refused, since its owner would choose where your runs, their command "
                      "lines and environment are recorded; use a config file of your own (-c)");
  }
  const bool group = (info.st_mode & S_IWGRP) != 0;
  const bool others = (info.st_mode & S_IWOTH) != 0;
  if (group || others) {
    throw ConfigError(name + " is writable by " +
                      (group && others ? "group and others"
                       : group         ? "group"
                                       : "others") +
                      " (mode " + octal_mode(info.st_mode) +
                      "): refused, since they could choose where your runs are recorded; "
                      "chmod go-w " +
                      file_name(file.path));
  }
}

bool holds_password(const RawSettings& settings) {
  return std::any_of(settings.begin(), settings.end(), [](const auto& entry) {
    const std::string key = canonical_key(entry.first);
    const std::string& value = entry.second.value;
    if (key == "dbname") return redact_secrets_in_value(value) != value;
    return !value.empty() && is_secret_name(key, {}, NameKind::option);
  });
}

// The config file's settings, once it is known to be a file its reader may trust.
RawSettings read_config_file(const ConfigFileChoice& file, const std::filesystem::path& cwd,
                             std::vector<std::string>& warnings) {
  const std::filesystem::path full = file.path.is_absolute() ? file.path : cwd / file.path;
  const std::string name = "config file " + file_name(file.path);
  InputFile input;
  try {
    input = read_input_file(full, name + " (" + file.origin + ")", kConfigFileLimit);
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& e) {
    throw ConfigError(e.what());
  }
  check_trusted(input.info, file);
  RawSettings settings =
      is_yaml(file.path) ? parse_yaml_text(input.bytes, name) : parse_conf_text(input.bytes, name);
  if ((input.info.st_mode & (S_IRWXG | S_IRWXO)) != 0 && holds_password(settings)) {
    warnings.push_back(name + " holds a password and others may read it (mode " +
                       octal_mode(input.info.st_mode) + "): chmod 600 " + file_name(file.path));
  }
  return settings;
}

RawSettings environment_settings(const Environment& env) {
  RawSettings settings;
  for (const auto& [name, value] : env) {
    constexpr std::string_view prefix = "SQLTRACK_DSN_";
    if (!std::string_view(name).starts_with(prefix)) continue;
    settings.emplace_back(name.substr(prefix.size()),
                          Setting{value, "environment variable " + name});
  }
  if (auto engine = lookup(env, "SQLTRACK_ENGINE")) {
    settings.emplace_back("engine", Setting{*engine, "environment variable SQLTRACK_ENGINE"});
  }
  return settings;
}

RawSettings flag_settings(const CommandLineSettings& flags) {
  RawSettings settings;
  if (flags.user) settings.emplace_back("user", Setting{*flags.user, "flag -u"});
  if (flags.database) settings.emplace_back("dbname", Setting{*flags.database, "flag -d"});
  if (flags.schema) settings.emplace_back("schema", Setting{*flags.schema, "flag -s"});
  if (flags.engine) settings.emplace_back("engine", Setting{*flags.engine, "flag --engine"});
  if (flags.host) {
    auto [host, port] = split_host_port(*flags.host);
    settings.emplace_back("host", Setting{host, "flag -a"});
    if (port) settings.emplace_back("port", Setting{*port, "flag -a"});
  }
  return settings;
}

void choose_engine(Settings& settings) {
  if (const Setting* engine = settings.find("engine")) {
    std::string name = canonical_key(engine->value);
    if (name == "postgres" || name == "postgresql") {
      settings.engine = db::Engine::postgres;
    } else if (name == "sqlite" || name == "sqlite3") {
      settings.engine = db::Engine::sqlite;
    } else {
      throw ConfigError("unknown engine " + in_quotes(engine->value) + " (" + engine->source +
                        "): expected postgres or sqlite");
    }
    settings.engine_source = engine->source;
    return;
  }
  // No engine named: PostgreSQL as soon as any PostgreSQL parameter is given.
  for (const auto& [key, setting] : settings.values) {
    if (is_postgres_key(key)) {
      settings.engine = db::Engine::postgres;
      settings.engine_source = "implied by '" + key + "' (" + setting.source + ")";
      return;
    }
  }
}

// Validation, naming the source of each bad value.
void validate(Settings& settings) {
  if (const Setting* port = settings.find("port")) check_port(port->value, port->source);
  if (const Setting* schema = settings.find("schema")) {
    if (!is_valid_schema_name(schema->value)) {
      throw ConfigError("invalid schema name " + in_quotes(schema->value) + " (" + schema->source +
                        "): use letters, digits and underscores, not starting with a digit");
    }
  }
  choose_engine(settings);
  if (settings.engine == db::Engine::sqlite) {
    if (const Setting* path = settings.find("path"); path && path->value.empty()) {
      throw ConfigError("setting 'path' (" + path->source + ") is empty");
    }
  }
}

}  // namespace

bool is_known_setting(std::string_view key) {
  return kOwnKeys.contains(key) || db::is_libpq_keyword(key);
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
                    ") must be true or false, got " + in_quotes(setting->value));
}

bool Settings::add_columns() const {
  return get_bool("add_columns", engine == db::Engine::sqlite);
}

double Settings::get_number(std::string_view key, double fallback) const {
  const Setting* setting = find(key);
  if (setting == nullptr) return fallback;
  double value = 0;
  const std::string& text = setting->value;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw ConfigError("setting '" + std::string(key) + "' (" + setting->source +
                      ") must be a number, got " + in_quotes(text));
  }
  return value;
}

GitCapture git_capture(const std::optional<std::string>& flag, const Settings& settings) {
  if (flag) {
    if (auto capture = parse_git_capture(*flag)) return *capture;
    throw UsageError("flag --capture-git must be " + std::string(kGitCaptureValues) + ", got " +
                     in_quotes(*flag));
  }
  const Setting* setting = settings.find("capture_git");
  // Checked when the settings were resolved.
  if (setting == nullptr) return GitCapture::on;
  return parse_git_capture(setting->value).value_or(GitCapture::on);
}

mode_t Settings::file_mode() const {
  const Setting* setting = find("file_mode");
  if (setting == nullptr) return kPrivateFileMode;
  // Checked when the settings were resolved.
  return parse_octal_mode(setting->value).value_or(kPrivateFileMode);
}

std::filesystem::path Settings::sqlite_path() const {
  return get("path").value_or("sqltrack.db");
}

db::ConnectionParameters Settings::postgres_parameters() const {
  db::ConnectionParameters parameters;
  std::string options = get("options").value_or("");
  for (const auto& [key, setting] : values) {
    if (key == "options" || !db::is_libpq_keyword(key)) continue;
    parameters.emplace_back(key, setting.value);
  }
  if (auto schema = get("schema")) {
    // Quoted as `sqltrack setup` creates it: unquoted, PostgreSQL would search TeamVision as
    // teamvision. The name was validated (letters, digits, _), so it holds no space or quote.
    if (!options.empty()) options += " ";
    options += "-c search_path=" + db::quote_identifier(*schema);
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
  if (sources.empty()) return engine == db::Engine::postgres ? "libpq defaults" : "the defaults";
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
  // The config file, lowest of our sources; then SQLTRACK_DSN_*; then flags, highest.
  if (auto file = choose_config_file(flags, env, cwd)) {
    apply_source(settings, read_config_file(*file, cwd, settings.warnings));
    settings.config_file = file->path;
    settings.config_origin = file->origin;
  }
  apply_source(settings, environment_settings(env));
  apply_source(settings, flag_settings(flags));
  validate(settings);
  check_numeric_settings(settings);
  check_file_mode(settings);
  check_capture_git(settings);
  return settings;
}

std::string shown_setting_value(std::string_view key, std::string_view value) {
  if (!value.empty() && is_secret_name(key, {}, NameKind::option)) {
    return std::string(kRedactedMarker);
  }
  return text_for_message(value);
}

// A connection failure's message without the password, however libpq or the server quoted it.
std::string without_password(const std::string& message, const Settings& settings) {
  std::string text = redact_secrets_in_value(message);
  auto password = settings.get("password");
  if (!password || password->size() < 3) return text;
  for (std::size_t at = text.find(*password); at != std::string::npos;
       at = text.find(*password, at + kRedactedMarker.size())) {
    text.replace(at, password->size(), kRedactedMarker);
  }
  return text;
}

}  // namespace sqltrack
