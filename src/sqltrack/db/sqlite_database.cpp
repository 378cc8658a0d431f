#include "sqltrack/db/sqlite_database.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cmath>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "sqltrack/db/error_kind.hpp"
#include "sqltrack/db/filesystem_check.hpp"
#include "sqltrack/db/sql_text.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/output_file.hpp"

namespace sqltrack::db {
namespace {

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

// A prepared statement with the SQLite parameter index of each $N.
struct PreparedStatement {
  StatementPtr statement;
  std::vector<int> indexes;  // indexes[N-1] for $N; 0 when $N is absent
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(sqlite3* handle, std::filesystem::path path, std::string description)
      : handle_(handle), path_(std::move(path)), description_(std::move(description)) {}
  ~SqliteDatabase() override {
    cache_.clear();
    sqlite3_close_v2(handle_);
  }

  Engine engine() const noexcept override { return Engine::sqlite; }
  std::string describe() const override { return description_; }

  ResultSet query(std::string_view sql, std::span<const Value> params) override {
    check_file_outside_transaction();
    PreparedStatement& prepared = prepare(sql);
    sqlite3_stmt* statement = prepared.statement.get();
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    bind_all(prepared, params);
    ResultSet set;
    int columns = sqlite3_column_count(statement);
    for (int c = 0; c < columns; ++c) set.columns.emplace_back(sqlite3_column_name(statement, c));
    while (true) {
      int rc = sqlite3_step(statement);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        sqlite3_reset(statement);
        fail(rc);
      }
      auto& row = set.rows.emplace_back();
      row.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (sqlite3_column_type(statement, c) == SQLITE_NULL) {
          row.emplace_back(std::nullopt);
        } else {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, c));
          row.emplace_back(
              std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, c))));
        }
      }
    }
    sqlite3_reset(statement);
    return set;
  }

  void stream(std::string_view sql, std::span<const Value> params,
              const ColumnsCallback& on_columns, const RowCallback& on_row) override {
    check_file_outside_transaction();
    // Not from the cache: on_row may run the same SQL again while this one steps.
    PreparedStatement prepared = prepare_new(sql, 0);
    sqlite3_stmt* statement = prepared.statement.get();
    bind_all(prepared, params);
    const int columns = sqlite3_column_count(statement);
    std::vector<std::string> names;
    for (int c = 0; c < columns; ++c) names.emplace_back(sqlite3_column_name(statement, c));
    on_columns(names);
    std::vector<Value> row;
    while (true) {
      int rc = sqlite3_step(statement);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) fail(rc);
      row.clear();
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(statement, c)) {
          case SQLITE_NULL:
            row.emplace_back(std::monostate{});
            break;
          case SQLITE_INTEGER:
            row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(statement, c)));
            break;
          case SQLITE_FLOAT:
            row.emplace_back(sqlite3_column_double(statement, c));
            break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, c));
            row.emplace_back(
                std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, c))));
          }
        }
      }
      on_row(row);
    }
  }

  void execute(std::string_view sql) override {
    check_file_outside_transaction();
    std::string text(sql);
    char* error = nullptr;
    int rc = sqlite3_exec(handle_, text.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      std::string message = error ? error : sqlite3_errstr(rc);
      sqlite3_free(error);
      throw DatabaseError(sqlite_error_kind(rc), message);
    }
  }

  void begin() override { execute("BEGIN IMMEDIATE"); }
  void commit() override { execute("COMMIT"); }
  void rollback() noexcept override {
    if (!sqlite3_get_autocommit(handle_))
      sqlite3_exec(handle_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

  bool table_exists(std::string_view table) override {
    const std::array<Value, 1> params{std::string(table)};
    auto result = query(
        "SELECT count(*) FROM sqlite_schema WHERE type IN ('table', 'view') AND name = $1", params);
    return result.scalar() != "0";
  }

  std::vector<std::string> table_columns(std::string_view table) override {
    const std::array<Value, 1> params{std::string(table)};
    auto result = query("SELECT name FROM pragma_table_info($1) ORDER BY cid", params);
    std::vector<std::string> columns;
    for (auto& row : result.rows) columns.push_back(row[0].value_or(""));
    return columns;
  }

  // The file this connection opened, to notice when it is removed or replaced under it.
  void remember_file() {
    struct stat info {};
    if (::stat(path_.c_str(), &info) == 0) file_ = FileIdentity{info.st_dev, info.st_ino};
  }

 private:
  struct FileIdentity {
    dev_t device;
    ino_t inode;
  };

  // SQLite writes on into a file that was deleted (or renamed away) while it was open, and
  // everything written is lost with the last close: once per transaction, the file at the path
  // must still be the one opened.
  void check_file_outside_transaction() {
    if (!file_ || !sqlite3_get_autocommit(handle_)) return;
    struct stat info {};
    if (::stat(path_.c_str(), &info) == 0 && info.st_dev == file_->device &&
        info.st_ino == file_->inode) {
      return;
    }
    throw DatabaseError(
        DatabaseError::Kind::access,
        "the database file " + path_.string() + " was removed or replaced while it was in use");
  }

  [[noreturn]] void fail(int rc) {
    throw DatabaseError(sqlite_error_kind(rc), std::string(sqlite3_errmsg(handle_)));
  }

  PreparedStatement& prepare(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) return it->second;
    PreparedStatement prepared = prepare_new(sql, SQLITE_PREPARE_PERSISTENT);
    // Schema changes (ALTER TABLE metrics ADD COLUMN) invalidate statements; SQLite
    // re-prepares them itself, so the cache only grows with distinct SQL texts.
    return cache_.emplace(std::string(sql), std::move(prepared)).first->second;
  }

  PreparedStatement prepare_new(std::string_view sql, unsigned int flags) {
    sqlite3_stmt* raw = nullptr;
    int rc =
        sqlite3_prepare_v3(handle_, sql.data(), static_cast<int>(sql.size()), flags, &raw, nullptr);
    if (rc != SQLITE_OK) fail(rc);
    PreparedStatement prepared{StatementPtr(raw), {}};
    int count = sqlite3_bind_parameter_count(raw);
    // $N is a named parameter in SQLite; look each one up so $2 before $1 still binds right.
    for (int n = 1; n <= count; ++n) {
      std::string name = "$" + std::to_string(n);
      prepared.indexes.push_back(sqlite3_bind_parameter_index(raw, name.c_str()));
    }
    return prepared;
  }

  void bind_all(const PreparedStatement& prepared, std::span<const Value> params) {
    if (params.size() > prepared.indexes.size()) {
      throw DatabaseError(DatabaseError::Kind::query,
                          "statement has " + std::to_string(prepared.indexes.size()) +
                              " parameters but " + std::to_string(params.size()) +
                              " values were given");
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      int index = prepared.indexes[i];
      if (index == 0) continue;
      bind(prepared.statement.get(), index, params[i]);
    }
  }

  void bind(sqlite3_stmt* statement, int index, const Value& value) {
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(value)) {
      rc = sqlite3_bind_null(statement, index);
    } else if (auto* i = std::get_if<std::int64_t>(&value)) {
      rc = sqlite3_bind_int64(statement, index, *i);
    } else if (auto* d = std::get_if<double>(&value)) {
      rc = sqlite3_bind_double(statement, index, *d);
    } else if (auto* b = std::get_if<bool>(&value)) {
      rc = sqlite3_bind_int(statement, index, *b ? 1 : 0);
    } else if (auto* s = std::get_if<std::string>(&value)) {
      rc = sqlite3_bind_text(statement, index, s->data(), static_cast<int>(s->size()),
                             SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK) fail(rc);
  }

  sqlite3* handle_;
  std::filesystem::path path_;
  std::optional<FileIdentity> file_;
  std::string description_;
  std::unordered_map<std::string, PreparedStatement> cache_;
};

[[noreturn]] void refuse_file(const std::filesystem::path& database,
                              const std::filesystem::path& file, const std::string& reason) {
  throw DatabaseError(DatabaseError::Kind::access,
                      "cannot open SQLite " + database.string() +
                          (file == database ? ": " : ": its file '" + file.string() + "': ") +
                          reason);
}

// The file a database path names: through symbolic links the user or root made (a database
// kept elsewhere on purpose), never through another user's.
std::filesystem::path through_own_links(const std::filesystem::path& path) {
  std::filesystem::path current = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat info {};
    if (::lstat(current.c_str(), &info) != 0 || !S_ISLNK(info.st_mode)) return current;
    if (info.st_uid != ::geteuid() && info.st_uid != 0) {
      refuse_file(path, current, *refusal_of(info, Owners::user));
    }
    std::error_code ec;
    std::filesystem::path target = std::filesystem::read_symlink(current, ec);
    if (ec) return current;  // SQLite says what is wrong with it
    current = target.is_absolute() ? target : current.parent_path() / target;
  }
  refuse_file(path, path, "too many levels of symbolic links");
}

// Before SQLite opens a database to write it: the files it will write are checked, and a new
// database file is created here, with its mode (SQLite gives the -wal and -shm the same).
void prepare_database_files(const SqliteOptions& options) {
  const std::filesystem::path file = through_own_links(options.path);
  struct stat info {};
  if (::lstat(file.c_str(), &info) == 0) {
    if (auto refusal = refusal_of(info, Owners::user_or_group)) {
      refuse_file(options.path, file, *refusal);
    }
  } else if (errno == ENOENT && options.mode == OpenMode::create) {
    try {
      ::close(open_output_file(file, O_RDWR, IfExists::append, options.file_mode).fd);
    } catch (const OutputFileError& e) {
      refuse_file(options.path, file, e.reason());
    }
  }
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    std::filesystem::path companion = file;
    companion += suffix;
    if (::lstat(companion.c_str(), &info) != 0) continue;
    if (auto refusal = refusal_of(info, Owners::user_or_group)) {
      refuse_file(options.path, companion, *refusal);
    }
  }
}

}  // namespace

std::unique_ptr<Database> open_sqlite(const SqliteOptions& options) {
  static std::once_flag configured;
  std::call_once(configured, [] {
    // Debian's SQLite gives every page cache a bulk allocation of 20 pages,
    // and writes a header into each slot up front: ~20 page faults per cache,
    // a third of all a short-lived wrapper takes. Allocate pages as they are
    // used instead. Only possible before SQLite initializes; a
    // failure (SQLITE_MISUSE) leaves the default, which works as well.
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0);
  });
  // Before SQLite creates anything: a refused location is left untouched.
  if (!options.allow_network_filesystem) check_sqlite_location(options.path);
  sqlite3* handle = nullptr;
  std::string path = options.path.string();
  if (options.mode != OpenMode::create && !std::filesystem::exists(options.path)) {
    throw DatabaseError(DatabaseError::Kind::access,
                        "no database at " + path + ": this command " +
                            (options.mode == OpenMode::read_only ? "only reads" : "creates none") +
                            ", `sqltrack setup` creates one");
  }
  if (options.mode != OpenMode::read_only) prepare_database_files(options);
  const int access = options.mode == OpenMode::read_only ? SQLITE_OPEN_READONLY
                     : options.mode == OpenMode::existing
                         ? SQLITE_OPEN_READWRITE
                         : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &handle, access | SQLITE_OPEN_NOMUTEX, nullptr);
  std::string description = "SQLite " + path;
  if (rc != SQLITE_OK) {
    std::string message = handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
    sqlite3_close_v2(handle);
    throw DatabaseError(DatabaseError::Kind::access, "cannot open " + description + ": " + message);
  }
  sqlite3_busy_timeout(handle, static_cast<int>(options.busy_timeout.count()));
  // The WAL and its index stay when the last connection closes: the next one need not
  // create both files again.
  int persist_wal = 1;
  sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &persist_wal);
  if (options.wal_on_close == WalOnClose::leave) {
    sqlite3_db_config(handle, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    // The next connection to open reads the whole WAL to index it: checkpointing every 100
    // pages (a wrapper writes ~13) keeps that read short.
    sqlite3_wal_autocheckpoint(handle, 100);
  }
  auto db = std::make_unique<SqliteDatabase>(handle, options.path, description);
  try {
    if (options.mode != OpenMode::read_only) {
      // WAL lets readers (status, notebooks) work while a wrapper writes.
      db->query("PRAGMA journal_mode=WAL", {});
      // A checkpoint then cuts the WAL back to this size, and closing the last connection to
      // nothing: a large ingest does not leave its WAL's size on disk.
      db->query("PRAGMA journal_size_limit=67108864", {});
    }
    db->execute("PRAGMA foreign_keys=ON");
  } catch (const DatabaseError& e) {
    // A lock, a full disk: worth trying again. A file or directory that is not ours to write
    // (the WAL cannot be created) or not a database: not.
    const bool retry = e.kind() == DatabaseError::Kind::busy ||
                       (e.kind() == DatabaseError::Kind::storage &&
                        (sqlite3_extended_errcode(handle) & 0xff) != SQLITE_CANTOPEN);
    throw DatabaseError(retry ? e.kind() : DatabaseError::Kind::access,
                        "cannot open " + description + ": " + e.what());
  }
  db->remember_file();
  return db;
}

namespace {

// Whether text holds nothing but blanks, SQL comments and semicolons.
bool only_comments(std::string_view text) {
  return skip_sql_comments(text, true).empty();
}

}  // namespace

std::string sqlite_library_version() {
  return sqlite3_libversion();
}

std::vector<std::string> split_sqlite_script(std::string_view script) {
  std::vector<std::string> statements;
  std::string current;
  for (char c : script) {
    current.push_back(c);
    if (c == ';' && sqlite3_complete(current.c_str())) {
      if (!only_comments(current)) statements.push_back(current);
      current.clear();
    }
  }
  // A last statement may lack its ';'.
  if (!only_comments(current)) statements.push_back(current);
  return statements;
}

}  // namespace sqltrack::db
