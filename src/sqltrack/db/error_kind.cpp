#include "sqltrack/db/error_kind.hpp"

#include <sqlite3.h>

namespace sqltrack {

DatabaseError::Kind postgres_error_kind(std::string_view sqlstate, bool connection_ok) {
  using Kind = DatabaseError::Kind;
  // No SQLSTATE: "server closed the connection unexpectedly", "no connection to the server",
  // an end of file: the server did not answer, which retrying may change.
  if (!connection_ok || sqlstate.empty()) return Kind::connection;
  if (sqlstate.starts_with("23")) return Kind::constraint;
  // Connection exceptions (08), the server shutting down, crashing or starting (57P01-57P03),
  // too many clients, a full disk and other lack of resources (53).
  if (sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03" || sqlstate.starts_with("53")) {
    return Kind::connection;
  }
  // Not allowed (a role without the right to write, one that may not log in, a database that
  // is gone): the same answer until someone changes the setup.
  if (sqlstate == "42501" || sqlstate.starts_with("28") || sqlstate == "3D000") {
    return Kind::access;
  }
  // Lost races: a serialization failure, a deadlock.
  if (sqlstate == "40001" || sqlstate == "40P01") return Kind::busy;
  return Kind::query;
}

DatabaseError::Kind postgres_connect_error_kind(std::string_view message) {
  for (std::string_view permanent :
       {"authentication failed", "no password supplied", "no pg_hba.conf entry", "does not exist",
        "permission denied", "password is required", "is not permitted to log in"}) {
    if (message.find(permanent) != std::string_view::npos) return DatabaseError::Kind::access;
  }
  return DatabaseError::Kind::connection;
}

DatabaseError::Kind sqlite_error_kind(int result_code) {
  using Kind = DatabaseError::Kind;
  switch (result_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Kind::busy;
    case SQLITE_CONSTRAINT:
      return Kind::constraint;
    // The disk is full or failing, or a file SQLite needs (the WAL, a temporary file) cannot
    // be opened now: room may be made while the run goes on.
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return Kind::storage;
    // A read-only file, a file that is not (or no longer) a database: trying again gives
    // the same answer until someone changes the file.
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Kind::access;
    default:
      return Kind::query;
  }
}

}  // namespace sqltrack
