#pragma once
// PostgreSQL through libpq: one connection, parameters always bound in text format.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sqltrack/db/database.hpp"

namespace sqltrack::db {

// libpq keyword/value pairs, e.g. {"host", "/tmp"}, {"dbname", "runs"}.
using ConnectionParameters = std::vector<std::pair<std::string, std::string>>;

// Connects or throws DatabaseError(Kind::connection) with a one-line message
// that names host, port, database and user but never the password.
std::unique_ptr<Database> open_postgres(const ConnectionParameters& parameters);

// A value in PostgreSQL's text input form, as bound parameters and COPY send it: NaN and
// Infinity spelled as PostgreSQL reads them, doubles in their shortest exact form. NULL
// (std::monostate) gives an empty string; callers send NULL their own way.
std::string postgres_text(const Value& value);

// Whether libpq knows `key` as a connection keyword (asks libpq, which loads it).
bool is_libpq_keyword(std::string_view key);

// The parameters of a URI (postgresql://...) or key=value connection string, parsed by libpq
// as its expand_dbname does. Throws DatabaseError(Kind::query) with libpq's reason.
ConnectionParameters parse_connection_string(const std::string& text);

// Splits a PostgreSQL script into statements, respecting quotes, dollar quotes
// and comments. Empty statements are dropped.
std::vector<std::string> split_postgres_script(std::string_view script);

}  // namespace sqltrack::db
