#include "sqltrack/config/numeric_ranges.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "sqltrack/config/config.hpp"
#include "sqltrack/util/error.hpp"

namespace sqltrack {
namespace {

// 100000 as such, 1e+10 and 1e-06 in exponent form, inf and nan by name.
std::string shortest(double value) {
  if (value == std::floor(value) && std::fabs(value) < 1e9) {
    return std::to_string(static_cast<long long>(value));
  }
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  return ec == std::errc() ? std::string(text, end) : std::to_string(value);
}

}  // namespace

const NumericRange& numeric_range(std::string_view name) {
  for (const NumericRange& range : kNumericRanges) {
    if (range.flag == name || range.setting == name) return range;
  }
  throw std::logic_error("no numeric range for " + std::string(name));
}

std::string describe_range(const NumericRange& range) {
  std::string text = range.zero_means_off ? "0 (off) or " : "";
  text += range.whole ? "a whole number from " : "";
  text += shortest(range.min) + " to " + shortest(range.max);
  if (!range.unit.empty()) text += " " + std::string(range.unit);
  return text;
}

void check_in_range(const NumericRange& range, double value, std::string_view shown,
                    const std::string& who) {
  // Written so that NaN fails every comparison and lands outside.
  bool inside = (value >= range.min && value <= range.max) || (range.zero_means_off && value == 0);
  if (inside && range.whole && value != std::floor(value)) inside = false;
  if (!inside) {
    throw UsageError(who + " is " + std::string(shown) + ", out of range: expected " +
                     describe_range(range));
  }
}

double checked_flag(std::string_view flag, double value) {
  check_in_range(numeric_range(flag), value, shortest(value), "flag " + std::string(flag));
  return value;
}

double sample_interval(std::optional<double> flag, const Settings& settings) {
  constexpr double kDefaultSampleSeconds = 10;
  // The range (at least 0.01 s: a row every few milliseconds would load the database more
  // than the job) is in numeric_ranges.hpp; the setting's was checked on resolving it.
  if (flag) return checked_flag("--sample", *flag);
  return settings.get_number("sample_interval", kDefaultSampleSeconds);
}

}  // namespace sqltrack
