#pragma once
// One exception family, caught once at the top of each executable and printed
// as a single line "sqltrack: error: ...".

#include <stdexcept>
#include <string>

namespace sqltrack {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad flags or arguments: the executables exit 2 with a usage hint.
class UsageError : public Error {
 public:
  using Error::Error;
};

// A setting that is unknown, malformed or unreadable; the message names its source.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Anything the database refused or could not do. sqlstate is PostgreSQL's
// five-character code (empty for SQLite and for connection failures).
//
// connection and busy are worth retrying (a server restarting, too many clients, a lock);
// access is not (authentication failed, no such database or role, a file that cannot be
// opened): trying again gives the same answer until someone changes the setup.
class DatabaseError : public Error {
 public:
  enum class Kind { connection, query, constraint, busy, access };
  DatabaseError(Kind kind, const std::string& message, std::string sqlstate = {})
      : Error(message), kind_(kind), sqlstate_(std::move(sqlstate)) {}
  Kind kind() const noexcept { return kind_; }
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  bool retryable() const noexcept { return kind_ == Kind::connection || kind_ == Kind::busy; }

 private:
  Kind kind_;
  std::string sqlstate_;
};

}  // namespace sqltrack
