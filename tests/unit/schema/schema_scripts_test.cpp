// Splitting migration scripts into statements and dropping their own transaction control.
#include <gtest/gtest.h>

#include "sqltrack/db/postgres_database.hpp"
#include "sqltrack/db/sqlite_database.hpp"
#include "sqltrack/schema/schema.hpp"
#include "sqltrack/util/error.hpp"

namespace sqltrack {
namespace {

TEST(PostgresScriptSplit, QuotesDollarQuotesAndCommentsKeepTheirSemicolons) {
  auto statements = db::split_postgres_script(
      "SELECT 'a;b', \"x;y\" FROM t; -- c;d\n"
      "/* outer /* nested; */ still; */ SELECT E'it\\'s;';\n"
      "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n"
      "SELECT $$;$$;;  ;\n"
      "PREPARE p AS SELECT $1;");
  ASSERT_EQ(statements.size(), 5u);
  EXPECT_EQ(statements[0], "SELECT 'a;b', \"x;y\" FROM t");
  EXPECT_NE(statements[1].find("SELECT E'it\\'s;'"), std::string::npos) << statements[1];
  EXPECT_NE(statements[2].find("$body$ SELECT 1; $body$"), std::string::npos) << statements[2];
  EXPECT_EQ(statements[3], "\nSELECT $$;$$");
  EXPECT_EQ(statements[4], "\nPREPARE p AS SELECT $1");
}

TEST(SqliteScriptSplit, TriggerBodyStaysWhole) {
  auto statements = db::split_sqlite_script(
      "CREATE TABLE a (x);\n"
      "CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO a VALUES (1); SELECT 2; END;\n"
      "-- trailing comment only\n");
  ASSERT_EQ(statements.size(), 2u);
  EXPECT_NE(statements[1].find("SELECT 2; END;"), std::string::npos) << statements[1];
}

TEST(MigrationStatements, DropsTheScriptsOwnTransactionControl) {
  MigrationScript script{
      "v001.sql",
      "BEGIN;\nALTER TABLE metrics ADD COLUMN a REAL;\n"
      "start transaction;\nALTER TABLE metrics ADD COLUMN b REAL;\nEND;\nCOMMIT;"};
  for (auto engine : {db::Engine::postgres, db::Engine::sqlite}) {
    auto statements = migration_statements(engine, script);
    ASSERT_EQ(statements.size(), 2u) << db::engine_name(engine);
    EXPECT_NE(statements[0].find("ADD COLUMN a"), std::string::npos);
    EXPECT_NE(statements[1].find("ADD COLUMN b"), std::string::npos);
  }
}

TEST(MigrationStatements, RollbackIsRefusedButRollbackToSavepointIsKept) {
  EXPECT_THROW(migration_statements(db::Engine::postgres, {"v.sql", "SELECT 1; ROLLBACK;"}), Error);
  EXPECT_EQ(
      migration_statements(db::Engine::postgres, {"v.sql", "SAVEPOINT s; SELECT 1; ROLLBACK TO s;"})
          .size(),
      3u);
}

TEST(MigrationChecksum, StableAndContentSensitive) {
  EXPECT_EQ(migration_checksum("abc"), migration_checksum("abc"));
  EXPECT_NE(migration_checksum("abc"), migration_checksum("abd"));
  EXPECT_EQ(migration_checksum(""), "fnv1a64:cbf29ce484222325");
}

TEST(QuoteIdentifier, DoublesEmbeddedQuotes) {
  EXPECT_EQ(db::quote_identifier("train_loss"), "\"train_loss\"");
  EXPECT_EQ(db::quote_identifier("a\"b; DROP"), "\"a\"\"b; DROP\"");
}

}  // namespace
}  // namespace sqltrack
