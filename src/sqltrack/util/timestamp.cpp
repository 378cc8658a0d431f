#include "sqltrack/util/timestamp.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace sqltrack {

std::string format_timestamp(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  auto micros = duration_cast<microseconds>(time.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  long fraction = static_cast<long>(micros % 1000000);
  if (fraction < 0) {
    fraction += 1000000;
    --seconds;
  }
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[80];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00:00",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                utc.tm_sec, fraction);
  return buffer;
}

std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text) {
  auto number = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    if (pos + len > text.size()) return std::nullopt;
    int value = 0;
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, value);
    if (ec != std::errc() || end != text.data() + pos + len) return std::nullopt;
    return value;
  };
  auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
  auto hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  std::tm utc{};
  utc.tm_year = *year - 1900;
  utc.tm_mon = *month - 1;
  utc.tm_mday = *day;
  utc.tm_hour = *hour;
  utc.tm_min = *minute;
  utc.tm_sec = *second;
  std::time_t seconds = timegm(&utc);
  std::size_t pos = 19;
  long micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    long scale = 100000;
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      micros += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  long offset = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    auto hours = number(pos + 1, 2);
    if (!hours) return std::nullopt;
    // "+00", "+0130" and "+01:30" are all in use.
    std::size_t minutes_at = pos + 3 < text.size() && text[pos + 3] == ':' ? pos + 4 : pos + 3;
    int minutes = number(minutes_at, 2).value_or(0);
    offset = sign * (*hours * 3600L + minutes * 60L);
  }
  using namespace std::chrono;
  // The clock counts nanoseconds in 64 bits (years 1678 to 2261): a time outside them is not
  // one this program wrote, and converting it would overflow.
  constexpr long long kLimit =
      duration_cast<std::chrono::seconds>(system_clock::duration::max()).count() - 1;
  const long long total = static_cast<long long>(seconds) - offset;
  if (total > kLimit || total < -kLimit) return std::nullopt;
  return system_clock::time_point(std::chrono::seconds(total)) + microseconds(micros);
}

std::string format_age(std::chrono::system_clock::duration age) {
  using namespace std::chrono;
  auto s = duration_cast<seconds>(age).count();
  if (s < 0) s = 0;
  if (s < 120) return std::to_string(s) + " s ago";
  if (s < 7200) return std::to_string(s / 60) + " min ago";
  if (s < 172800) return std::to_string(s / 3600) + " h ago";
  return std::to_string(s / 86400) + " d ago";
}

std::string format_duration(std::chrono::system_clock::duration duration) {
  using namespace std::chrono;
  auto s = duration_cast<seconds>(duration).count();
  if (s < 0) s = 0;
  char buffer[80];
  long days = static_cast<long>(s / 86400);
  long rest = static_cast<long>(s % 86400);
  if (days > 0) {
    std::snprintf(buffer, sizeof buffer, "%ldd %02ld:%02ld:%02ld", days, rest / 3600,
                  rest % 3600 / 60, rest % 60);
  } else {
    std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", rest / 3600, rest % 3600 / 60,
                  rest % 60);
  }
  return buffer;
}

std::string format_local_time(std::chrono::system_clock::time_point time, bool with_zone) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm local{};
  localtime_r(&t, &local);
  char buffer[48];
  std::strftime(buffer, sizeof buffer, with_zone ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M:%S",
                &local);
  return buffer;
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  std::int64_t count = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (ec != std::errc() || end == text.data() || count < 0) return std::nullopt;
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::int64_t seconds_per_unit = 0;
  if (unit.empty() || unit == "s") seconds_per_unit = 1;
  if (unit == "m") seconds_per_unit = 60;
  if (unit == "h") seconds_per_unit = 3600;
  if (unit == "d") seconds_per_unit = 86400;
  if (unit == "w") seconds_per_unit = 7 * 86400;
  constexpr std::int64_t kMostSeconds = std::int64_t{100} * 366 * 86400;
  if (seconds_per_unit == 0 || count > kMostSeconds / seconds_per_unit) return std::nullopt;
  return std::chrono::seconds(count * seconds_per_unit);
}

}  // namespace sqltrack
