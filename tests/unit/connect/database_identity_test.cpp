// Which database a journal belongs to: what the settings name, how two identities compare, and
// that the journal's header carries one through a file and back.
#include "sqltrack/connect/database_identity.hpp"

#include <gtest/gtest.h>

#include "sqltrack/journal/journal.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

DatabaseIdentity server(std::string system_identifier, std::string dbname, std::string schema) {
  DatabaseIdentity identity;
  identity.engine = db::Engine::postgres;
  identity.host = "db.example";
  identity.port = "5432";
  identity.dbname = dbname;
  identity.system_identifier = std::move(system_identifier);
  identity.server_dbname = std::move(dbname);
  identity.server_schema = std::move(schema);
  return identity;
}

TEST(DatabaseIdentity, SettingsNameTheServerWithLibpqVariablesUnderThem) {
  CommandLineSettings flags;
  flags.host = "db.example";
  flags.schema = "team_a";
  const Environment env{{"PGPORT", "6432"}, {"PGDATABASE", "runs"}, {"PGHOST", "other"}};
  auto identity = configured_identity(resolve_settings(flags, env, "/"), env);
  EXPECT_EQ(identity.engine, db::Engine::postgres);
  EXPECT_EQ(identity.host, "db.example");
  EXPECT_EQ(identity.port, "6432");
  EXPECT_EQ(identity.dbname, "runs");
  EXPECT_EQ(identity.schema, "team_a");
  EXPECT_EQ(identity.system_identifier, "");
  CommandLineSettings host_only;
  host_only.host = "h";
  EXPECT_EQ(configured_identity(resolve_settings(host_only, {}, "/"), {}).port, "5432");
}

TEST(DatabaseIdentity, SqliteIsTheAbsolutePathOfTheFile) {
  test::TempDir dir;
  const Environment env{{"SQLTRACK_DSN_PATH", (dir / "sqltrack.db").string()}};
  auto identity = configured_identity(resolve_settings({}, env, dir.path()), env);
  EXPECT_EQ(identity.engine, db::Engine::sqlite);
  EXPECT_EQ(identity.path, (std::filesystem::canonical(dir.path()) / "sqltrack.db").string());
  EXPECT_EQ(describe_identity(identity), "SQLite " + identity.path);
}

TEST(DatabaseIdentity, SameDatabaseIsTheSameServerDatabaseAndSchema) {
  auto here = server("7301", "runs", "public");
  EXPECT_TRUE(same_database(server("7301", "runs", "public"), here));
  EXPECT_FALSE(same_database(server("7302", "runs", "public"), here)) << "another server";
  EXPECT_FALSE(same_database(server("7301", "runs2", "public"), here)) << "another database";
  EXPECT_FALSE(same_database(server("7301", "runs", "team_a"), here)) << "another schema";
  DatabaseIdentity file;
  file.path = "/home/alice/sqltrack.db";
  EXPECT_FALSE(same_database(file, here)) << "another engine";
  EXPECT_TRUE(same_database(file, file));
  DatabaseIdentity other_file = file;
  other_file.path = "/home/bob/sqltrack.db";
  EXPECT_FALSE(same_database(other_file, file));
}

TEST(DatabaseIdentity, WithoutTheServersIdentityTheSettingsMustNameTheSameServer) {
  auto here = server("7301", "runs", "public");
  here.schema = "";
  DatabaseIdentity configured = here;
  configured.system_identifier = configured.server_dbname = configured.server_schema = "";
  EXPECT_TRUE(same_database(configured, here));
  configured.port = "5433";
  EXPECT_FALSE(same_database(configured, here));
  EXPECT_EQ(describe_identity(configured),
            "PostgreSQL host=db.example port=5433 dbname=runs (as configured; the server was not "
            "reached)");
  EXPECT_EQ(describe_identity(here),
            "PostgreSQL host=db.example port=5432 dbname=runs schema=public (system identifier "
            "7301)");
}

TEST(DatabaseIdentity, TheJournalHeaderCarriesItAndEarlierHeadersHaveNone) {
  test::TempDir dir;
  JournalHeader header;
  header.client_id = "2c5e7d0e-6a43-4c1b-9a35-3d2c3f3b7e10";
  header.run_id = 12;
  header.target = server("7301", "runs", "team_a");
  { JournalWriter writer(dir / "a.journal", header); }
  auto read = read_journal(dir / "a.journal").header;
  ASSERT_TRUE(read && read->target);
  EXPECT_TRUE(same_database(*read->target, *header.target));
  EXPECT_EQ(describe_identity(*read->target), describe_identity(*header.target));

  auto earlier = journal_header_to_json(header);
  earlier.erase("target");
  test::write_file(dir / "b.journal", journal_line(earlier));
  read = read_journal(dir / "b.journal").header;
  ASSERT_TRUE(read);
  EXPECT_FALSE(read->target);
}

}  // namespace
}  // namespace sqltrack
