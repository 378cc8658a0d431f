#include "sqltrack/util/sparkline.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "sqltrack/util/terminal_text.hpp"

namespace sqltrack {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInfinity = std::numeric_limits<double>::infinity();

std::string line(std::vector<double> values) {
  return sparkline(values);
}

TEST(Sparkline, RisingSeriesUsesEveryLevelFromLowestToHighest) {
  EXPECT_EQ(line({0, 1, 2, 3, 4, 5, 6, 7}), "▁▂▃▄▅▆▇█");
  EXPECT_EQ(line({7, 6, 5, 4, 3, 2, 1, 0}), "█▇▆▅▄▃▂▁");
}

TEST(Sparkline, ScalesBetweenTheSeriesMinimumAndMaximum) {
  // 11 is halfway between 10 and 12: level 3.5 rounds to ▅.
  EXPECT_EQ(line({10, 12, 11}), "▁█▅");
  EXPECT_EQ(line({-0.5, -0.75, -1}), "█▅▁");
  EXPECT_EQ(line({1000, 1001}), "▁█") << "only the differences matter, not the magnitude";
}

TEST(Sparkline, FlatSeriesIsAMiddleRow) {
  EXPECT_EQ(line({3, 3, 3}), "▄▄▄");
  EXPECT_EQ(line({0.5}), "▄");
}

TEST(Sparkline, ValuesThatAreNotFiniteAreBlanksAndDoNotChangeTheScale) {
  EXPECT_EQ(line({0, kNaN, 7, kInfinity, -kInfinity}), "▁ █  ");
  EXPECT_EQ(line({kNaN, kNaN}), "  ");
}

TEST(Sparkline, EmptySeriesIsEmpty) {
  EXPECT_EQ(line({}), "");
}

TEST(Sparkline, ExtremeValuesDoNotOverflowTheScale) {
  EXPECT_EQ(line({-1.7e308, 0, 1.7e308}), "▁▅█");
}

TEST(Sparkline, TakesOneColumnPerValue) {
  std::vector<double> values;
  for (int i = 0; i < static_cast<int>(kSparklinePoints); ++i) values.push_back(std::sin(i));
  std::string drawn = sparkline(values);
  EXPECT_EQ(display_width(drawn), kSparklinePoints) << drawn;
  EXPECT_EQ(drawn.size(), 3 * kSparklinePoints) << "each block is three bytes of UTF-8";
}

TEST(ShortNumber, FourSignificantDigits) {
  EXPECT_EQ(short_number(0.123456), "0.1235");
  EXPECT_EQ(short_number(3), "3");
  EXPECT_EQ(short_number(1234567), "1.235e+06");
  EXPECT_EQ(short_number(kNaN), "nan");
}

}  // namespace
}  // namespace sqltrack
