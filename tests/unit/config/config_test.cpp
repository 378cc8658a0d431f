// Settings resolution: flags > SQLTRACK_DSN_* > config file > defaults.
#include <gtest/gtest.h>

#include "sqltrack/config/config.hpp"
#include "sqltrack/util/error.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::TempDir;
using test::write_file;

std::string value_of(const Settings& settings, const char* key) {
  return settings.get(key).value_or("<unset>");
}

TEST(ConfigPrecedence, FlagOverEnvironment) {
  TempDir dir;
  CommandLineSettings flags;
  flags.user = "from_flag";
  auto settings = resolve_settings(flags, {{"SQLTRACK_DSN_USER", "from_env"}}, dir.path());
  EXPECT_EQ(value_of(settings, "user"), "from_flag");
  EXPECT_EQ(settings.find("user")->source, "flag -u");
}

TEST(ConfigPrecedence, FlagOverFile) {
  TempDir dir;
  write_file(dir / "sqltrack.conf", "dbname = from_file\n");
  CommandLineSettings flags;
  flags.database = "from_flag";
  auto settings = resolve_settings(flags, {}, dir.path());
  EXPECT_EQ(value_of(settings, "dbname"), "from_flag");
}

TEST(ConfigPrecedence, EnvironmentOverFile) {
  TempDir dir;
  write_file(dir / "sqltrack.conf", "host = file.example\n");
  auto settings = resolve_settings({}, {{"SQLTRACK_DSN_HOST", "env.example"}}, dir.path());
  EXPECT_EQ(value_of(settings, "host"), "env.example");
  EXPECT_EQ(settings.find("host")->source, "environment variable SQLTRACK_DSN_HOST");
}

TEST(ConfigPrecedence, FileOverDefault) {
  TempDir dir;
  write_file(dir / "sqltrack.conf", "# a comment\n[DEFAULT]\nschema = from_file\npath: x.db\n");
  auto settings = resolve_settings({}, {}, dir.path());
  EXPECT_EQ(value_of(settings, "schema"), "from_file");
  EXPECT_EQ(settings.find("schema")->source, "config file './sqltrack.conf' line 3");
  EXPECT_EQ(settings.engine, db::Engine::postgres) << "schema is a PostgreSQL setting";
}

TEST(ConfigPrecedence, DefaultIsSqliteInWorkingDirectory) {
  TempDir dir;
  auto settings = resolve_settings({}, {}, dir.path());
  EXPECT_EQ(settings.engine, db::Engine::sqlite);
  EXPECT_EQ(settings.sqlite_path(), std::filesystem::path("sqltrack.db"));
}

TEST(ConfigPrecedence, AllThreeSourcesPickTheFlagForEachKey) {
  TempDir dir;
  write_file(dir / "sqltrack.conf", "user = f\ndbname = f\nschema = f\nhost = f\n");
  CommandLineSettings flags;
  flags.user = "flag";
  flags.host = "flaghost:6000";
  auto settings = resolve_settings(
      flags, {{"SQLTRACK_DSN_USER", "env"}, {"SQLTRACK_DSN_DBNAME", "env"}}, dir.path());
  EXPECT_EQ(value_of(settings, "user"), "flag");
  EXPECT_EQ(value_of(settings, "host"), "flaghost");
  EXPECT_EQ(value_of(settings, "port"), "6000");
  EXPECT_EQ(value_of(settings, "dbname"), "env");
  EXPECT_EQ(value_of(settings, "schema"), "f");
}

TEST(ConfigFile, DatabaseIsAnAliasOfDbname) {
  TempDir dir;
  write_file(dir / "sqltrack.conf", "database = runs\n");
  EXPECT_EQ(value_of(resolve_settings({}, {}, dir.path()), "dbname"), "runs");
}

TEST(ConfigFile, ExplicitPathViaFlagAndEnvironment) {
  TempDir dir;
  write_file(dir / "a.conf", "user = a\n");
  write_file(dir / "b.conf", "user = b\n");
  CommandLineSettings flags;
  flags.config_path = dir / "a.conf";
  auto env = Environment{{"SQLTRACK_CONFIG_PATH", (dir / "b.conf").string()}};
  EXPECT_EQ(value_of(resolve_settings(flags, env, dir.path()), "user"), "a");
  EXPECT_EQ(value_of(resolve_settings({}, env, dir.path()), "user"), "b");
}

TEST(ConfigFile, YamlWithTheSameKeys) {
  TempDir dir;
  write_file(dir / "sqltrack.yaml",
             "engine: postgres\nhost: db.example\nport: 5433\nenv_redact:\n  - AWS_*\n  - "
             "MY_KEY\n");
  auto settings = resolve_settings({}, {}, dir.path());
  EXPECT_EQ(settings.engine, db::Engine::postgres);
  EXPECT_EQ(value_of(settings, "host"), "db.example");
  EXPECT_EQ(value_of(settings, "port"), "5433");
  EXPECT_EQ(value_of(settings, "env_redact"), "AWS_*,MY_KEY");
}

TEST(ConfigErrors, UnknownKeyInFileNamesFileAndLine) {
  TempDir dir;
  write_file(dir / "sqltrack.conf", "user = a\nhots = typo\n");
  try {
    resolve_settings({}, {}, dir.path());
    FAIL() << "expected a ConfigError for the unknown key 'hots'";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "unknown setting 'hots' (config file './sqltrack.conf' line 2): expected a "
                 "libpq keyword or one of engine, schema, path, env_redact, busy_timeout, "
                 "add_columns, flush_interval, batch_rows, reject_dir, sqlite_on_network_fs, "
                 "sample_interval, journal_dir, sync_timeout, file_mode, capture_git");
  }
}

TEST(ConfigErrors, UnknownKeyInEnvironmentNamesVariable) {
  TempDir dir;
  try {
    resolve_settings({}, {{"SQLTRACK_DSN_HOTS", "x"}}, dir.path());
    FAIL() << "expected a ConfigError for SQLTRACK_DSN_HOTS";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("environment variable SQLTRACK_DSN_HOTS"),
              std::string::npos)
        << e.what();
  }
}

TEST(ConfigErrors, MissingFileGivenWithFlag) {
  TempDir dir;
  CommandLineSettings flags;
  flags.config_path = dir / "nope.conf";
  try {
    resolve_settings(flags, {}, dir.path());
    FAIL() << "expected a ConfigError for a missing -c file";
  } catch (const ConfigError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("nope.conf"), std::string::npos) << message;
    EXPECT_NE(message.find("from flag -c"), std::string::npos) << message;
    EXPECT_NE(message.find("No such file"), std::string::npos) << message;
  }
}

TEST(ConfigErrors, MalformedLine) {
  TempDir dir;
  write_file(dir / "sqltrack.conf", "just words\n");
  EXPECT_THROW(resolve_settings({}, {}, dir.path()), ConfigError);
}

TEST(ConfigErrors, SchemaWithQuotesAndSemicolonsIsRefused) {
  TempDir dir;
  CommandLineSettings flags;
  flags.schema = "x\"; DROP TABLE runs; --";
  try {
    resolve_settings(flags, {}, dir.path());
    FAIL() << "expected a ConfigError for an unsafe schema name";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("invalid schema name"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("flag -s"), std::string::npos) << e.what();
  }
}

TEST(ConfigErrors, BadPortAndEngine) {
  TempDir dir;
  CommandLineSettings flags;
  flags.host = "localhost:notaport";
  EXPECT_THROW(resolve_settings(flags, {}, dir.path()), ConfigError);
  EXPECT_THROW(resolve_settings({}, {{"SQLTRACK_ENGINE", "mysql"}}, dir.path()), ConfigError);
}

TEST(ConfigFileMode, OctalModeWithReadAndWriteForTheOwnerOnly) {
  TempDir dir;
  EXPECT_EQ(resolve_settings({}, {}, dir.path()).file_mode(), 0600u) << "the default";
  EXPECT_EQ(resolve_settings({}, {{"SQLTRACK_DSN_FILE_MODE", "640"}}, dir.path()).file_mode(),
            0640u);
  EXPECT_EQ(resolve_settings({}, {{"SQLTRACK_DSN_FILE_MODE", "0664"}}, dir.path()).file_mode(),
            0664u);
  write_file(dir / "sqltrack.conf", "file_mode = 0777\n");
  try {
    resolve_settings({}, {}, dir.path());
    FAIL() << "expected a UsageError for file_mode 0777";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "setting 'file_mode' (config file './sqltrack.conf' line 1) is 0777, out of "
                 "range: expected 0600 plus any of 0040, 0020 and 0004 (such as 0640 or 0660): "
                 "read and write for the owner, no write for others, no execute bits");
  }
  write_file(dir / "sqltrack.conf", "file_mode = u=rw\n");
  try {
    resolve_settings({}, {}, dir.path());
    FAIL() << "expected a ConfigError for file_mode u=rw";
  } catch (const UsageError&) {
    FAIL() << "a value that is no mode at all is a ConfigError, as a malformed number is";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "setting 'file_mode' (config file './sqltrack.conf' line 1) must be an octal "
                 "mode such as 0600 or 0640, got 'u=rw'");
  }
}

TEST(ConfigCaptureGit, FlagOverSettingOverOn) {
  TempDir dir;
  EXPECT_EQ(git_capture(std::nullopt, resolve_settings({}, {}, dir.path())), GitCapture::on);
  write_file(dir / "sqltrack.conf", "capture_git = Full\n");
  const Settings full = resolve_settings({}, {}, dir.path());
  EXPECT_EQ(git_capture(std::nullopt, full), GitCapture::full);
  EXPECT_EQ(git_capture("off", full), GitCapture::off);
  const Settings off =
      resolve_settings({}, {{"SQLTRACK_DSN_CAPTURE_GIT", "off"}}, dir.path() / "none");
  EXPECT_EQ(git_capture(std::nullopt, off), GitCapture::off);
  EXPECT_EQ(git_capture("on", off), GitCapture::on);
}

TEST(ConfigCaptureGit, AnotherValueNamesItsSource) {
  TempDir dir;
  write_file(dir / "sqltrack.conf", "capture_git = true\n");
  try {
    resolve_settings({}, {}, dir.path());
    FAIL() << "expected a ConfigError for capture_git = true";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "setting 'capture_git' (config file './sqltrack.conf' line 1) must be off, on "
                 "or full, got 'true'");
  }
  try {
    git_capture("dirty", resolve_settings({}, {}, dir.path() / "none"));
    FAIL() << "expected a UsageError for --capture-git dirty";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "flag --capture-git must be off, on or full, got 'dirty'");
  }
}

TEST(ConfigEngine, ExplicitEngineWinsOverImpliedOne) {
  TempDir dir;
  auto settings =
      resolve_settings({}, {{"SQLTRACK_ENGINE", "sqlite"}, {"SQLTRACK_DSN_HOST", "h"}}, dir.path());
  EXPECT_EQ(settings.engine, db::Engine::sqlite);
}

TEST(ConfigHost, HostPortForms) {
  TempDir dir;
  auto resolve_host = [&](const char* text) {
    CommandLineSettings flags;
    flags.host = text;
    auto s = resolve_settings(flags, {}, dir.path());
    return value_of(s, "host") + "|" + value_of(s, "port");
  };
  EXPECT_EQ(resolve_host("db"), "db|<unset>");
  EXPECT_EQ(resolve_host("db:5433"), "db|5433");
  EXPECT_EQ(resolve_host("[::1]:5433"), "::1|5433");
  EXPECT_EQ(resolve_host("/run/postgresql"), "/run/postgresql|<unset>");
  EXPECT_EQ(resolve_host("/run/postgresql:5433"), "/run/postgresql|5433");
  EXPECT_EQ(resolve_host("/tmp/pg:x/socket"), "/tmp/pg:x/socket|<unset>")
      << "a ':' inside a socket directory's path is not a port";
  EXPECT_EQ(resolve_host("/tmp/pg:"), "/tmp/pg:|<unset>");
  EXPECT_EQ(resolve_host("@abstract:5433"), "@abstract|5433");
}

TEST(ConfigHost, SocketDirectoryPortComesFromTheFlagAndIsChecked) {
  TempDir dir;
  CommandLineSettings flags;
  flags.host = "/run/postgresql:5433";
  auto settings = resolve_settings(flags, {}, dir.path());
  EXPECT_EQ(settings.engine, db::Engine::postgres);
  EXPECT_EQ(settings.find("port")->source, "flag -a");
  flags.host = "/run/postgresql:99999";
  EXPECT_THROW(resolve_settings(flags, {}, dir.path()), ConfigError)
      << "a port out of 1-65535 after a socket directory";
}

TEST(ConfigSecrets, PasswordNeverInDescriptionOrParametersText) {
  TempDir dir;
  auto settings = resolve_settings({}, {{"SQLTRACK_DSN_PASSWORD", "hunter2"}}, dir.path());
  EXPECT_EQ(settings.describe_sources().find("hunter2"), std::string::npos);
  bool passed_to_libpq = false;
  for (const auto& [key, value] : settings.postgres_parameters()) {
    if (key == "password") passed_to_libpq = value == "hunter2";
  }
  EXPECT_TRUE(passed_to_libpq) << "the password must still reach libpq";
}

// The message of the ConfigError that resolving throws, or a test failure.
std::string config_error(const CommandLineSettings& flags, const Environment& env,
                         const std::filesystem::path& dir) {
  try {
    resolve_settings(flags, env, dir);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return {};
}

TEST(ConfigSecrets, MalformedLineWithAPasswordIsMasked) {
  TempDir dir;
  write_file(dir / "sqltrack.conf", "host = db\npassword hunter2\n");
  std::string message = config_error({}, {}, dir.path());
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_NE(message.find("line 2"), std::string::npos) << message;
  EXPECT_NE(message.find("password <redacted>"), std::string::npos) << message;
}

TEST(ConfigSecrets, UnknownKeyHoldingAPasswordIsMasked) {
  TempDir dir;
  write_file(dir / "sqltrack.conf", "password hunter2: x\n");
  std::string message = config_error({}, {}, dir.path());
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_NE(message.find("line 1"), std::string::npos) << message;
}

std::string source_of(const Settings& settings, const char* key) {
  const Setting* setting = settings.find(key);
  return setting ? setting->source : "<unset>";
}

TEST(ConfigUri, DatabaseUriIsExpandedIntoItsParameters) {
  TempDir dir;
  CommandLineSettings flags;
  flags.database = "postgresql://u:SECRET@dbhost:5433/exp?sslmode=require";
  auto settings = resolve_settings(flags, {}, dir.path());
  EXPECT_EQ(value_of(settings, "host"), "dbhost");
  EXPECT_EQ(value_of(settings, "port"), "5433");
  EXPECT_EQ(value_of(settings, "dbname"), "exp");
  EXPECT_EQ(value_of(settings, "user"), "u");
  EXPECT_EQ(value_of(settings, "password"), "SECRET");
  EXPECT_EQ(value_of(settings, "sslmode"), "require");
  EXPECT_EQ(source_of(settings, "host"), "flag -d");
  EXPECT_EQ(settings.engine, db::Engine::postgres);
  for (const auto& [key, value] : settings.postgres_parameters()) {
    EXPECT_EQ(value.find("postgresql://"), std::string::npos) << key << "=" << value;
  }
}

TEST(ConfigUri, UriInTheEnvironmentAndTheConfigFileAndConninfoStrings) {
  TempDir dir;
  auto from_env =
      resolve_settings({}, {{"SQLTRACK_DSN_DBNAME", "postgres://envhost/envdb"}}, dir.path());
  EXPECT_EQ(value_of(from_env, "host"), "envhost");
  EXPECT_EQ(value_of(from_env, "dbname"), "envdb");
  EXPECT_EQ(source_of(from_env, "host"), "environment variable SQLTRACK_DSN_DBNAME");

  write_file(dir / "sqltrack.conf", "dbname = postgresql://%2Fvar%2Frun%2Fpg/filedb?user=f\n");
  auto from_file = resolve_settings({}, {}, dir.path());
  EXPECT_EQ(value_of(from_file, "host"), "/var/run/pg");
  EXPECT_EQ(value_of(from_file, "dbname"), "filedb");
  EXPECT_EQ(value_of(from_file, "user"), "f");

  CommandLineSettings flags;
  flags.database = "host=h1 dbname=d1 password='a b'";
  auto conninfo = resolve_settings(flags, {}, dir.path());
  EXPECT_EQ(value_of(conninfo, "host"), "h1");
  EXPECT_EQ(value_of(conninfo, "dbname"), "d1");
  EXPECT_EQ(value_of(conninfo, "password"), "a b");
}

TEST(ConfigUri, PrecedenceHoldsForEachParameterOfAUri) {
  TempDir dir;
  CommandLineSettings flags;
  flags.database = "postgresql://uri_user@uri_host/uri_db";
  flags.user = "flag_user";  // the same level: the parameter's own flag wins over the URI
  auto settings = resolve_settings(
      flags, {{"SQLTRACK_DSN_HOST", "env_host"}, {"SQLTRACK_DSN_PORT", "6000"}}, dir.path());
  EXPECT_EQ(value_of(settings, "user"), "flag_user");
  EXPECT_EQ(value_of(settings, "host"), "uri_host") << "a flag's URI is over the environment";
  EXPECT_EQ(value_of(settings, "port"), "6000") << "the URI names no port";
  EXPECT_EQ(value_of(settings, "dbname"), "uri_db");
}

TEST(ConfigUri, InvalidUriIsAConfigErrorWithoutThePassword) {
  TempDir dir;
  CommandLineSettings flags;
  flags.database = "postgresql://u:SECRET@[::1/db";
  std::string message = config_error(flags, {}, dir.path());
  EXPECT_EQ(message.find("SECRET"), std::string::npos) << message;
  EXPECT_NE(message.find("flag -d"), std::string::npos) << message;
  flags.database = "postgresql://u:SECRET@h:notaport/db";
  message = config_error(flags, {}, dir.path());
  EXPECT_EQ(message.find("SECRET"), std::string::npos) << message;
  EXPECT_NE(message.find("notaport"), std::string::npos) << message;
}

TEST(ConfigFile, DirectoryIsAnErrorNotTheDefaultDatabase) {
  TempDir dir;
  std::filesystem::create_directory(dir / "somedir");
  CommandLineSettings flags;
  flags.config_path = "somedir/";
  std::string message = config_error(flags, {}, dir.path());
  EXPECT_NE(message.find("'somedir/'"), std::string::npos) << message;
  EXPECT_NE(message.find("is a directory"), std::string::npos) << message;

  TempDir other;
  std::filesystem::create_directory(other / "sqltrack.conf");
  message = config_error({}, {}, other.path());
  EXPECT_NE(message.find("'./sqltrack.conf'"), std::string::npos) << message;
  EXPECT_NE(message.find("is a directory"), std::string::npos) << message;
}

TEST(ConfigFile, FileOverOneMebibyteIsRefused) {
  TempDir dir;
  std::string big;
  while (big.size() <= (std::size_t{1} << 20)) big += "# a comment line of the config file\n";
  write_file(dir / "sqltrack.conf", big);
  std::string message = config_error({}, {}, dir.path());
  EXPECT_NE(message.find("larger than 1 MiB"), std::string::npos) << message;
  EXPECT_NE(message.find("'./sqltrack.conf'"), std::string::npos) << message;
}

// Whether every byte is printable ASCII or part of valid UTF-8 above it.
bool is_printable_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7F) return false;
    if (byte < 0x80) continue;
    const std::size_t length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC2 ? 2 : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length - 1;
  }
  return true;
}

TEST(ConfigFile, BinaryContentQuotedBackIsEscaped) {
  TempDir dir;
  write_file(dir / "sqltrack.conf", "\x1b]0;owned\x07\xff\xfe\x01 binary\n");
  std::string message = config_error({}, {}, dir.path());
  EXPECT_TRUE(is_printable_utf8(message)) << message;
  EXPECT_NE(message.find("\\x1b]0;owned\\x07\\xff\\xfe\\x01 binary"), std::string::npos) << message;

  write_file(dir / "sqltrack.conf", "\xff\xfe=1\n");
  message = config_error({}, {}, dir.path());
  EXPECT_TRUE(is_printable_utf8(message)) << message;
}

TEST(ConfigSchema, SchemaBecomesSearchPathOption) {
  TempDir dir;
  CommandLineSettings flags;
  flags.schema = "team_a";
  auto parameters = resolve_settings(flags, {}, dir.path()).postgres_parameters();
  std::string options;
  for (const auto& [key, value] : parameters) {
    if (key == "options") options = value;
  }
  EXPECT_EQ(options, "-c search_path=\"team_a\"");
  flags.schema = "TeamVision";
  for (const auto& [key, value] : resolve_settings(flags, {}, dir.path()).postgres_parameters()) {
    if (key == "options") options = value;
  }
  EXPECT_EQ(options, "-c search_path=\"TeamVision\"") << "quoted as CREATE SCHEMA quotes it";
}

}  // namespace
}  // namespace sqltrack
