#pragma once
// One exception family, caught once at the top of each executable and printed
// as a single line "sqltrack: error: ...".

#include <stdexcept>
#include <string>
#include <string_view>

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
// What a kind means for a writer, on every path (metric batches, status changes, columns,
// replay):
// * connection, busy, storage: the database cannot take writes now (it went away, is
//   restarting or full of clients; a lock or a lost race; its disk is full or failing).
//   Worth retrying: what it did not take waits in the journal.
// * access: nor later, until someone changes the setup (authentication failed, no such
//   database or role, a SQLite file that is read-only, cannot be opened or was removed).
//   Not retried: what it did not take stays in the journal for `sqltrack sync`.
// * query, constraint: this statement or row is refused; the others go on.
class DatabaseError : public Error {
 public:
  enum class Kind { connection, query, constraint, busy, access, storage };
  DatabaseError(Kind kind, const std::string& message, std::string sqlstate = {})
      : Error(message), kind_(kind), sqlstate_(std::move(sqlstate)) {}
  Kind kind() const noexcept { return kind_; }
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  bool retryable() const noexcept {
    return kind_ == Kind::connection || kind_ == Kind::busy || kind_ == Kind::storage;
  }
  // The statement or its values were refused; the database itself takes other writes.
  bool refused() const noexcept { return kind_ == Kind::query || kind_ == Kind::constraint; }

 private:
  Kind kind_;
  std::string sqlstate_;
};

// Inside a catch block that caught a failure of sqltrack-run's own (anything that is not an
// expected Error: a bug, memory exhausted): says on stderr, once per process, where it
// happened and what it was, and that the command runs on while the run stops recording.
// Returns whether this was the first. Never throws.
bool report_internal_failure(std::string_view where) noexcept;

}  // namespace sqltrack
