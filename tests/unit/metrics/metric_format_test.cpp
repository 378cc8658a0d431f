#include "sqltrack/metrics/metric_format.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace sqltrack {

// gtest prints variants through their alternatives; this makes timestamps readable.
void PrintTo(const MetricTimestamp& timestamp, std::ostream* out);

namespace {

using namespace std::string_literals;

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Equal as a metric means: same kind, and for doubles the same bits (so -0.0 is not 0.0)
// except that every NaN equals every NaN.
testing::AssertionResult same_value(const MetricValue& expected, const MetricValue& actual) {
  if (expected.index() != actual.index()) {
    return testing::AssertionFailure()
           << "expected " << testing::PrintToString(expected)
           << ", got a different kind: " << testing::PrintToString(actual);
  }
  if (const auto* e = std::get_if<double>(&expected)) {
    const double a = std::get<double>(actual);
    if (std::isnan(*e) && std::isnan(a)) return testing::AssertionSuccess();
    if (std::bit_cast<std::uint64_t>(*e) == std::bit_cast<std::uint64_t>(a)) {
      return testing::AssertionSuccess();
    }
    return testing::AssertionFailure()
           << "expected the double " << testing::PrintToString(*e) << " (bits "
           << std::bit_cast<std::uint64_t>(*e) << "), got " << testing::PrintToString(a)
           << " (bits " << std::bit_cast<std::uint64_t>(a) << ")";
  }
  if (expected == actual) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "expected " << testing::PrintToString(expected) << ", got "
                                     << testing::PrintToString(actual);
}

// The line parsed, or a test failure with the parser's reason.
MetricLine parsed(std::string_view text) {
  MetricParseResult result = parse_metric_line(text);
  if (auto* line = std::get_if<MetricLine>(&result)) return std::move(*line);
  if (const auto* error = std::get_if<MetricParseError>(&result)) {
    ADD_FAILURE() << "expected " << testing::PrintToString(std::string(text))
                  << " to parse, got an error at column " << error->column << ": " << error->reason;
  } else {
    ADD_FAILURE() << "expected " << testing::PrintToString(std::string(text))
                  << " to parse, it was ignored";
  }
  return {};
}

// Formats one value, parses it back as "v=<text>" and checks it is the same value.
testing::AssertionResult round_trips(const MetricValue& value) {
  const std::string text = "v=" + format_metric_value(value);
  MetricParseResult result = parse_metric_line(text);
  if (const auto* error = std::get_if<MetricParseError>(&result)) {
    return testing::AssertionFailure()
           << "the formatted line " << testing::PrintToString(text) << " does not parse: column "
           << error->column << ": " << error->reason;
  }
  const auto* line = std::get_if<MetricLine>(&result);
  if (line == nullptr || line->values.size() != 1) {
    return testing::AssertionFailure()
           << "the formatted line " << testing::PrintToString(text) << " is not one value";
  }
  testing::AssertionResult same = same_value(value, line->values[0].second);
  if (!same) same << " (formatted as " << testing::PrintToString(text) << ")";
  return same;
}

TEST(MetricFormatValue, WritesIntegersInDecimal) {
  EXPECT_EQ(format_metric_value(std::int64_t{0}), "0");
  EXPECT_EQ(format_metric_value(std::int64_t{42}), "42");
  EXPECT_EQ(format_metric_value(std::int64_t{-7}), "-7");
  EXPECT_EQ(format_metric_value(std::numeric_limits<std::int64_t>::max()), "9223372036854775807");
  EXPECT_EQ(format_metric_value(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
}

TEST(MetricFormatValue, WritesDoublesInTheirShortestExactForm) {
  EXPECT_EQ(format_metric_value(0.5), "0.5");
  EXPECT_EQ(format_metric_value(0.1), "0.1");
  EXPECT_EQ(format_metric_value(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(format_metric_value(1e300), "1e+300");
  EXPECT_EQ(format_metric_value(0.1 + 0.2), "0.30000000000000004");
}

TEST(MetricFormatValue, KeepsIntegralDoublesFloats) {
  EXPECT_EQ(format_metric_value(3.0), "3.0");
  EXPECT_EQ(format_metric_value(-3.0), "-3.0");
  EXPECT_EQ(format_metric_value(0.0), "0.0");
  EXPECT_EQ(format_metric_value(-0.0), "-0.0");
  EXPECT_EQ(format_metric_value(123456.0), "123456.0");
  EXPECT_EQ(format_metric_value(1e15), "1e+15") << "an exponent already makes it a float";
}

TEST(MetricFormatValue, WritesNanAndInfinities) {
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(format_metric_value(kInfinity), "inf");
  EXPECT_EQ(format_metric_value(-kInfinity), "-inf");
}

TEST(MetricFormatValue, WritesBooleansAndTimestamps) {
  EXPECT_EQ(format_metric_value(true), "true");
  EXPECT_EQ(format_metric_value(false), "false");
  EXPECT_EQ(format_metric_value(MetricTimestamp{"2026-11-23T10:15:30.5+01:00"}),
            "2026-11-23T10:15:30.5+01:00")
      << "timestamps are written unquoted, so they read back as timestamps";
}

TEST(MetricFormatValue, QuotesAndEscapesStrings) {
  EXPECT_EQ(format_metric_value(""s), R"("")");
  EXPECT_EQ(format_metric_value("warm up"s), R"("warm up")");
  EXPECT_EQ(format_metric_value("a\"b"s), R"("a\"b")");
  EXPECT_EQ(format_metric_value("c\\d"s), R"("c\\d")");
  EXPECT_EQ(format_metric_value("e\nf\rg\th"s), R"("e\nf\rg\th")");
  EXPECT_EQ(format_metric_value("\xC3\xA9\xE2\x9C\x93"s), "\"\xC3\xA9\xE2\x9C\x93\"")
      << "UTF-8 is written as it is";
}

TEST(MetricFormatRoundTrip, Integers) {
  for (const std::int64_t v :
       {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{1234567890123},
        std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min()}) {
    EXPECT_TRUE(round_trips(v));
  }
}

TEST(MetricFormatRoundTrip, Doubles) {
  const std::vector<double> values = {
      0.0,
      -0.0,
      0.5,
      0.1,
      1.0 / 3.0,
      -2.5e4,
      3.0,
      -1.0,
      1e15,
      1e16,
      1e22,
      123456789012345680000.0,
      9007199254740993.0,
      std::numeric_limits<double>::max(),
      std::numeric_limits<double>::lowest(),
      std::numeric_limits<double>::min(),
      std::numeric_limits<double>::denorm_min(),
      -std::numeric_limits<double>::denorm_min(),
      std::numeric_limits<double>::epsilon(),
      kInfinity,
      -kInfinity,
      std::numeric_limits<double>::quiet_NaN(),
  };
  for (const double v : values) EXPECT_TRUE(round_trips(v));
}

TEST(MetricFormatRoundTrip, NegativeZeroKeepsItsSign) {
  const MetricLine line = parsed("v=" + format_metric_value(-0.0));
  ASSERT_EQ(line.values.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<double>(line.values[0].second))
      << "expected a double, got " << testing::PrintToString(line.values[0].second);
  EXPECT_TRUE(std::signbit(std::get<double>(line.values[0].second)))
      << "expected -0.0 to read back negative";
}

TEST(MetricFormatRoundTrip, RandomDoublesOfEveryMagnitude) {
  std::mt19937_64 random(20261123);
  for (int i = 0; i < 20000; ++i) {
    const double v = std::bit_cast<double>(random());
    ASSERT_TRUE(round_trips(v)) << "bits " << std::bit_cast<std::uint64_t>(v);
  }
  for (int i = 0; i < 2000; ++i) {
    // Integral doubles, small and large: each must stay a double.
    const double v = std::ldexp(static_cast<double>(random() % 1000000), static_cast<int>(i % 70));
    ASSERT_TRUE(round_trips(i % 2 == 0 ? v : -v));
  }
}

TEST(MetricFormatRoundTrip, Booleans) {
  EXPECT_TRUE(round_trips(true));
  EXPECT_TRUE(round_trips(false));
}

TEST(MetricFormatRoundTrip, Strings) {
  const std::vector<std::string> values = {
      "",
      "warm up",
      "x=1 y=2",
      "a\"b",
      "\"",
      "\\",
      "\\\"",
      "c\\d",
      "trailing\\",
      "e\nf",
      "\r\n",
      "tab\there",
      "\t",
      "\xC3\xA9\xE2\x9C\x93\xF0\x9F\x98\x80",
      "#not a comment",
      "{\"json\": 1}",
      "2026-11-23T10:15:30Z",
      "42",
      "true",
      "nan",
      "=",
      "  spaces  ",
      "\x7F",
  };
  for (const std::string& v : values) EXPECT_TRUE(round_trips(v));
}

TEST(MetricFormatRoundTrip, QuotedTimestampTextStaysText) {
  const MetricLine line = parsed("v=" + format_metric_value("2026-11-23T10:15:30Z"s));
  ASSERT_EQ(line.values.size(), 1u);
  EXPECT_TRUE(same_value("2026-11-23T10:15:30Z"s, line.values[0].second));
}

TEST(MetricFormatRoundTrip, Timestamps) {
  for (const char* text :
       {"2026-11-23T10:15:30Z", "2026-11-23T10:15:30", "2026-11-23T10:15:30.123+01:00",
        "2026-11-23T10:15:30.123456789-05:30", "1970-01-01T00:00:00Z"}) {
    EXPECT_TRUE(round_trips(MetricTimestamp{text}));
  }
}

TEST(MetricFormatRoundTrip, EveryValueAParsedLineCanHold) {
  // What the parser produces, the formatter must write back as the same values.
  const std::vector<std::string> lines = {
      R"(a=1 b=-0.0 c=.5 d=5. e=1e3 f=NaN g=-Infinity h=True s="q\"\\\n\r\t" t=2026-11-23t10:15:30z)",
      R"({"a": 1, "b": 2.5, "c": true, "s": "x\u00e9\n", "t": "2026-11-23T10:15:30+0100"})",
  };
  for (const std::string& text : lines) {
    const MetricLine first = parsed(text);
    std::string written;
    for (const auto& [key, value] : first.values) {
      written += key + "=" + format_metric_value(value) + " ";
    }
    const MetricLine second = parsed(written);
    ASSERT_EQ(second.values.size(), first.values.size()) << written;
    for (std::size_t i = 0; i < first.values.size(); ++i) {
      EXPECT_EQ(second.values[i].first, first.values[i].first) << written;
      EXPECT_TRUE(same_value(first.values[i].second, second.values[i].second))
          << "key " << first.values[i].first << " in " << written;
    }
  }
}

TEST(MetricFormatRow, AlwaysWritesStepAndProgress) {
  EXPECT_EQ(format_metric_row(MetricRow{}), "step=0 progress=0.0");
  EXPECT_EQ(format_metric_row(MetricRow{7, 0.25, {}}), "step=7 progress=0.25");
  EXPECT_EQ(format_metric_row(MetricRow{3, 1.0, {}}), "step=3 progress=1.0");
}

TEST(MetricFormatRow, WritesValuesInOrder) {
  const MetricRow row{12, 0.5,
                      MetricValues{{"loss", 0.25},
                                   {"epoch", std::int64_t{2}},
                                   {"done", false},
                                   {"phase", "warm \"up\""s},
                                   {"at", MetricTimestamp{"2026-11-23T10:15:30Z"}}}};
  EXPECT_EQ(
      format_metric_row(row),
      R"(step=12 progress=0.5 loss=0.25 epoch=2 done=false phase="warm \"up\"" at=2026-11-23T10:15:30Z)");
}

TEST(MetricFormatRow, ParsesBackToTheSameRow) {
  const MetricRow row{std::numeric_limits<std::int64_t>::max(), 0.1 + 0.2,
                      MetricValues{{"i", std::numeric_limits<std::int64_t>::min()},
                                   {"f", 3.0},
                                   {"n", std::numeric_limits<double>::quiet_NaN()},
                                   {"b", true},
                                   {"s", "a\\b\n\"c\"\t\r\xC3\xA9"s},
                                   {"t", MetricTimestamp{"2026-11-23T10:15:30.5-01:00"}}}};
  const std::string text = format_metric_row(row);
  const MetricLine line = parsed(text);
  EXPECT_EQ(line.step, row.step) << text;
  EXPECT_EQ(line.progress, row.progress) << text;
  ASSERT_EQ(line.values.size(), row.values.size()) << text;
  for (std::size_t i = 0; i < row.values.size(); ++i) {
    EXPECT_EQ(line.values[i].first, row.values[i].first) << text;
    EXPECT_TRUE(same_value(row.values[i].second, line.values[i].second))
        << "key " << row.values[i].first << " in " << text;
  }
}

TEST(MetricFormatRow, IntegralProgressStaysAFloatAndMinusZeroIsAccepted) {
  // The parser takes an integer progress too, but the writer keeps it a float; -0.0 is
  // accepted as the key 0.0.
  const MetricLine whole = parsed(format_metric_row(MetricRow{1, 2.0, {}}));
  EXPECT_EQ(whole.progress, 2.0);
  const MetricLine zero = parsed(format_metric_row(MetricRow{1, -0.0, {}}));
  ASSERT_TRUE(zero.progress.has_value());
  EXPECT_EQ(*zero.progress, 0.0);
  EXPECT_FALSE(std::signbit(*zero.progress)) << "expected the key's -0.0 to read back as 0.0";
}

}  // namespace
}  // namespace sqltrack
