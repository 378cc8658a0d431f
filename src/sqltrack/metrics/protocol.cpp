#include "sqltrack/metrics/protocol.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <forward_list>
#include <limits>
#include <system_error>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace sqltrack {
namespace {

// Offending text in a reason is cut here, so that one bad line cannot make a huge log entry.
constexpr std::size_t kExcerptBytes = 40;
// A JSON parser message quotes the input read so far; cut it too.
constexpr std::size_t kJsonReasonBytes = 160;
// Repeated keys are found by a linear scan up to this many keys per line, then with a hash set,
// so that a line of thousands of keys is not quadratic.
constexpr std::size_t kInlineKeys = 16;

constexpr std::string_view kReservedKey = "run_id";
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
constexpr char kQuoteHint[] = " (put text in double quotes)";

// Byte classes for the scanning loops: one table load instead of a chain of comparisons.
// kBareKey: printable ASCII that a key may hold without quotes; kColumn: what a column name
// keeps (metric_column_name).
enum ByteClass : unsigned char { kColumn = 1, kDigit = 2, kBlank = 4, kBareKey = 8 };
constexpr std::array<unsigned char, 256> kByteClasses = [] {
  std::array<unsigned char, 256> classes{};
  for (int c = '!'; c <= '~'; ++c) classes[static_cast<std::size_t>(c)] = kBareKey;
  classes['='] = 0;
  classes['"'] = 0;
  for (int c = 'a'; c <= 'z'; ++c) classes[static_cast<std::size_t>(c)] |= kColumn;
  for (int c = '0'; c <= '9'; ++c) classes[static_cast<std::size_t>(c)] |= kColumn | kDigit;
  classes['_'] |= kColumn;
  classes[' '] = kBlank;
  classes['\t'] = kBlank;
  return classes;
}();

bool has_class(char c, unsigned classes) {
  return (kByteClasses[static_cast<unsigned char>(c)] & classes) != 0;
}
bool is_blank(char c) {
  return has_class(c, kBlank);
}
bool is_digit(char c) {
  return has_class(c, kDigit);
}
bool is_bare_key_char(char c) {
  return has_class(c, kBareKey);
}
bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7F;
}

char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (to_lower(text[i]) != lower[i]) return false;
  }
  return true;
}

// "FF" for the byte 0xFF.
std::string hex_digits(unsigned char byte) {
  constexpr std::string_view kDigits = "0123456789ABCDEF";
  return {kDigits[byte >> 4], kDigits[byte & 0xF]};
}

std::string hex_byte(unsigned char byte) {
  return "0x" + hex_digits(byte);
}

// Text quoted in a reason: cut to a limit, and bytes that could garble a terminal or a log
// written as \xNN.
std::string excerpt(std::string_view text, std::size_t limit = kExcerptBytes) {
  const bool cut = text.size() > limit;
  text = text.substr(0, limit);
  std::string out;
  out.reserve(text.size() + 3);
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F) {
      out += c;
    } else {
      out += "\\x" + hex_digits(byte);
    }
  }
  if (cut) out += "...";
  return out;
}

std::string quoted_key(std::string_view key) {
  return "'" + excerpt(key) + "'";
}

// Length of the well-formed UTF-8 sequence that text starts with (Unicode table 3-7: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0 when there is none.
std::size_t utf8_sequence_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char second_low = 0x80;
  unsigned char second_high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead == 0xE0) {
    length = 3;
    second_low = 0xA0;
  } else if (lead == 0xED) {
    length = 3;
    second_high = 0x9F;
  } else if (lead >= 0xE1 && lead <= 0xEF) {
    length = 3;
  } else if (lead == 0xF0) {
    length = 4;
    second_low = 0x90;
  } else if (lead == 0xF4) {
    length = 4;
    second_high = 0x8F;
  } else if (lead >= 0xF1 && lead <= 0xF3) {
    length = 4;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < second_low || byte(1) > second_high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

// The number written by two ASCII digits at text[at], or -1.
int two_digits(std::string_view text, std::size_t at) {
  if (at + 2 > text.size() || !is_digit(text[at]) || !is_digit(text[at + 1])) return -1;
  return (text[at] - '0') * 10 + (text[at + 1] - '0');
}

bool is_leap_year(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

// find() is memchr, which is vectorised; a byte-by-byte loop costs more on typical lines.
std::size_t count_byte(std::string_view text, char byte) {
  std::size_t count = 0;
  for (std::size_t at = text.find(byte); at != std::string_view::npos;
       at = text.find(byte, at + 1)) {
    ++count;
  }
  return count;
}

// "4 digits then '-'" is never a number, so such a value is judged as a timestamp and its
// error can say what a timestamp looks like.
bool looks_like_timestamp(std::string_view text) {
  return text.size() >= 5 && is_digit(text[0]) && is_digit(text[1]) && is_digit(text[2]) &&
         is_digit(text[3]) && text[4] == '-';
}

std::string describe(const MetricValue& value) {
  struct Describer {
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const {
      std::array<char, 32> buffer{};
      const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v);
      return {buffer.data(), result.ptr};
    }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return "\"" + excerpt(v) + "\""; }
    std::string operator()(const MetricTimestamp& v) const { return v.iso8601; }
  };
  return std::visit(Describer{}, value);
}

// Builds one MetricLine from keys and values, applying the rules that the key=value and the
// JSON syntax share: key grammar, reserved and repeated keys, the types of step and progress.
class MetricLineBuilder {
 public:
  MetricLine line;
  MetricParseError error;

  // Checks and records a key; the text it views must outlive the builder. Bare keys were
  // checked while scanning, quoted and JSON keys are valid UTF-8 when they come here.
  bool add_key(std::string_view key, std::size_t column) {
    if (key.empty()) return fail("a key must not be empty", column);
    if (const auto control = std::find_if(key.begin(), key.end(), is_control);
        control != key.end()) {
      return fail("key " + quoted_key(key) + " contains the control byte " +
                      hex_byte(static_cast<unsigned char>(*control)),
                  column);
    }
    if (key.size() > kMaxMetricKeyBytes) {
      return fail("key " + quoted_key(key) + " is longer than " +
                      std::to_string(kMaxMetricKeyBytes) + " bytes",
                  column);
    }
    if (key == kReservedKey) {
      return fail("key 'run_id' is reserved: sqltrack-run sets it", column);
    }
    if (!remember_key(key)) {
      return fail("key " + quoted_key(key) + " is given more than once", column);
    }
    return true;
  }

  // Stores the value of a key that add_key accepted. raw_text is the value as written, for
  // error messages; when empty the value is described instead.
  bool add_value(std::string_view key, MetricValue&& value, std::size_t column,
                 std::string_view raw_text = {}) {
    if (key == "step") {
      const auto* step = std::get_if<std::int64_t>(&value);
      if (step == nullptr) {
        return fail("step must be a non-negative integer, got: " + shown(value, raw_text), column);
      }
      if (*step < 0) {
        return fail("step must not be negative, got: " + std::to_string(*step), column);
      }
      line.step = *step;
      return true;
    }
    if (key == "progress") {
      double progress = 0.0;
      if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        progress = static_cast<double>(*integer);
      } else if (const auto* real = std::get_if<double>(&value)) {
        progress = *real;
      } else {
        return fail("progress must be a number, got: " + shown(value, raw_text), column);
      }
      // Part of the primary key: NaN never equals itself and the databases disagree on
      // infinities, and -0.0 would be a second spelling of the key 0.0.
      if (!std::isfinite(progress)) {
        return fail("progress must be a finite number, got: " + shown(value, raw_text), column);
      }
      line.progress = progress == 0.0 ? 0.0 : progress;
      return true;
    }
    line.values.emplace_back(std::string(key), std::move(value));
    return true;
  }

  bool fail(std::string reason, std::size_t column) {
    error.reason = std::move(reason);
    error.column = column;
    return false;
  }

 private:
  static std::string shown(const MetricValue& value, std::string_view raw_text) {
    return raw_text.empty() ? describe(value) : excerpt(raw_text);
  }

  // False when the key was seen before in this line.
  bool remember_key(std::string_view key) {
    if (key_count_ < kInlineKeys) {
      const auto seen = first_keys_.begin() + static_cast<std::ptrdiff_t>(key_count_);
      if (std::find(first_keys_.begin(), seen, key) != seen) return false;
      first_keys_[key_count_++] = key;
      return true;
    }
    if (more_keys_.empty()) more_keys_.insert(first_keys_.begin(), first_keys_.end());
    return more_keys_.insert(key).second;
  }

  std::array<std::string_view, kInlineKeys> first_keys_{};
  std::size_t key_count_ = 0;
  std::unordered_set<std::string_view> more_keys_;
};

// The key=value syntax. Columns are positions in the whole line, plus one.
class PairParser {
 public:
  PairParser(std::string_view line, std::size_t start) : line_(line), pos_(start) {
    // Every pair takes at least "k=1" and a blank, so this bounds the reservation even for a
    // line of '=' characters inside a string.
    const std::size_t equals_signs = count_byte(line.substr(start), '=');
    builder_.line.values.reserve(std::min(equals_signs, (line.size() - start + 1) / 4));
  }

  MetricParseResult parse() {
    const std::size_t size = line_.size();
    while (true) {
      while (pos_ < size && is_blank(line_[pos_])) ++pos_;
      if (pos_ == size) return std::move(builder_.line);
      if (!parse_pair()) return std::move(builder_.error);
    }
  }

 private:
  bool parse_pair() {
    const std::size_t size = line_.size();
    const std::size_t key_start = pos_;
    std::string_view key;
    if (line_[pos_] == '"') {
      if (!parse_quoted_key(key)) return false;
    } else {
      if (!scan_bare_key()) return false;
      if (pos_ == key_start || pos_ == size || line_[pos_] != '=') {
        return fail_pair_syntax(key_start);
      }
      key = line_.substr(key_start, pos_ - key_start);
    }
    if (!builder_.add_key(key, key_start + 1)) return false;
    ++pos_;

    const std::size_t value_start = pos_;
    if (pos_ < size && line_[pos_] == '"') {
      std::string text;
      if (!parse_quoted(key, false, text)) return false;
      if (pos_ < size && !is_blank(line_[pos_])) {
        return builder_.fail("value for " + quoted_key(key) +
                                 " must be followed by a space after its closing quote, got: " +
                                 excerpt(line_.substr(pos_)),
                             pos_ + 1);
      }
      return builder_.add_value(key, std::move(text), value_start + 1,
                                line_.substr(value_start, pos_ - value_start));
    }

    while (pos_ < size && !is_blank(line_[pos_])) ++pos_;
    const std::string_view raw = line_.substr(value_start, pos_ - value_start);
    if (raw.empty()) {
      return builder_.fail("value for " + quoted_key(key) + " is empty", value_start + 1);
    }
    MetricValue value;
    if (!parse_unquoted(key, raw, value_start + 1, value)) return false;
    return builder_.add_value(key, std::move(value), value_start + 1, raw);
  }

  // Moves pos_ over the printable characters of a bare key (UTF-8 included), up to the first
  // byte no bare key holds.
  bool scan_bare_key() {
    const std::size_t size = line_.size();
    while (pos_ < size) {
      const char c = line_[pos_];
      if (is_bare_key_char(c)) {
        ++pos_;
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x80) return true;
      const std::size_t length = utf8_sequence_length(line_.substr(pos_));
      if (length == 0) {
        return builder_.fail(
            "key is not valid UTF-8: unexpected byte " + hex_byte(static_cast<unsigned char>(c)),
            pos_ + 1);
      }
      pos_ += length;
    }
    return true;
  }

  // A key in double quotes, kept in key_storage_ so that the builder's view of it stays valid.
  bool parse_quoted_key(std::string_view& key) {
    std::string& text = key_storage_.emplace_front();
    if (!parse_quoted({}, true, text)) return false;
    if (pos_ == line_.size() || line_[pos_] != '=') {
      return builder_.fail("expected '=' after the quoted key " + quoted_key(text) +
                               (pos_ == line_.size() ? ", got the end of the line"
                                                     : ", got: " + excerpt(line_.substr(pos_))),
                           pos_ + 1);
    }
    key = text;
    return true;
  }

  // Explains why the text at key_start is not key=value; pos_ is where the key's scan stopped.
  bool fail_pair_syntax(std::size_t key_start) {
    std::size_t token_end = key_start;
    while (token_end < line_.size() && !is_blank(line_[token_end])) ++token_end;
    const std::string_view token = line_.substr(key_start, token_end - key_start);
    const std::size_t equals = token.find('=');
    if (equals == std::string_view::npos) {
      return builder_.fail("expected key=value, got: " + excerpt(token), key_start + 1);
    }
    if (equals == 0) {
      return builder_.fail("missing key before '=': " + excerpt(token), key_start + 1);
    }
    // The scan stopped before the '=' at a byte that no bare key holds: '"' or a control byte.
    const std::string invalid = "invalid key " + quoted_key(token.substr(0, equals));
    if (is_control(line_[pos_])) {
      return builder_.fail(invalid + ": it contains the control byte " +
                               hex_byte(static_cast<unsigned char>(line_[pos_])),
                           pos_ + 1);
    }
    return builder_.fail(invalid + ": a key with '\"', '=' or blanks goes in double quotes",
                         key_start + 1);
  }

  // What a quoted string is, in messages: a quoted key, or the value of a key.
  static std::string subject(std::string_view key, bool is_key) {
    return is_key ? std::string("quoted key") : "value for " + quoted_key(key);
  }

  // Reads a double-quoted string starting at pos_ into text, leaving pos_ after the closing quote.
  bool parse_quoted(std::string_view key, bool is_key, std::string& text) {
    const std::size_t size = line_.size();
    const std::size_t open = pos_++;
    while (true) {
      const std::size_t run_start = pos_;
      while (pos_ < size) {
        const auto byte = static_cast<unsigned char>(line_[pos_]);
        if (byte == '"' || byte == '\\' || byte < 0x20 || byte >= 0x80) break;
        ++pos_;
      }
      text.append(line_.data() + run_start, pos_ - run_start);
      if (pos_ == size) break;

      const auto byte = static_cast<unsigned char>(line_[pos_]);
      if (byte == '"') {
        ++pos_;
        return true;
      }
      if (byte == '\\') {
        if (pos_ + 1 == size) break;
        switch (line_[pos_ + 1]) {
          case '"':
            text += '"';
            break;
          case '\\':
            text += '\\';
            break;
          case 'n':
            text += '\n';
            break;
          case 'r':
            text += '\r';
            break;
          case 't':
            text += '\t';
            break;
          default:
            return builder_.fail(subject(key, is_key) + " has an unknown escape \\" +
                                     excerpt(line_.substr(pos_ + 1, 1)) +
                                     " (known: \\\" \\\\ \\n \\r \\t)",
                                 pos_ + 1);
        }
        pos_ += 2;
      } else if (byte == '\t') {
        text += '\t';
        ++pos_;
      } else if (byte < 0x20) {
        return builder_.fail(subject(key, is_key) + " contains the control byte " + hex_byte(byte) +
                                 " (write \\n or \\t for a newline or tab)",
                             pos_ + 1);
      } else {
        const std::size_t length = utf8_sequence_length(line_.substr(pos_));
        if (length == 0) {
          return builder_.fail(
              subject(key, is_key) + " is not valid UTF-8: unexpected byte " + hex_byte(byte),
              pos_ + 1);
        }
        text.append(line_.data() + pos_, length);
        pos_ += length;
      }
    }
    return builder_.fail(
        subject(key, is_key) + " has no closing quote: " + excerpt(line_.substr(open)), open + 1);
  }

  bool parse_unquoted(std::string_view key, std::string_view raw, std::size_t column,
                      MetricValue& value) {
    if (looks_like_timestamp(raw)) {
      auto timestamp = normalize_metric_timestamp(raw);
      if (!timestamp) {
        return builder_.fail("value for " + quoted_key(key) +
                                 " is not a timestamp YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]: " +
                                 excerpt(raw) + kQuoteHint,
                             column);
      }
      value = MetricTimestamp{std::move(*timestamp)};
      return true;
    }
    const char first = raw[0];
    if (first == 't' || first == 'T' || first == 'f' || first == 'F') {
      if (equals_ignoring_case(raw, "true")) {
        value = true;
        return true;
      }
      if (equals_ignoring_case(raw, "false")) {
        value = false;
        return true;
      }
      return fail_not_a_value(key, raw, column);
    }

    const bool negative = first == '-';
    const std::string_view magnitude = raw.substr(negative ? 1 : 0);
    constexpr double kInfinity = std::numeric_limits<double>::infinity();
    if (equals_ignoring_case(magnitude, "inf") || equals_ignoring_case(magnitude, "infinity")) {
      value = negative ? -kInfinity : kInfinity;
      return true;
    }
    if (equals_ignoring_case(magnitude, "nan")) {
      value = std::numeric_limits<double>::quiet_NaN();
      return true;
    }
    // from_chars would also take "nan(chars)"; giving it only what starts like a decimal number
    // keeps the accepted set to the documented one.
    if (magnitude.empty() || !(is_digit(magnitude[0]) || magnitude[0] == '.')) {
      return fail_not_a_value(key, raw, column);
    }

    const char* const begin = raw.data();
    const char* const end = raw.data() + raw.size();
    std::int64_t integer = 0;
    const auto [integer_end, integer_error] = std::from_chars(begin, end, integer);
    if (integer_end == end) {
      if (integer_error == std::errc{}) {
        value = integer;
        return true;
      }
      return builder_.fail(
          "value for " + quoted_key(key) + " is outside the 64-bit integer range: " + excerpt(raw),
          column);
    }
    double real = 0.0;
    const auto [real_end, real_error] = std::from_chars(begin, end, real);
    if (real_end == end) {
      if (real_error == std::errc{}) {
        value = real;
        return true;
      }
      return builder_.fail(
          "value for " + quoted_key(key) + " is outside the range of a double: " + excerpt(raw),
          column);
    }
    return fail_not_a_value(key, raw, column);
  }

  bool fail_not_a_value(std::string_view key, std::string_view raw, std::size_t column) {
    return builder_.fail("value for " + quoted_key(key) +
                             " is not a number, bool, timestamp or quoted string: " + excerpt(raw) +
                             kQuoteHint,
                         column);
  }

  std::string_view line_;
  std::size_t pos_;
  MetricLineBuilder builder_;
  // Keeps its strings in place, so the builder's views of quoted keys stay valid; unlike a
  // deque, it allocates nothing for the lines that have no quoted key.
  std::forward_list<std::string> key_storage_;
};

// nlohmann's SAX interface: values go straight into the builder, without a DOM.
class JsonMetricHandler {
 public:
  using json = nlohmann::json;

  JsonMetricHandler(MetricLineBuilder& builder, std::size_t object_start)
      : builder_(builder), object_start_(object_start) {}

  // Errors found after the syntax check have no byte position from the parser; they point at
  // the opening brace and name the key.
  std::size_t column() const { return object_start_ + 1; }

  bool null() { return true; }  // a null value leaves the column unset
  bool boolean(bool value) { return builder_.add_value(key_, value, column()); }
  bool number_integer(json::number_integer_t value) {
    return builder_.add_value(key_, std::int64_t{value}, column());
  }
  bool number_unsigned(json::number_unsigned_t value) {
    if (value > static_cast<json::number_unsigned_t>(std::numeric_limits<std::int64_t>::max())) {
      return fail_integer_range(std::to_string(value));
    }
    return builder_.add_value(key_, static_cast<std::int64_t>(value), column());
  }
  bool number_float(json::number_float_t value, const json::string_t& text) {
    // The parser turns integers beyond uint64 into floats; the key=value syntax refuses them,
    // and so does this.
    if (text.find_first_of(".eE") == std::string::npos) return fail_integer_range(text);
    if (!std::isfinite(value)) return fail_double_range(text);
    return builder_.add_value(key_, double{value}, column(), text);
  }
  bool string(json::string_t& value) {
    if (value.find('\0') != std::string::npos) {
      return builder_.fail("value for " + quoted_key(key_) + " contains a NUL character", column());
    }
    // The same strings as key=value lines can carry, so every stored row can be written back
    // as a line (spill and reject files).
    for (const char c : value) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 && c != '\n' && c != '\r' && c != '\t') {
        return builder_.fail("value for " + quoted_key(key_) + " contains the control byte " +
                                 hex_byte(byte) + " (only \\n, \\r and \\t are allowed)",
                             column());
      }
    }
    if (looks_like_timestamp(value)) {
      if (auto timestamp = normalize_metric_timestamp(value)) {
        return builder_.add_value(key_, MetricTimestamp{std::move(*timestamp)}, column());
      }
    }
    return builder_.add_value(key_, std::move(value), column());
  }
  bool binary(json::binary_t& /*value*/) { return fail_nested("binary data"); }
  bool start_object(std::size_t /*elements*/) {
    if (depth_++ == 0) return true;
    return fail_nested("an object");
  }
  bool end_object() {
    --depth_;
    return true;
  }
  bool start_array(std::size_t /*elements*/) { return fail_nested("an array"); }
  bool end_array() { return true; }
  bool key(json::string_t& name) {
    key_storage_.push_back(std::move(name));
    key_ = key_storage_.back();
    return builder_.add_key(key_, column());
  }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const json::exception& error) {
    const std::size_t column = object_start_ + std::max<std::size_t>(position, 1);
    // The lexer refuses a number beyond the range of a double itself; say so as the key=value
    // syntax does.
    constexpr int kNumberOverflow = 406;
    if (error.id == kNumberOverflow && !key_.empty()) {
      if (last_token.find_first_of(".eE") == std::string::npos) {
        fail_integer_range(last_token);
      } else {
        fail_double_range(last_token);
      }
      builder_.error.column = column;
      return false;
    }
    // Keep the parser's explanation, not its "[json.exception...] parse error at ...: " preamble.
    std::string_view message = error.what();
    if (message.starts_with('[')) {
      if (const std::size_t end = message.find("] "); end != std::string_view::npos) {
        message.remove_prefix(end + 2);
      }
    }
    if (message.starts_with("parse error")) {
      if (const std::size_t end = message.find(": "); end != std::string_view::npos) {
        message.remove_prefix(end + 2);
      }
    }
    return builder_.fail("invalid JSON: " + excerpt(message, kJsonReasonBytes), column);
  }

 private:
  bool fail_integer_range(std::string_view text) {
    return builder_.fail(
        "value for " + quoted_key(key_) + " is outside the 64-bit integer range: " + excerpt(text),
        column());
  }
  bool fail_double_range(std::string_view text) {
    return builder_.fail(
        "value for " + quoted_key(key_) + " is outside the range of a double: " + excerpt(text),
        column());
  }
  bool fail_nested(std::string_view what) {
    return builder_.fail("value for " + quoted_key(key_) + " is " + std::string(what) +
                             "; only numbers, bools and strings are allowed",
                         column());
  }

  MetricLineBuilder& builder_;
  std::size_t object_start_;
  int depth_ = 0;
  // A deque keeps its strings in place, so the builder's views of the keys stay valid.
  std::deque<std::string> key_storage_;
  std::string_view key_;
};

MetricParseResult parse_json(std::string_view line, std::size_t start) {
  MetricLineBuilder builder;
  JsonMetricHandler handler(builder, start);
  bool parsed = false;
  try {
    parsed = nlohmann::json::sax_parse(line.data() + start, line.data() + line.size(), &handler);
  } catch (const nlohmann::json::exception& error) {
    // The SAX parser reports through parse_error; this is a guard, not an expected path.
    builder.fail(std::string("invalid JSON: ") + excerpt(error.what(), kJsonReasonBytes),
                 start + 1);
  }
  if (!parsed) return std::move(builder.error);
  return std::move(builder.line);
}

}  // namespace

std::optional<std::string> normalize_metric_timestamp(std::string_view text) {
  // "YYYY-MM-DDTHH:MM:SS" is 19 bytes; ".fffffffff+HH:MM" may add 16.
  constexpr std::size_t kDateTimeBytes = 19;
  constexpr std::size_t kMaxFractionDigits = 9;
  if (text.size() < kDateTimeBytes || text.size() > kDateTimeBytes + 16) return std::nullopt;
  const int century = two_digits(text, 0);
  const int year_in_century = two_digits(text, 2);
  const int month = two_digits(text, 5);
  const int day = two_digits(text, 8);
  const int hour = two_digits(text, 11);
  const int minute = two_digits(text, 14);
  const int second = two_digits(text, 17);
  if (century < 0 || year_in_century < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 ||
      second < 0) {
    return std::nullopt;
  }
  if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  // Year 0 does not exist for PostgreSQL; leap seconds and 24:00 are refused by one of the two
  // databases, so by both here.
  const int year = century * 100 + year_in_century;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
      hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }

  std::string normalized;
  normalized.reserve(kDateTimeBytes + 16);
  normalized.append(text.substr(0, 10));
  normalized += 'T';
  normalized.append(text.substr(11, 8));

  std::size_t pos = kDateTimeBytes;
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t fraction_start = pos++;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    const std::size_t digits = pos - fraction_start - 1;
    if (digits == 0 || digits > kMaxFractionDigits) return std::nullopt;
    normalized.append(text.substr(fraction_start, pos - fraction_start));
  }
  if (pos == text.size()) return normalized;

  const char zone = text[pos];
  if (zone == 'Z' || zone == 'z') {
    if (pos + 1 != text.size()) return std::nullopt;
    normalized += 'Z';
    return normalized;
  }
  if (zone != '+' && zone != '-') return std::nullopt;
  const std::string_view offset = text.substr(pos + 1);
  const int offset_hours = two_digits(offset, 0);
  int offset_minutes = 0;
  if (offset.size() == 4) {
    offset_minutes = two_digits(offset, 2);
  } else if (offset.size() == 5 && offset[2] == ':') {
    offset_minutes = two_digits(offset, 3);
  } else if (offset.size() != 2) {
    return std::nullopt;
  }
  // SQLite reads offsets up to 14:59 only.
  if (offset_hours < 0 || offset_hours > 14 || offset_minutes < 0 || offset_minutes > 59) {
    return std::nullopt;
  }
  normalized += zone;
  normalized.append(offset.substr(0, 2));
  normalized += ':';
  normalized += static_cast<char>('0' + offset_minutes / 10);
  normalized += static_cast<char>('0' + offset_minutes % 10);
  return normalized;
}

std::string metric_column_name(std::string_view key) {
  std::string name;
  name.reserve(key.size());
  bool in_run = false;  // inside a run of bytes that a column name does not keep
  for (const char c : key) {
    const char lower = to_lower(c);
    if (has_class(lower, kColumn)) {
      name += lower;
      in_run = false;
    } else if (!in_run) {
      name += '_';
      in_run = true;
    }
  }
  return name;
}

bool metric_key_needs_quotes(std::string_view key) {
  return key.empty() ||
         !std::all_of(key.begin(), key.end(), [](char c) { return is_bare_key_char(c); });
}

MetricParseResult parse_metric_line(std::string_view line) {
  return parse_metric_line(line, kMaxMetricLineBytes);
}

MetricParseResult parse_metric_line(std::string_view line, std::size_t max_bytes) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > max_bytes) {
    return MetricParseError{"line is " + std::to_string(line.size()) + " bytes, longer than the " +
                                std::to_string(max_bytes) + "-byte limit",
                            max_bytes + 1};
  }
  std::size_t start = line.starts_with(kByteOrderMark) ? kByteOrderMark.size() : 0;
  while (start < line.size() && is_blank(line[start])) ++start;
  if (start == line.size() || line[start] == '#') return IgnoredMetricLine{};
  if (line[start] == '{') return parse_json(line, start);
  return PairParser(line, start).parse();
}

}  // namespace sqltrack
