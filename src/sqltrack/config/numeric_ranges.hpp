#pragma once
// The ranges of sqltrack-run's numeric flags and settings, in one table (the README's
// "Numbers" table shows the same). A value outside its range is a usage error, found before
// anything starts, that names the flag or setting, where it came from, the value and the
// range: a heartbeat of 1e-6 s would flood the loop, one of 1e10 s overflows its timer.

#include <string>
#include <string_view>

namespace sqltrack {

struct NumericRange {
  std::string_view flag;     // "--heartbeat"; empty when there is no flag
  std::string_view setting;  // "sample_interval"; empty when there is no setting
  double min = 0;
  double max = 0;
  bool whole = false;           // a whole number only
  bool zero_means_off = false;  // 0 is accepted too, and turns the feature off
  std::string_view unit;        // "seconds", "rows"; empty for none
};

inline constexpr NumericRange kNumericRanges[] = {
    {"--heartbeat", "", 0.1, 86400, false, false, "seconds"},
    {"--sample", "sample_interval", 0.01, 86400, false, true, "seconds"},
    {"--metrics-fd", "", 3, 1023, true, false, ""},
    {"--interval", "", 0.1, 86400, false, false, "seconds"},
    {"", "flush_interval", 0.001, 3600, false, false, "seconds"},
    {"", "batch_rows", 1, 100000, true, false, "rows"},
    {"", "busy_timeout", 0, 86400, false, false, "seconds"},
    {"", "sync_timeout", 0, 86400, false, false, "seconds"},
    {"", "connect_timeout", 1, 3600, true, false, "seconds"},
};

// The entry of a flag ("--heartbeat") or a setting ("batch_rows"); std::logic_error for a
// name the table lacks.
const NumericRange& numeric_range(std::string_view name);

// "0.1 to 86400 seconds", "0 (off) or 0.01 to 86400 seconds", "a whole number from 3 to 1023".
std::string describe_range(const NumericRange& range);

// Throws UsageError "<who> is <shown>, out of range: expected <range>" unless value is in it.
void check_in_range(const NumericRange& range, double value, std::string_view shown,
                    const std::string& who);

// A flag's value, when it is in its range; UsageError naming the flag otherwise.
double checked_flag(std::string_view flag, double value);

}  // namespace sqltrack
