#pragma once
// The one small interface both engines implement. SQL uses $1, $2, ...
// placeholders on both engines; values are always bound, never pasted.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace sqltrack::db {

enum class Engine { postgres, sqlite };

// How a command opens its database. A writer may create a SQLite file; `sqltrack sync` writes
// only into one that exists; the read commands only read (SQLite: SQLITE_OPEN_READONLY, so
// they can neither create nor change the file).
enum class OpenMode { create, existing, read_only };

std::string_view engine_name(Engine engine) noexcept;

// A bound parameter. std::monostate is SQL NULL.
using Value = std::variant<std::monostate, std::int64_t, double, bool, std::string>;

// Query results as text: PostgreSQL's text format, SQLite's text conversion.
// std::nullopt is SQL NULL.
struct ResultSet {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;

  bool empty() const noexcept { return rows.empty(); }
  std::size_t size() const noexcept { return rows.size(); }
  // Index of a column by name; throws sqltrack::Error when missing.
  std::size_t column(std::string_view name) const;
  // The single value of a one-row, one-column result (NULL as nullopt).
  std::optional<std::string> scalar() const;
};

class Database {
 public:
  virtual ~Database() = default;
  Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  virtual Engine engine() const noexcept = 0;

  // One statement with bound parameters.
  virtual ResultSet query(std::string_view sql, std::span<const Value> params = {}) = 0;
  // One statement without parameters and without a result (DDL, user scripts).
  virtual void execute(std::string_view sql) = 0;

  // BEGIN; on SQLite an immediate transaction, so writers queue on the
  // busy timeout instead of failing at their first write.
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;

  // Whether a table exists where unqualified names resolve (search_path on PostgreSQL).
  virtual bool table_exists(std::string_view table) = 0;
  // Column names of a table, in order.
  virtual std::vector<std::string> table_columns(std::string_view table) = 0;

  // A short description for messages: engine, host/port/dbname or file. Never a password.
  virtual std::string describe() const = 0;

  // Bulk load with COPY ... FROM STDIN (PostgreSQL only): `copy_sql` is the whole COPY
  // statement, `data` the rows in COPY's text format. Engines without COPY say no with
  // supports_copy() and throw here.
  virtual bool supports_copy() const noexcept { return false; }
  virtual void copy_from(std::string_view copy_sql, std::string_view data);

  // Runs one query and hands its rows to `on_row` one at a time, so a result of any size
  // takes constant memory: PostgreSQL fetches from a cursor in batches (in the caller's
  // transaction, else in one of its own), SQLite steps the statement. `on_columns` gets the
  // column names once, before any row. Values are typed: integers, floats (NaN and infinities
  // included) and, on PostgreSQL, booleans as such; everything else as its text. A row is valid
  // only during the call; `on_row` may run other queries on the same Database.
  using ColumnsCallback = std::function<void(const std::vector<std::string>& columns)>;
  using RowCallback = std::function<void(std::span<const Value> row)>;
  virtual void stream(std::string_view sql, std::span<const Value> params,
                      const ColumnsCallback& on_columns, const RowCallback& on_row) = 0;
};

// An optional value as a bound parameter: NULL when empty, integers as 64-bit.
template <class T>
Value optional_value(const std::optional<T>& value) {
  if (!value) return std::monostate{};
  if constexpr (std::is_integral_v<T>) {
    return static_cast<std::int64_t>(*value);
  } else {
    return *value;
  }
}

// "name" with embedded quotes doubled: safe for any identifier on both engines.
std::string quote_identifier(std::string_view name);

// Commits at commit(), rolls back when destroyed before that.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) { db_.begin(); }
  ~Transaction() {
    if (!done_) db_.rollback();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    db_.commit();
    done_ = true;
  }

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace sqltrack::db
