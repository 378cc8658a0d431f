#pragma once
// Tables written row by row as CSV (RFC 4180) or JSON lines, for `sqltrack export`.
// Rows are buffered in blocks and written as they come, so a table of any length takes
// constant memory.

#include <cstdint>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sqltrack {

// A value that is JSON text already (an args array, a nested tag value): nested as it is in
// JSON lines, written as its text in CSV.
struct JsonText {
  std::string text;
};

// One value of a table. std::monostate is NULL.
using Cell = std::variant<std::monostate, std::int64_t, double, bool, std::string, JsonText>;

class TableWriter {
 public:
  virtual ~TableWriter() = default;
  // The column names, once, before any row.
  virtual void header(const std::vector<std::string>& columns) = 0;
  // One row, with as many cells as columns.
  virtual void row(std::span<const Cell> cells) = 0;
  // Writes what is buffered and flushes the stream; throws Error when the stream failed.
  virtual void finish() = 0;
};

// CSV after RFC 4180: a header line, CRLF line ends, fields quoted when they hold a comma, a
// double quote, CR or LF (quotes doubled inside), bytes passed through as they are (UTF-8).
// NULL is an empty field, an empty string is "". Booleans are true/false, floats in their
// shortest exact form with a ".0" when integral (NaN, inf, -inf as such).
std::unique_ptr<TableWriter> make_csv_writer(std::ostream& out);

// One JSON object per line, keys in column order: numbers as numbers, NULL as null, JsonText
// nested. NaN and infinities, which JSON cannot spell, become null; invalid UTF-8 in a string
// becomes U+FFFD.
std::unique_ptr<TableWriter> make_json_lines_writer(std::ostream& out);

// Appends one CSV field, quoted when it must be.
void append_csv_field(std::string& out, std::string_view text);
// Appends a JSON string literal: quotes, escapes, invalid UTF-8 replaced by U+FFFD.
void append_json_string(std::string& out, std::string_view text);
// A float in its shortest exact form that still reads back as a float: "0.1", "3.0", "1e+20".
std::string format_float(double value);

}  // namespace sqltrack
