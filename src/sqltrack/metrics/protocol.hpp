#pragma once
// The metric line protocol: one line of text from a training script becomes the
// key (step, progress) and named values of one metrics row. Pure and
// allocation-light, so that it can run at ingest speed and be fuzzed.
//
// Grammar (the README documents it for users):
//
//   line      = blank | comment | pairs | json-object
//   blank     = only spaces and tabs
//   comment   = optional blanks, then '#', then anything
//   pairs     = pair { blanks pair }, with optional leading and trailing blanks
//   pair      = key '=' value            (no blanks around '=')
//   key       = bare-key | quoted-string, at most 63 bytes, kept as written
//   bare-key  = one or more printable characters other than blanks, '=' and '"' (UTF-8 too)
//   value     = integer | float | bool | timestamp | quoted-string
//
// * key: any text without control characters, as people write metric names (val/loss,
//   val.loss, "Val Loss", valLoss). The writer maps it to a column (metric_column_name); the
//   parser keeps it as written, for messages and the reject file.
// * integer: [-]digits within int64 ("42", "-7"); more digits is an error.
// * float: what std::from_chars accepts without a leading '+': "0.5", ".5",
//   "1e-3", "-2.5E+4"; also nan, inf, infinity with an optional '-', in any case.
//   A finite literal beyond the range of a double is an error.
// * bool: true or false, in any case (Python's str() writes True).
// * timestamp: unquoted YYYY-MM-DDTHH:MM:SS[.f{1,9}][Z|+HH:MM|-HH:MM|+HHMM|+HH],
//   't' and 'z' in either case. A date alone, a space instead of 'T', or an
//   out-of-range field is an error (quote it to store it as text). Kept as text,
//   normalised to YYYY-MM-DDTHH:MM:SS[.f][Z|+HH:MM], which both PostgreSQL and
//   SQLite read; without an offset it is a local time.
// * quoted-string: "..." with the escapes \" \\ \n \r \t and no others; valid
//   UTF-8; no raw control bytes other than tab. A quoted timestamp stays text.
//   JSON strings may hold no control characters other than \n, \r and \t.
//
// `step` must be a non-negative integer and `progress` a finite number (an
// integer is taken as a double); they form the row's primary key, so NaN and
// infinities are refused and -0.0 becomes 0.0. Only these exact spellings are the key
// (`Step` is an ordinary key, which the writer refuses alone). `run_id` is refused: the
// wrapper sets it. A key given twice in one line is an error rather than "last wins",
// because it is nearly always a typo in the writer and silently dropping a value
// would lose data.
//
// A line whose first non-blank byte is '{' is a JSON object with the same
// meaning: numbers are integers or floats, true/false are bools, null values are
// skipped, nested objects and arrays are errors. JSON has no timestamp type, so
// a JSON string that is exactly a timestamp as above becomes a timestamp; any
// other string stays a string.
//
// One trailing "\n", then one trailing "\r", and a leading UTF-8 byte order mark
// are stripped. Lines longer than kMaxMetricLineBytes (after stripping) are errors.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sqltrack {

inline constexpr std::size_t kMaxMetricLineBytes = 64 * 1024;
// PostgreSQL's identifier limit (NAMEDATALEN - 1).
inline constexpr std::size_t kMaxMetricKeyBytes = 63;

// An ISO 8601 timestamp, kept as normalised text so that both databases parse it.
struct MetricTimestamp {
  std::string iso8601;
  auto operator<=>(const MetricTimestamp&) const = default;
};

using MetricValue = std::variant<std::int64_t, double, bool, std::string, MetricTimestamp>;

// Metric columns in the order the line gave them; names are unique.
using MetricValues = std::vector<std::pair<std::string, MetricValue>>;

struct MetricLine {
  std::optional<std::int64_t> step;
  std::optional<double> progress;
  MetricValues values;
};

// A blank or comment line: not an error, and nothing to record.
struct IgnoredMetricLine {};

struct MetricParseError {
  std::string reason;      // names the key and quotes the offending text
  std::size_t column = 0;  // 1-based byte offset into the line as given
};

using MetricParseResult = std::variant<MetricLine, IgnoredMetricLine, MetricParseError>;

// Parses one line (with or without its "\n"). Bad input is reported as a
// MetricParseError, never thrown; only std::bad_alloc can escape.
MetricParseResult parse_metric_line(std::string_view line);
// The same with another length limit: rows the wrapper wrote back itself (spill file) may
// have grown past kMaxMetricLineBytes by the step and progress it adds.
MetricParseResult parse_metric_line(std::string_view line, std::size_t max_bytes);

// The normalised form of an unquoted timestamp as described above, or nullopt
// when text is not one.
std::optional<std::string> normalize_metric_timestamp(std::string_view text);

// The column name of a key, by the one rule the README documents: ASCII letters in lower
// case, digits and '_' kept, every run of other bytes (punctuation, blanks, UTF-8) one '_'.
// "val/loss", "val.loss", "Val Loss" -> val_loss; "valLoss" -> valloss. A name of only
// [a-z0-9_] is its own column name.
std::string metric_column_name(std::string_view key);

// Whether a key is written in double quotes when a row is written back as a line: it has a
// blank, '=', '"', a control character or a byte outside ASCII, or is empty.
bool metric_key_needs_quotes(std::string_view key);

}  // namespace sqltrack
