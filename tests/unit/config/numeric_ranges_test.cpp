// The ranges of numeric flags and settings: one table, one message shape.
#include "sqltrack/config/numeric_ranges.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sqltrack/config/config.hpp"
#include "sqltrack/monitor/resource_monitor.hpp"
#include "sqltrack/util/error.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

std::string usage_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const UsageError& error) {
    return error.what();
  }
  return "<no UsageError>";
}

TEST(NumericRanges, FlagsOutsideTheirRangeNameTheFlagTheValueAndTheRange) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(usage_error_of([&] { checked_flag("--heartbeat", inf); }),
            "flag --heartbeat is inf, out of range: expected 0.1 to 86400 seconds");
  EXPECT_EQ(usage_error_of([&] { checked_flag("--heartbeat", 1e-6); }),
            "flag --heartbeat is 1e-06, out of range: expected 0.1 to 86400 seconds");
  EXPECT_EQ(usage_error_of([&] { checked_flag("--metrics-fd", 65536); }),
            "flag --metrics-fd is 65536, out of range: expected a whole number from 3 to 1023");
  EXPECT_EQ(usage_error_of([&] { checked_flag("--sample", std::nan("")); }),
            "flag --sample is nan, out of range: expected 0 (off) or 0.01 to 86400 seconds");
  EXPECT_DOUBLE_EQ(checked_flag("--heartbeat", 0.1), 0.1);
  EXPECT_DOUBLE_EQ(checked_flag("--heartbeat", 86400), 86400);
  EXPECT_DOUBLE_EQ(checked_flag("--sample", 0), 0) << "0 turns sampling off";
  EXPECT_DOUBLE_EQ(checked_flag("--metrics-fd", 3), 3);
}

TEST(NumericRanges, SettingsAreCheckedWhenResolvedNamingTheirSource) {
  test::TempDir dir;
  test::write_file(dir / "sqltrack.conf", "path = x.db\nbusy_timeout = 1e12\n");
  EXPECT_EQ(usage_error_of([&] { resolve_settings({}, {}, dir.path()); }),
            "setting 'busy_timeout' (config file './sqltrack.conf' line 2) is 1e12, out of range: "
            "expected 0 to 86400 seconds");
  EXPECT_EQ(usage_error_of([&] {
              resolve_settings({}, {{"SQLTRACK_DSN_BATCH_ROWS", "2.5"}}, dir.path() / "none");
            }),
            "setting 'batch_rows' (environment variable SQLTRACK_DSN_BATCH_ROWS) is 2.5, out of "
            "range: expected a whole number from 1 to 100000 rows");
  EXPECT_EQ(usage_error_of([&] {
              resolve_settings({}, {{"SQLTRACK_DSN_CONNECT_TIMEOUT", "0"}}, dir.path() / "none");
            }),
            "setting 'connect_timeout' (environment variable SQLTRACK_DSN_CONNECT_TIMEOUT) is 0, "
            "out of range: expected a whole number from 1 to 3600 seconds");
  EXPECT_THROW(resolve_settings({}, {{"SQLTRACK_DSN_SYNC_TIMEOUT", "soon"}}, dir.path() / "none"),
               ConfigError)
      << "not a number at all stays a ConfigError";
  Settings fine = resolve_settings(
      {}, {{"SQLTRACK_DSN_FLUSH_INTERVAL", "3600"}, {"SQLTRACK_DSN_SAMPLE_INTERVAL", "0"}},
      dir.path() / "none");
  EXPECT_DOUBLE_EQ(fine.get_number("flush_interval", 0), 3600);
  EXPECT_DOUBLE_EQ(sample_interval(std::nullopt, fine), 0);
}

TEST(NumericRanges, EveryEntryHasAFlagOrASettingAndAnOrderedRange) {
  for (const NumericRange& range : kNumericRanges) {
    EXPECT_FALSE(range.flag.empty() && range.setting.empty());
    EXPECT_LT(range.min, range.max) << range.flag << range.setting;
    EXPECT_EQ(&numeric_range(range.flag.empty() ? range.setting : range.flag), &range);
  }
}

}  // namespace
}  // namespace sqltrack
