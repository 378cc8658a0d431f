// libFuzzer target for the metric line protocol (src/sqltrack/protocol.hpp).
//
// Every input is one line. Besides "no crash, no sanitizer report, nothing thrown", it checks
// what the protocol promises:
//   * an error has a reason and a 1-based column inside the line (or just past its end);
//   * a parsed line has a non-negative step, a finite progress that is not -0.0, and unique
//     keys other than run_id, step and progress: at most 63 bytes of valid UTF-8 without
//     control bytes; its strings are valid UTF-8 without raw control bytes other than
//     \n \r \t; its timestamps are already normalised;
//   * every key has a column name (metric_column_name): [a-z0-9_], not empty, no longer than
//     the key, its own column name, and the key itself when the key is already one;
//   * round trip: the row that MetricStream makes of it, written back with format_metric_row
//     (as the spill and reject files do, quoting keys such as "Val Loss"), parses again to
//     the same step, progress, keys as written and values;
//   * MetricBatch accepts the row (it throws on a NaN or infinite progress) and merges a copy.
// A broken promise aborts with a message, which libFuzzer records as a crash.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <unordered_set>
#include <variant>

#include "sqltrack/metrics/metric_batch.hpp"
#include "sqltrack/metrics/metric_format.hpp"
#include "sqltrack/metrics/protocol.hpp"

namespace {

using sqltrack::MetricLine;
using sqltrack::MetricParseError;
using sqltrack::MetricTimestamp;
using sqltrack::MetricValue;

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "metric_line_fuzzer: %s\n", what);
  if (!detail.empty()) {
    std::fprintf(stderr, "  detail (%zu bytes): %.*s\n", detail.size(),
                 static_cast<int>(std::min<std::size_t>(detail.size(), 2000)), detail.data());
  }
  std::abort();
}

bool same_double(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

bool same_value(const MetricValue& a, const MetricValue& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<double>(&a)) return same_double(*x, std::get<double>(b));
  return a == b;
}

// Declared here, defined below: a key is valid UTF-8 too.
bool valid_utf8(std::string_view s);

bool valid_key(std::string_view key) {
  if (key.empty() || key.size() > sqltrack::kMaxMetricKeyBytes || !valid_utf8(key)) return false;
  for (const char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) return false;
  }
  return key != "run_id" && key != "step" && key != "progress";
}

bool column_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

void check_column_name(std::string_view key, std::string_view input) {
  const std::string name = sqltrack::metric_column_name(key);
  if (name.empty() || name.size() > key.size()) {
    fail("column name empty or longer than its key", key);
  }
  if (!std::all_of(name.begin(), name.end(), column_char)) {
    fail("column name holds a byte other than [a-z0-9_]", name);
  }
  if (sqltrack::metric_column_name(name) != name) fail("column name is not its own", name);
  if (std::all_of(key.begin(), key.end(), column_char) && name != key) {
    fail("a key that is a column name maps to another", input);
  }
}

// Valid UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else
      return false;
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

void check_line(const MetricLine& line, std::string_view input) {
  if (line.step && *line.step < 0) fail("negative step", input);
  if (line.progress &&
      (!std::isfinite(*line.progress) || (*line.progress == 0.0 && std::signbit(*line.progress)))) {
    fail("progress not finite, or -0.0", input);
  }
  std::unordered_set<std::string_view> seen;
  for (const auto& [key, value] : line.values) {
    if (!valid_key(key)) fail("invalid or reserved key accepted", key);
    if (!seen.insert(key).second) fail("key given twice accepted", key);
    check_column_name(key, input);
    if (const auto* text = std::get_if<std::string>(&value)) {
      if (!valid_utf8(*text)) fail("string value is not valid UTF-8", input);
      for (const char c : *text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 && c != '\n' && c != '\r' && c != '\t')
          fail("control byte in a string", input);
      }
    } else if (const auto* ts = std::get_if<MetricTimestamp>(&value)) {
      const auto again = sqltrack::normalize_metric_timestamp(ts->iso8601);
      if (!again || *again != ts->iso8601) fail("timestamp not in normalised form", ts->iso8601);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto result = sqltrack::parse_metric_line(input);

  if (const auto* error = std::get_if<MetricParseError>(&result)) {
    if (error->reason.empty()) fail("error without a reason", input);
    if (error->reason.size() > 512) fail("error reason longer than 512 bytes", error->reason);
    if (error->column < 1 || error->column > size + 1)
      fail("error column outside the line", error->reason);
    return 0;
  }
  auto* line = std::get_if<MetricLine>(&result);
  if (line == nullptr) return 0;  // blank or comment
  check_line(*line, input);

  // Round trip through the writer of the spill and reject files.
  // Local state only, so that a crash input reproduces on its own.
  sqltrack::MetricStream stream(7, 0.5);
  sqltrack::MetricRow row = stream.to_row(*line);
  const std::string written = sqltrack::format_metric_row(row);
  auto reread = sqltrack::parse_metric_line(written, std::string::npos - 1);
  if (const auto* error = std::get_if<MetricParseError>(&reread)) {
    fail("formatted row does not parse again", written + "\n  reason: " + error->reason);
  }
  const auto* again = std::get_if<MetricLine>(&reread);
  if (again == nullptr) fail("formatted row parses as a blank line", written);
  if (again->step != row.step) fail("round trip changed step", written);
  if (!again->progress || !same_double(*again->progress, row.progress)) {
    fail("round trip changed progress", written);
  }
  if (again->values.size() != row.values.size())
    fail("round trip changed the number of values", written);
  for (std::size_t i = 0; i < row.values.size(); ++i) {
    if (again->values[i].first != row.values[i].first) fail("round trip changed a key", written);
    if (!same_value(again->values[i].second, row.values[i].second)) {
      fail("round trip changed a value", written);
    }
  }

  // The batch must take every row the parser gives, and merge a second copy into it.
  sqltrack::MetricBatch batch;
  try {
    if (batch.add(row)) fail("first row reported as merged", written);
    if (!batch.add(std::move(row)) || batch.size() != 1) fail("same key not merged", written);
  } catch (const std::exception& e) {
    fail("MetricBatch::add threw", e.what());
  }
  return 0;
}
