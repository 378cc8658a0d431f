// The one rule that says what a database error means for a writer: retried (the journal keeps
// the run meanwhile), not retried (the journal keeps it for `sqltrack sync`), or a refused row.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include "sqltrack/db/error_kind.hpp"
#include "sqltrack/util/error.hpp"

namespace sqltrack {
namespace {

using Kind = DatabaseError::Kind;

TEST(PostgresErrorKind, AnErrorWithoutSqlstateIsALostConnection) {
  // libpq's own: "server closed the connection unexpectedly", an end of file, no answer.
  EXPECT_EQ(postgres_error_kind("", true), Kind::connection);
  EXPECT_EQ(postgres_error_kind("", false), Kind::connection);
  // Whatever the server said last, a bad connection is a lost one.
  EXPECT_EQ(postgres_error_kind("42601", false), Kind::connection);
}

TEST(PostgresErrorKind, ServerGoingAwayAndLackOfResourcesAreRetried) {
  for (const char* sqlstate : {"08000", "08003", "08006", "08P01", "57P01", "57P02", "57P03",
                               "53000", "53100", "53200", "53300", "53400"}) {
    EXPECT_EQ(postgres_error_kind(sqlstate, true), Kind::connection) << sqlstate;
  }
  EXPECT_EQ(postgres_error_kind("40001", true), Kind::busy);
  EXPECT_EQ(postgres_error_kind("40P01", true), Kind::busy);
}

TEST(PostgresErrorKind, ARefusedStatementIsNotRetried) {
  EXPECT_EQ(postgres_error_kind("23505", true), Kind::constraint);
  EXPECT_EQ(postgres_error_kind("22P02", true), Kind::query);
  EXPECT_EQ(postgres_error_kind("42703", true), Kind::query);
  // 57014 (a cancelled statement) is not one of the server's comings and goings.
  EXPECT_EQ(postgres_error_kind("57014", true), Kind::query);
}

TEST(PostgresErrorKind, WhatOnlyAChangedSetupFixesIsAnAccessError) {
  EXPECT_EQ(postgres_error_kind("42501", true), Kind::access);  // permission denied for table
  EXPECT_EQ(postgres_error_kind("28000", true), Kind::access);
  EXPECT_EQ(postgres_error_kind("3D000", true), Kind::access);
}

TEST(PostgresErrorKind, ConnectionsThatRetryingCannotFixAreAccessErrors) {
  EXPECT_EQ(postgres_connect_error_kind("FATAL: password authentication failed for user \"x\""),
            Kind::access);
  EXPECT_EQ(postgres_connect_error_kind("FATAL: database \"x\" does not exist"), Kind::access);
  EXPECT_EQ(postgres_connect_error_kind("Connection refused Is the server running"),
            Kind::connection);
}

TEST(SqliteErrorKind, StorageTroubleIsRetriedAndAReadOnlyFileIsNot) {
  EXPECT_EQ(sqlite_error_kind(SQLITE_FULL), Kind::storage);
  EXPECT_EQ(sqlite_error_kind(SQLITE_IOERR_WRITE), Kind::storage);
  EXPECT_EQ(sqlite_error_kind(SQLITE_IOERR_FSYNC), Kind::storage);
  EXPECT_EQ(sqlite_error_kind(SQLITE_CANTOPEN), Kind::storage);
  EXPECT_EQ(sqlite_error_kind(SQLITE_BUSY), Kind::busy);
  EXPECT_EQ(sqlite_error_kind(SQLITE_BUSY_SNAPSHOT), Kind::busy);
  EXPECT_EQ(sqlite_error_kind(SQLITE_LOCKED), Kind::busy);
  EXPECT_EQ(sqlite_error_kind(SQLITE_READONLY), Kind::access);
  EXPECT_EQ(sqlite_error_kind(SQLITE_READONLY_DBMOVED), Kind::access);
  EXPECT_EQ(sqlite_error_kind(SQLITE_NOTADB), Kind::access);
  EXPECT_EQ(sqlite_error_kind(SQLITE_CONSTRAINT_PRIMARYKEY), Kind::constraint);
  EXPECT_EQ(sqlite_error_kind(SQLITE_MISMATCH), Kind::query);
}

TEST(DatabaseErrorKind, RetriedRefusedAndNeither) {
  for (Kind kind : {Kind::connection, Kind::busy, Kind::storage}) {
    DatabaseError e(kind, "x");
    EXPECT_TRUE(e.retryable());
    EXPECT_FALSE(e.refused());
  }
  DatabaseError access(Kind::access, "x");
  EXPECT_FALSE(access.retryable());
  EXPECT_FALSE(access.refused());
  for (Kind kind : {Kind::query, Kind::constraint}) {
    DatabaseError e(kind, "x");
    EXPECT_FALSE(e.retryable());
    EXPECT_TRUE(e.refused());
  }
}

}  // namespace
}  // namespace sqltrack
