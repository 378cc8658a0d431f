#include "sqltrack/db/postgres_database.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "sqltrack/db/error_kind.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack::db {
namespace {

// libpq messages end with newlines and may span several lines, indented; ours are one line.
std::string libpq_message_line(std::string_view message) {
  std::string text = one_line(message);
  std::string squeezed;
  squeezed.reserve(text.size());
  for (char c : text) {
    if (c == ' ' && !squeezed.empty() && squeezed.back() == ' ') continue;
    squeezed.push_back(c);
  }
  return squeezed;
}

struct ResultDeleter {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(PGconn* connection, std::string description)
      : connection_(connection), description_(std::move(description)) {
    // Server notices ("relation already exists, skipping") are not the user's business.
    PQsetNoticeProcessor(
        connection_, [](void*, const char*) {}, nullptr);
  }
  ~PostgresDatabase() override { PQfinish(connection_); }

  Engine engine() const noexcept override { return Engine::postgres; }
  std::string describe() const override { return description_; }

  ResultSet query(std::string_view sql, std::span<const Value> params) override {
    std::string statement(sql);
    std::vector<std::string> texts;
    texts.reserve(params.size());
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Value& param : params) {
      if (std::holds_alternative<std::monostate>(param)) {
        texts.emplace_back();
        values.push_back(nullptr);
        continue;
      }
      texts.push_back(postgres_text(param));
      if (texts.back().find('\0') != std::string::npos) {
        throw DatabaseError(DatabaseError::Kind::query,
                            "a value contains a NUL byte, which PostgreSQL text cannot hold");
      }
      values.push_back(nullptr);  // filled below: texts may still reallocate
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (!std::holds_alternative<std::monostate>(params[i])) values[i] = texts[i].c_str();
    }
    ResultPtr result(PQexecParams(connection_, statement.c_str(), static_cast<int>(params.size()),
                                  nullptr, values.data(), nullptr, nullptr, 0));
    check(result.get());
    return to_result_set(result.get());
  }

  void execute(std::string_view sql) override {
    std::string statement(sql);
    ResultPtr result(PQexec(connection_, statement.c_str()));
    check(result.get());
  }

  bool supports_copy() const noexcept override { return true; }

  void copy_from(std::string_view copy_sql, std::string_view data) override {
    std::string statement(copy_sql);
    ResultPtr start(PQexec(connection_, statement.c_str()));
    if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) {
      check(start.get());
      throw DatabaseError(DatabaseError::Kind::query, "COPY did not start: " + statement);
    }
    // One call per MiB keeps libpq's buffer small; the server sees one stream either way.
    constexpr std::size_t kChunk = 1 << 20;
    bool sent = true;
    for (std::size_t offset = 0; offset < data.size() && sent; offset += kChunk) {
      std::string_view chunk = data.substr(offset, kChunk);
      sent = PQputCopyData(connection_, chunk.data(), static_cast<int>(chunk.size())) == 1;
    }
    PQputCopyEnd(connection_, sent ? nullptr : "sending the rows failed");
    // The COPY's own result, then the end of the command.
    bool failed = false;
    for (PGresult* raw; (raw = PQgetResult(connection_)) != nullptr;) {
      ResultPtr result(raw);
      if (!failed && PQresultStatus(raw) != PGRES_COMMAND_OK) {
        failed = true;
        try {
          check(raw);
        } catch (...) {
          while ((raw = PQgetResult(connection_)) != nullptr) PQclear(raw);
          throw;
        }
      }
    }
  }

  void stream(std::string_view sql, std::span<const Value> params,
              const ColumnsCallback& on_columns, const RowCallback& on_row) override {
    // A cursor lives in a transaction: the caller's, or one of our own.
    const bool own_transaction = PQtransactionStatus(connection_) == PQTRANS_IDLE;
    const std::string cursor = "sqltrack_stream_" + std::to_string(++cursors_);
    if (own_transaction) begin();
    try {
      query("DECLARE " + cursor + " NO SCROLL CURSOR FOR " + std::string(sql), params);
      const std::string fetch = "FETCH FORWARD " + std::to_string(kFetchRows) + " FROM " + cursor;
      std::vector<Oid> types;
      std::vector<Value> row;
      for (bool first = true;; first = false) {
        ResultPtr result(PQexec(connection_, fetch.c_str()));
        check(result.get());
        const int columns = PQnfields(result.get());
        if (first) {
          std::vector<std::string> names;
          for (int c = 0; c < columns; ++c) {
            names.emplace_back(PQfname(result.get(), c));
            types.push_back(PQftype(result.get(), c));
          }
          on_columns(names);
        }
        const int rows = PQntuples(result.get());
        for (int r = 0; r < rows; ++r) {
          row.clear();
          for (int c = 0; c < columns; ++c) {
            if (PQgetisnull(result.get(), r, c)) {
              row.emplace_back(std::monostate{});
              continue;
            }
            std::string_view text(PQgetvalue(result.get(), r, c),
                                  static_cast<std::size_t>(PQgetlength(result.get(), r, c)));
            row.push_back(typed_value(types[static_cast<std::size_t>(c)], text));
          }
          on_row(row);
        }
        if (rows < kFetchRows) break;
      }
      execute("CLOSE " + cursor);
      if (own_transaction) commit();
    } catch (...) {
      if (own_transaction) {
        rollback();
      } else if (PQtransactionStatus(connection_) == PQTRANS_INTRANS) {
        ResultPtr closed(PQexec(connection_, ("CLOSE " + cursor).c_str()));
      }
      throw;
    }
  }

  void begin() override { execute("BEGIN"); }
  void commit() override { execute("COMMIT"); }
  void rollback() noexcept override {
    if (PQstatus(connection_) != CONNECTION_OK) return;
    ResultPtr result(PQexec(connection_, "ROLLBACK"));
  }

  bool table_exists(std::string_view table) override {
    const std::array<Value, 1> params{quote_identifier(table)};
    auto result = query("SELECT to_regclass($1) IS NOT NULL", params);
    return result.scalar() == "t";
  }

  std::vector<std::string> table_columns(std::string_view table) override {
    const std::array<Value, 1> params{quote_identifier(table)};
    auto result = query(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        params);
    std::vector<std::string> columns;
    for (auto& row : result.rows) columns.push_back(row[0].value_or(""));
    return columns;
  }

 private:
  void check(PGresult* result) {
    ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
      return;
    }
    std::string sqlstate;
    if (const char* code = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr) {
      sqlstate = code;
    }
    const bool connection_ok = PQstatus(connection_) == CONNECTION_OK;
    if (!connection_ok || sqlstate.empty()) {
      // libpq's own error: the server closed the connection or never answered. On a Unix
      // socket libpq may report that before it marks the connection bad.
      throw DatabaseError(postgres_error_kind(sqlstate, connection_ok),
                          "lost the connection to " + description_ + ": " +
                              libpq_message_line(result && *PQresultErrorMessage(result)
                                                     ? PQresultErrorMessage(result)
                                                     : PQerrorMessage(connection_)),
                          sqlstate);
    }
    std::string message = libpq_message_line(PQresultErrorMessage(result));
    auto kind = postgres_error_kind(sqlstate, connection_ok);
    throw DatabaseError(kind, message, sqlstate);
  }

  static ResultSet to_result_set(PGresult* result) {
    ResultSet set;
    int columns = PQnfields(result);
    int rows = PQntuples(result);
    set.columns.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) set.columns.emplace_back(PQfname(result, c));
    set.rows.reserve(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      auto& row = set.rows.emplace_back();
      row.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(result, r, c)) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(std::string(PQgetvalue(result, r, c),
                                       static_cast<std::size_t>(PQgetlength(result, r, c))));
        }
      }
    }
    return set;
  }

  // A value of a streamed row, typed by its column's type OID (pg_type.h's numbers).
  static Value typed_value(Oid type, std::string_view text) {
    switch (type) {
      case 16:  // bool
        return text == "t";
      case 20:  // int8
      case 21:  // int2
      case 23:  // int4
      case 26:  // oid
      {
        std::int64_t number = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (ec == std::errc() && end == text.data() + text.size()) return number;
        return std::string(text);
      }
      case 700:   // float4
      case 701:   // float8
      case 1700:  // numeric
      {
        if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
        if (text == "Infinity") return std::numeric_limits<double>::infinity();
        if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
        double number = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (ec == std::errc() && end == text.data() + text.size()) return number;
        return std::string(text);
      }
      default:
        return std::string(text);
    }
  }

  static constexpr int kFetchRows = 2000;

  PGconn* connection_;
  std::string description_;
  int cursors_ = 0;
};

std::string describe_parameters(const ConnectionParameters& parameters, PGconn* connection) {
  auto get = [&](std::string_view key) -> std::string {
    for (const auto& [k, v] : parameters) {
      if (k == key) return v;
    }
    return {};
  };
  std::string host = connection && PQhost(connection) ? PQhost(connection) : get("host");
  std::string port = connection && PQport(connection) ? PQport(connection) : get("port");
  std::string db = connection && PQdb(connection) ? PQdb(connection) : get("dbname");
  std::string user = connection && PQuser(connection) ? PQuser(connection) : get("user");
  std::string text = "PostgreSQL";
  if (!host.empty()) text += " host=" + host;
  if (!port.empty()) text += " port=" + port;
  if (!db.empty()) text += " dbname=" + db;
  if (!user.empty()) text += " user=" + user;
  return text;
}

}  // namespace

std::string postgres_text(const Value& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return {}; }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(double v) const {
      if (std::isnan(v)) return "NaN";
      if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
      std::array<char, 32> buffer{};
      auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v);
      return std::string(buffer.data(), end);
    }
  };
  return std::visit(Visitor{}, value);
}

std::unique_ptr<Database> open_postgres(const ConnectionParameters& parameters) {
  std::vector<const char*> keywords, values;
  for (const auto& [key, value] : parameters) {
    keywords.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* connection = PQconnectdbParams(keywords.data(), values.data(), 0);
  if (connection == nullptr) {
    throw DatabaseError(DatabaseError::Kind::connection, "cannot allocate a PostgreSQL connection");
  }
  std::string description = describe_parameters(parameters, connection);
  if (PQstatus(connection) != CONNECTION_OK) {
    std::string message = libpq_message_line(PQerrorMessage(connection));
    PQfinish(connection);
    throw DatabaseError(postgres_connect_error_kind(message),
                        "cannot connect to " + description + ": " + message);
  }
  return std::make_unique<PostgresDatabase>(connection, std::move(description));
}

namespace {

// Block comments nest in PostgreSQL.
std::size_t end_of_block_comment(std::string_view script, std::size_t i) {
  std::size_t depth = 0;
  do {
    if (script.compare(i, 2, "/*") == 0) {
      ++depth;
      i += 2;
    } else if (script.compare(i, 2, "*/") == 0) {
      --depth;
      i += 2;
    } else {
      ++i;
    }
  } while (depth > 0 && i < script.size());
  return i;
}

// A doubled quote inside is an escaped quote; E'' strings also escape with backslash.
std::size_t end_of_quoted(std::string_view script, std::size_t i) {
  const char quote = script[i];
  const bool backslash_escapes =
      quote == '\'' && i > 0 && (script[i - 1] == 'E' || script[i - 1] == 'e');
  std::size_t j = i + 1;
  while (j < script.size()) {
    if (backslash_escapes && script[j] == '\\') {
      j += 2;
    } else if (script[j] == quote && j + 1 < script.size() && script[j + 1] == quote) {
      j += 2;
    } else if (script[j] == quote) {
      break;
    } else {
      ++j;
    }
  }
  return std::min(j + 1, script.size());
}

// $tag$ ... $tag$ (tag may be empty); a plain $1 parameter is not a quote: then i itself.
std::size_t end_of_dollar_quote(std::string_view script, std::size_t i) {
  const std::size_t n = script.size();
  std::size_t j = i + 1;
  while (j < n && (std::isalnum(static_cast<unsigned char>(script[j])) || script[j] == '_')) ++j;
  bool is_tag = j < n && script[j] == '$' &&
                (j == i + 1 || !std::isdigit(static_cast<unsigned char>(script[i + 1])));
  if (!is_tag) return i;
  std::string_view tag = script.substr(i, j - i + 1);
  auto close = script.find(tag, j + 1);
  return close == std::string_view::npos ? n : close + tag.size();
}

// Where a comment or a quoted text that starts at i ends (a ';' inside does not end a
// statement); i when none starts there.
std::size_t end_of_unsplittable(std::string_view script, std::size_t i) {
  if (script.compare(i, 2, "--") == 0) {
    auto end = script.find('\n', i);
    return end == std::string_view::npos ? script.size() : end + 1;
  }
  if (script.compare(i, 2, "/*") == 0) return end_of_block_comment(script, i);
  if (script[i] == '\'' || script[i] == '"') return end_of_quoted(script, i);
  if (script[i] == '$') return end_of_dollar_quote(script, i);
  return i;
}

}  // namespace

std::vector<std::string> split_postgres_script(std::string_view script) {
  std::vector<std::string> statements;
  std::string current;
  auto flush = [&] {
    auto first = current.find_first_not_of(" \t\r\n");
    if (first != std::string::npos) statements.push_back(current);
    current.clear();
  };
  std::size_t i = 0;
  while (i < script.size()) {
    std::size_t end = end_of_unsplittable(script, i);
    if (end > i) {
      current.append(script.substr(i, end - i));
      i = end;
    } else if (script[i] == ';') {
      flush();
      ++i;
    } else {
      current.push_back(script[i++]);
    }
  }
  flush();
  return statements;
}

bool is_libpq_keyword(std::string_view key) {
  static const std::set<std::string, std::less<>> keywords = [] {
    std::set<std::string, std::less<>> set;
    PQconninfoOption* options = PQconndefaults();
    for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o) {
      set.insert(o->keyword);
    }
    PQconninfoFree(options);
    return set;
  }();
  return keywords.contains(key);
}

ConnectionParameters parse_connection_string(const std::string& text) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &error);
  if (options == nullptr) {
    std::string reason = error != nullptr ? error : "out of memory";
    if (error != nullptr) PQfreemem(error);
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
    throw DatabaseError(DatabaseError::Kind::query, reason);
  }
  ConnectionParameters parameters;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) parameters.emplace_back(o->keyword, o->val);
  }
  PQconninfoFree(options);
  return parameters;
}

}  // namespace sqltrack::db
