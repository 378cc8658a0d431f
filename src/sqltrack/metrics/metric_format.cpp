#include "sqltrack/metrics/metric_format.hpp"
#include "sqltrack/util/text.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace sqltrack {
namespace {

std::string format_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v);
  std::string text(buffer.data(), result.ptr);
  // "3" would read back as an integer; keep it a float.
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}

std::string quote(const std::string& text) {
  std::string out = "\"";
  out.reserve(text.size() + 2);
  for (const char c : text) {
    if (c == '"') {
      out += "\\\"";
    } else if (!append_backslash_escape(out, c)) {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string format_metric_value(const MetricValue& value) {
  struct Formatter {
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return format_double(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return quote(v); }
    std::string operator()(const MetricTimestamp& v) const { return v.iso8601; }
  };
  return std::visit(Formatter{}, value);
}

std::string format_metric_row(const MetricRow& row) {
  std::string line =
      "step=" + std::to_string(row.step) + " progress=" + format_double(row.progress);
  for (const auto& [key, value] : row.values) {
    line += ' ';
    line += metric_key_needs_quotes(key) ? quote(key) : key;
    line += '=';
    line += format_metric_value(value);
  }
  return line;
}

}  // namespace sqltrack
