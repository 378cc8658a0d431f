// Settings resolution: flags > SQLTRACK_DSN_* > config file > defaults.
#include <gtest/gtest.h>

#include "sqltrack/config.hpp"
#include "sqltrack/error.hpp"
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
                 "sample_interval, journal_dir, sync_timeout");
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

TEST(ConfigSchema, SchemaBecomesSearchPathOption) {
  TempDir dir;
  CommandLineSettings flags;
  flags.schema = "team_a";
  auto parameters = resolve_settings(flags, {}, dir.path()).postgres_parameters();
  std::string options;
  for (const auto& [key, value] : parameters) {
    if (key == "options") options = value;
  }
  EXPECT_EQ(options, "-c search_path=team_a");
}

}  // namespace
}  // namespace sqltrack
