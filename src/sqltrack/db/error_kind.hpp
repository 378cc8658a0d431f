#pragma once
// Which DatabaseError::Kind an engine's answer is: the one rule every writer path follows.

#include <string_view>

#include "sqltrack/util/error.hpp"

namespace sqltrack {

// The one rule that turns an engine's answer into a kind.
//
// A failed PostgreSQL statement: `sqlstate` as the server sent it. Every error the server
// sends has one; an error without one is libpq's own (the connection closed, reset or
// never answered), as is any error once the connection is bad.
DatabaseError::Kind postgres_error_kind(std::string_view sqlstate, bool connection_ok);
// A PostgreSQL connection that could not be made: libpq gives no SQLSTATE, only the
// server's English text (lc_messages=C is the default).
DatabaseError::Kind postgres_connect_error_kind(std::string_view message);
// A SQLite result code (primary or extended) of a statement on an open connection.
DatabaseError::Kind sqlite_error_kind(int result_code);

}  // namespace sqltrack
