#include "sqltrack/metrics/protocol.hpp"
#include "support/metric_values.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "sqltrack/metrics/metric_format.hpp"

namespace sqltrack {

// gtest prints variants through their alternatives; this makes timestamps readable.
void PrintTo(const MetricTimestamp& timestamp, std::ostream* out) {
  *out << "MetricTimestamp{" << timestamp.iso8601 << "}";
}

namespace {

using namespace std::string_literals;

// The parsed line, or a test failure that shows what the parser said instead.
MetricLine expect_line(std::string_view text) {
  MetricParseResult result = parse_metric_line(text);
  if (const auto* error = std::get_if<MetricParseError>(&result)) {
    ADD_FAILURE() << "expected `" << text << "` to parse, got an error at column " << error->column
                  << ": " << error->reason;
    return {};
  }
  if (std::holds_alternative<IgnoredMetricLine>(result)) {
    ADD_FAILURE() << "expected `" << text << "` to parse, got an ignored line";
    return {};
  }
  return std::get<MetricLine>(std::move(result));
}

// The parse error, or a test failure that says the line was accepted.
MetricParseError expect_error(std::string_view text) {
  MetricParseResult result = parse_metric_line(text);
  if (auto* error = std::get_if<MetricParseError>(&result)) return std::move(*error);
  ADD_FAILURE() << "expected `" << text << "` to be rejected, but it was "
                << (std::holds_alternative<IgnoredMetricLine>(result) ? "ignored" : "accepted");
  return {};
}

// The value of one column; a test failure when the line lacks it.
MetricValue value_of(const MetricLine& line, std::string_view key) {
  for (const auto& [name, value] : line.values) {
    if (name == key) return value;
  }
  ADD_FAILURE() << "expected a value for '" << key << "', the line has " << line.values.size()
                << " values but not that one";
  return {};
}

std::vector<std::string> keys_of(const MetricLine& line) {
  std::vector<std::string> keys;
  for (const auto& entry : line.values) keys.push_back(entry.first);
  return keys;
}

MetricValue timestamp(std::string text) {
  return MetricTimestamp{std::move(text)};
}

TEST(ProtocolLine, ParsesTheTypicalLine) {
  const MetricLine line =
      expect_line(R"(step=3 progress=0.03 train_loss=0.52 val_top1=0.91 phase="warm up")");
  EXPECT_EQ(line.step, 3);
  EXPECT_EQ(line.progress, 0.03);
  EXPECT_EQ(keys_of(line), (std::vector<std::string>{"train_loss", "val_top1", "phase"}));
  EXPECT_EQ(value_of(line, "train_loss"), MetricValue(0.52));
  EXPECT_EQ(value_of(line, "val_top1"), MetricValue(0.91));
  EXPECT_EQ(value_of(line, "phase"), MetricValue("warm up"s));
}

TEST(ProtocolLine, LeavesStepAndProgressUnsetWhenAbsent) {
  const MetricLine line = expect_line("loss=1");
  EXPECT_EQ(line.step, std::nullopt);
  EXPECT_EQ(line.progress, std::nullopt);
  EXPECT_EQ(value_of(line, "loss"), MetricValue(std::int64_t{1}));
}

TEST(ProtocolLine, ParsesIntegers) {
  const MetricLine line =
      expect_line("a=42 b=-7 c=0 d=-0 e=007 max=9223372036854775807 min=-9223372036854775808");
  EXPECT_EQ(value_of(line, "a"), MetricValue(std::int64_t{42}));
  EXPECT_EQ(value_of(line, "b"), MetricValue(std::int64_t{-7}));
  EXPECT_EQ(value_of(line, "c"), MetricValue(std::int64_t{0}));
  EXPECT_EQ(value_of(line, "d"), MetricValue(std::int64_t{0}));
  EXPECT_EQ(value_of(line, "e"), MetricValue(std::int64_t{7}));
  EXPECT_EQ(value_of(line, "max"), MetricValue(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(value_of(line, "min"), MetricValue(std::numeric_limits<std::int64_t>::min()));
}

TEST(ProtocolLine, ParsesFloats) {
  const MetricLine line = expect_line(
      "a=0.5 b=1e-3 c=-2.5E+4 d=.5 e=5. f=1e3 g=-0.0 h=99999999999999999999.5 i=4.9e-324");
  EXPECT_EQ(value_of(line, "a"), MetricValue(0.5));
  EXPECT_EQ(value_of(line, "b"), MetricValue(1e-3));
  EXPECT_EQ(value_of(line, "c"), MetricValue(-2.5e4));
  EXPECT_EQ(value_of(line, "d"), MetricValue(0.5));
  EXPECT_EQ(value_of(line, "e"), MetricValue(5.0));
  EXPECT_EQ(value_of(line, "f"), MetricValue(1000.0)) << "an exponent makes a float";
  const MetricValue negative_zero = value_of(line, "g");
  ASSERT_TRUE(std::holds_alternative<double>(negative_zero));
  EXPECT_TRUE(std::signbit(std::get<double>(negative_zero))) << "a metric keeps its sign";
  EXPECT_EQ(value_of(line, "h"), MetricValue(99999999999999999999.5));
  EXPECT_EQ(value_of(line, "i"), MetricValue(4.9e-324)) << "the smallest subnormal";
}

TEST(ProtocolLine, ParsesNanAndInfinityInAnyCase) {
  const MetricLine line =
      expect_line("a=nan b=NaN c=-nan d=inf e=-inf f=INF g=Infinity h=-infinity");
  for (const char* key : {"a", "b", "c"}) {
    const MetricValue value = value_of(line, key);
    ASSERT_TRUE(std::holds_alternative<double>(value)) << key;
    EXPECT_TRUE(std::isnan(std::get<double>(value))) << key << " should be NaN";
  }
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  EXPECT_EQ(value_of(line, "d"), MetricValue(kInfinity));
  EXPECT_EQ(value_of(line, "e"), MetricValue(-kInfinity));
  EXPECT_EQ(value_of(line, "f"), MetricValue(kInfinity));
  EXPECT_EQ(value_of(line, "g"), MetricValue(kInfinity));
  EXPECT_EQ(value_of(line, "h"), MetricValue(-kInfinity));
}

TEST(ProtocolLine, ParsesBooleansInAnyCase) {
  const MetricLine line = expect_line("a=true b=false c=True d=FALSE");
  EXPECT_EQ(value_of(line, "a"), MetricValue(true));
  EXPECT_EQ(value_of(line, "b"), MetricValue(false));
  EXPECT_EQ(value_of(line, "c"), MetricValue(true));
  EXPECT_EQ(value_of(line, "d"), MetricValue(false));
}

TEST(ProtocolLine, ParsesTimestampsIntoNormalisedText) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2026-11-23T10:15:30Z", "2026-11-23T10:15:30Z"},
      {"2026-11-23T10:15:30", "2026-11-23T10:15:30"},
      {"2026-11-23t10:15:30z", "2026-11-23T10:15:30Z"},
      {"2026-11-23T10:15:30.123+01:00", "2026-11-23T10:15:30.123+01:00"},
      {"2026-11-23T10:15:30.123456789-05:30", "2026-11-23T10:15:30.123456789-05:30"},
      {"2026-11-23T10:15:30+0100", "2026-11-23T10:15:30+01:00"},
      {"2026-11-23T10:15:30-03", "2026-11-23T10:15:30-03:00"},
      {"2024-02-29T23:59:59+14:59", "2024-02-29T23:59:59+14:59"},
      {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
  };
  for (const auto& [text, normalized] : cases) {
    const MetricLine line = expect_line("t=" + text);
    EXPECT_EQ(value_of(line, "t"), timestamp(normalized)) << "input " << text;
  }
}

TEST(ProtocolLine, KeepsAQuotedTimestampAsText) {
  const MetricLine line = expect_line(R"(t="2026-11-23T10:15:30Z")");
  EXPECT_EQ(value_of(line, "t"), MetricValue("2026-11-23T10:15:30Z"s));
}

TEST(ProtocolTimestamp, RefusesWhatEitherDatabaseWouldMisread) {
  const std::vector<std::string> refused = {
      "2026-11-23",                      // a date alone
      "2026-11-23 10:15:30",             // a space instead of T
      "2026-11-23T10:15",                // no seconds
      "2026-13-01T00:00:00",             // month 13
      "2026-02-29T00:00:00",             // not a leap year
      "1900-02-29T00:00:00",             // not a leap year either
      "2026-04-31T00:00:00",             // April has 30 days
      "0000-01-01T00:00:00",             // no year 0 in PostgreSQL
      "2026-11-23T24:00:00",             // 24:00
      "2026-11-23T23:60:00",             // minute 60
      "2026-11-23T23:59:60",             // leap second
      "2026-11-23T10:15:30.",            // empty fraction
      "2026-11-23T10:15:30.1234567890",  // ten fraction digits
      "2026-11-23T10:15:30+15:00",       // beyond SQLite's offsets
      "2026-11-23T10:15:30+01:60",       // offset minute 60
      "2026-11-23T10:15:30+1",           // one-digit offset
      "2026-11-23T10:15:30+01:0",        // short offset minutes
      "2026-11-23T10:15:30Z+01:00",      // two zones
      "2026-11-23T10:15:30ZZ",           // trailing junk
      "2026-1-23T10:15:30Z",             // one-digit month
      "2026-11-23X10:15:30Z",            // wrong separator
  };
  for (const std::string& text : refused) {
    EXPECT_EQ(normalize_metric_timestamp(text), std::nullopt) << "input " << text;
  }
}

TEST(ProtocolLine, ParsesQuotedStringsWithEscapes) {
  const MetricLine line = expect_line(
      R"(a="say \"hi\"" b="back\\slash" c="line\nbreak" d="tab\there" e="" f="x=1 # not a comment" g="raw	tab")");
  EXPECT_EQ(value_of(line, "a"), MetricValue("say \"hi\""s));
  EXPECT_EQ(value_of(line, "b"), MetricValue("back\\slash"s));
  EXPECT_EQ(value_of(line, "c"), MetricValue("line\nbreak"s));
  EXPECT_EQ(value_of(line, "d"), MetricValue("tab\there"s));
  EXPECT_EQ(value_of(line, "e"), MetricValue(""s));
  EXPECT_EQ(value_of(line, "f"), MetricValue("x=1 # not a comment"s));
  EXPECT_EQ(value_of(line, "g"), MetricValue("raw\ttab"s));
}

TEST(ProtocolLine, AcceptsMultiByteUtf8InStrings) {
  // Two-, three- and four-byte sequences, and the largest code point.
  const std::string text = "h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF";
  const MetricLine line = expect_line("s=\"" + text + "\"");
  EXPECT_EQ(value_of(line, "s"), MetricValue(text));
}

TEST(ProtocolLine, TakesStepAndProgressAsTheKey) {
  const MetricLine line = expect_line("progress=2 step=0");
  EXPECT_EQ(line.step, 0);
  EXPECT_EQ(line.progress, 2.0) << "an integer progress is taken as a double";
  EXPECT_TRUE(line.values.empty()) << "step and progress are not metric columns";
}

TEST(ProtocolLine, NormalisesNegativeZeroProgress) {
  const MetricLine line = expect_line("progress=-0.0");
  ASSERT_TRUE(line.progress.has_value());
  EXPECT_EQ(*line.progress, 0.0);
  EXPECT_FALSE(std::signbit(*line.progress)) << "-0.0 would be a second spelling of the key 0.0";
}

TEST(ProtocolLine, TreatsKeysAsCaseSensitive) {
  const MetricLine line = expect_line("Step=1 step=2");
  EXPECT_EQ(line.step, 2);
  EXPECT_EQ(value_of(line, "Step"), MetricValue(std::int64_t{1}));
}

TEST(ProtocolLine, AcceptsKeysUpTo63Bytes) {
  const std::string longest = "_" + std::string(61, 'a') + "9";
  const MetricLine line = expect_line(longest + "=1 _=2 A_1=3");
  EXPECT_EQ(keys_of(line), (std::vector<std::string>{longest, "_", "A_1"}));
}

TEST(ProtocolLine, TakesKeysAsPeopleWriteThem) {
  // Keys are kept as written; metric_column_name() maps them to a column name later.
  const MetricLine line = expect_line(
      "val/loss=1 val.acc=2 val-top1=3 valLoss=4 l\xC3\xB6ss=5 \"Val Loss\"=6 "
      "\"a=b \\\"c\\\"\"=7 1st=8");
  EXPECT_EQ(keys_of(line),
            (std::vector<std::string>{"val/loss", "val.acc", "val-top1", "valLoss", "l\xC3\xB6ss",
                                      "Val Loss", "a=b \"c\"", "1st"}));
  const MetricLine json = expect_line(R"({"Val Loss": 1, "train/acc": 2, "lr-AdamW": 3})");
  EXPECT_EQ(keys_of(json), (std::vector<std::string>{"Val Loss", "train/acc", "lr-AdamW"}));
}

TEST(ProtocolLine, AllowsAnyBlanksBetweenPairs) {
  const MetricLine line = expect_line(" \t a=1  \t b=\"x\"\t");
  EXPECT_EQ(keys_of(line), (std::vector<std::string>{"a", "b"}));
}

TEST(ProtocolLine, StripsLineEndingsAndByteOrderMark) {
  for (const std::string text : {"a=1\r", "a=1\r\n", "a=1\n",
                                 "\xEF\xBB\xBF"
                                 "a=1"}) {
    const MetricLine line = expect_line(text);
    EXPECT_EQ(value_of(line, "a"), MetricValue(std::int64_t{1}))
        << "input " << testing::PrintToString(text);
  }
}

TEST(ProtocolLine, IgnoresBlankAndCommentLines) {
  for (const std::string text : {"", " ", "\t \t", "\r", "\r\n", "\n", "# a comment",
                                 "   #step=1 loss=2", "#", "\xEF\xBB\xBF  # BOM then comment"}) {
    EXPECT_TRUE(std::holds_alternative<IgnoredMetricLine>(parse_metric_line(text)))
        << "expected " << testing::PrintToString(text) << " to be ignored";
  }
}

TEST(ProtocolLine, AcceptsALineOfExactlyTheLimit) {
  const std::string prefix = "s=\"";
  std::string text = prefix + std::string(kMaxMetricLineBytes - prefix.size() - 1, 'x') + "\"";
  ASSERT_EQ(text.size(), kMaxMetricLineBytes);
  EXPECT_EQ(expect_line(text).values.size(), 1u);
  EXPECT_EQ(expect_line(text + "\r\n").values.size(), 1u) << "the line ending does not count";
}

TEST(ProtocolErrors, RefusesALineOverTheLimit) {
  const std::string text = "s=\"" + std::string(kMaxMetricLineBytes, 'x') + "\"";
  const MetricParseError error = expect_error(text);
  EXPECT_EQ(error.reason, "line is 65540 bytes, longer than the 65536-byte limit");
  EXPECT_EQ(error.column, kMaxMetricLineBytes + 1);
}

struct ErrorCase {
  std::string line;
  std::string reason;
  std::size_t column;
};

void PrintTo(const ErrorCase& error_case, std::ostream* out) {
  *out << testing::PrintToString(error_case.line);
}

class ProtocolErrorCases : public testing::TestWithParam<ErrorCase> {};

TEST_P(ProtocolErrorCases, ExplainsTheProblem) {
  const ErrorCase& expected = GetParam();
  const MetricParseError error = expect_error(expected.line);
  EXPECT_EQ(error.reason, expected.reason) << "line " << testing::PrintToString(expected.line);
  EXPECT_EQ(error.column, expected.column) << "line " << testing::PrintToString(expected.line);
}

const std::string kQuoteKey = ": a key with '\"', '=' or blanks goes in double quotes";
const std::string kNotAValue = " is not a number, bool, timestamp or quoted string: ";
const std::string kQuoteHint = " (put text in double quotes)";
const std::string kNotATimestamp = " is not a timestamp YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]: ";

INSTANTIATE_TEST_SUITE_P(
    ProtocolSyntax, ProtocolErrorCases,
    testing::Values(ErrorCase{"loss 0.5", "expected key=value, got: loss", 1},
                    ErrorCase{"a=1 loss", "expected key=value, got: loss", 5},
                    ErrorCase{"=5", "missing key before '=': =5", 1},
                    ErrorCase{"a=1 x\"y=2", "invalid key 'x\"y'" + kQuoteKey, 5},
                    ErrorCase{"a\x01"
                              "b=1",
                              "invalid key 'a\\x01b': it contains the control byte 0x01", 2},
                    ErrorCase{"l\xC3ss=1", "key is not valid UTF-8: unexpected byte 0xC3", 2},
                    ErrorCase{"\"q\"",
                              "expected '=' after the quoted key 'q', got the end of the line", 4},
                    ErrorCase{"\"q\" =1", "expected '=' after the quoted key 'q', got:  =1", 4},
                    ErrorCase{"\"q=1", "quoted key has no closing quote: \"q=1", 1},
                    ErrorCase{"\"\"=1", "a key must not be empty", 1},
                    ErrorCase{"\"a\\nb\"=1", "key 'a\\x0Ab' contains the control byte 0x0A", 1},
                    ErrorCase{std::string(64, 'k') + "=1",
                              "key '" + std::string(40, 'k') + "...' is longer than 63 bytes", 1},
                    ErrorCase{"a=1 run_id=3", "key 'run_id' is reserved: sqltrack-run sets it", 5},
                    ErrorCase{"a=1 b=2 a=3", "key 'a' is given more than once", 9},
                    ErrorCase{"step=1 step=2", "key 'step' is given more than once", 8},
                    ErrorCase{"a= b=1", "value for 'a' is empty", 3},
                    ErrorCase{"a=", "value for 'a' is empty", 3}));

INSTANTIATE_TEST_SUITE_P(
    ProtocolUnquotedValues, ProtocolErrorCases,
    testing::Values(
        ErrorCase{"train_loss=0.5.3", "value for 'train_loss'" + kNotAValue + "0.5.3" + kQuoteHint,
                  12},
        ErrorCase{"phase=warm up", "value for 'phase'" + kNotAValue + "warm" + kQuoteHint, 7},
        ErrorCase{"a=+5", "value for 'a'" + kNotAValue + "+5" + kQuoteHint, 3},
        ErrorCase{"a=0x10", "value for 'a'" + kNotAValue + "0x10" + kQuoteHint, 3},
        ErrorCase{"a=nan(1)", "value for 'a'" + kNotAValue + "nan(1)" + kQuoteHint, 3},
        ErrorCase{"a=--1", "value for 'a'" + kNotAValue + "--1" + kQuoteHint, 3},
        ErrorCase{"a=-", "value for 'a'" + kNotAValue + "-" + kQuoteHint, 3},
        ErrorCase{"a=1e", "value for 'a'" + kNotAValue + "1e" + kQuoteHint, 3},
        ErrorCase{"a=yes", "value for 'a'" + kNotAValue + "yes" + kQuoteHint, 3},
        ErrorCase{"a=truth", "value for 'a'" + kNotAValue + "truth" + kQuoteHint, 3},
        ErrorCase{"a=\x1B[31m", "value for 'a'" + kNotAValue + "\\x1B[31m" + kQuoteHint, 3},
        ErrorCase{"a=1\0"s, "value for 'a'" + kNotAValue + "1\\x00" + kQuoteHint, 3},
        ErrorCase{"a=" + std::string(50, 'z'),
                  "value for 'a'" + kNotAValue + std::string(40, 'z') + "..." + kQuoteHint, 3},
        ErrorCase{"a=9223372036854775808",
                  "value for 'a' is outside the 64-bit integer range: 9223372036854775808", 3},
        ErrorCase{"a=-9223372036854775809",
                  "value for 'a' is outside the 64-bit integer range: -9223372036854775809", 3},
        ErrorCase{"a=1e400", "value for 'a' is outside the range of a double: 1e400", 3},
        ErrorCase{"t=2026-13-01T00:00:00Z",
                  "value for 't'" + kNotATimestamp + "2026-13-01T00:00:00Z" + kQuoteHint, 3},
        ErrorCase{"t=2026-11-23", "value for 't'" + kNotATimestamp + "2026-11-23" + kQuoteHint,
                  3}));

INSTANTIATE_TEST_SUITE_P(
    ProtocolQuotedStrings, ProtocolErrorCases,
    testing::Values(
        ErrorCase{"a=1 s=\"abc", "value for 's' has no closing quote: \"abc", 7},
        ErrorCase{"s=\"abc\\", "value for 's' has no closing quote: \"abc\\", 3},
        ErrorCase{"s=\"abc\\\"", "value for 's' has no closing quote: \"abc\\\"", 3},
        ErrorCase{"s=\"a\\x\"",
                  "value for 's' has an unknown escape \\x (known: \\\" \\\\ \\n \\r \\t)", 5},
        ErrorCase{"s=\"a\\u00e9\"",
                  "value for 's' has an unknown escape \\u (known: \\\" \\\\ \\n \\r \\t)", 5},
        ErrorCase{"s=\"a\x01"
                  "b\"",
                  "value for 's' contains the control byte 0x01 (write \\n or \\t for a newline or "
                  "tab)",
                  5},
        ErrorCase{"s=\"a\0b\""s,
                  "value for 's' contains the control byte 0x00 (write \\n or \\t for a newline or "
                  "tab)",
                  5},
        ErrorCase{"s=\"a\nb\"",
                  "value for 's' contains the control byte 0x0A (write \\n or \\t for a newline or "
                  "tab)",
                  5},
        ErrorCase{"s=\"x\"y",
                  "value for 's' must be followed by a space after its closing quote, got: y", 6},
        ErrorCase{"s=\"x\"\"y\"",
                  "value for 's' must be followed by a space after its closing quote, got: \"y\"",
                  6}));

const std::string kNotUtf8 = "value for 's' is not valid UTF-8: unexpected byte ";

INSTANTIATE_TEST_SUITE_P(
    ProtocolInvalidUtf8, ProtocolErrorCases,
    testing::Values(ErrorCase{"s=\"ok\xFF\"", kNotUtf8 + "0xFF", 6},
                    ErrorCase{"s=\"\x80\"", kNotUtf8 + "0x80", 4},          // stray continuation
                    ErrorCase{"s=\"\xC0\xAF\"", kNotUtf8 + "0xC0", 4},      // overlong '/'
                    ErrorCase{"s=\"\xE0\x80\xAF\"", kNotUtf8 + "0xE0", 4},  // overlong, 3 bytes
                    ErrorCase{"s=\"\xED\xA0\x80\"", kNotUtf8 + "0xED", 4},  // a surrogate
                    ErrorCase{"s=\"\xF4\x90\x80\x80\"", kNotUtf8 + "0xF4", 4},  // above U+10FFFF
                    ErrorCase{"s=\"\xE2\x82\"", kNotUtf8 + "0xE2", 4},          // cut short
                    ErrorCase{"s=\"\xE2\x82", kNotUtf8 + "0xE2", 4}));          // cut by line end

INSTANTIATE_TEST_SUITE_P(
    ProtocolStepAndProgress, ProtocolErrorCases,
    testing::Values(ErrorCase{"step=1.5", "step must be a non-negative integer, got: 1.5", 6},
                    ErrorCase{"step=1e3", "step must be a non-negative integer, got: 1e3", 6},
                    ErrorCase{"step=\"3\"", "step must be a non-negative integer, got: \"3\"", 6},
                    ErrorCase{"step=true", "step must be a non-negative integer, got: true", 6},
                    ErrorCase{"step=-1", "step must not be negative, got: -1", 6},
                    ErrorCase{"progress=true", "progress must be a number, got: true", 10},
                    ErrorCase{"progress=2026-11-23T10:15:30Z",
                              "progress must be a number, got: 2026-11-23T10:15:30Z", 10},
                    ErrorCase{"progress=nan", "progress must be a finite number, got: nan", 10},
                    ErrorCase{"progress=-inf", "progress must be a finite number, got: -inf", 10}));

const std::string kNested = "; only numbers, bools and strings are allowed";

INSTANTIATE_TEST_SUITE_P(
    ProtocolJson, ProtocolErrorCases,
    testing::Values(
        ErrorCase{R"({"a": {"b": 1}})", "value for 'a' is an object" + kNested, 1},
        ErrorCase{R"(  {"a": [1, 2]})", "value for 'a' is an array" + kNested, 3},
        ErrorCase{R"({"a": 1, "a": 2})", "key 'a' is given more than once", 1},
        ErrorCase{R"({"a\tb": 1})", "key 'a\\x09b' contains the control byte 0x09", 1},
        ErrorCase{R"({"": 1})", "a key must not be empty", 1},
        ErrorCase{R"({"run_id": 1})", "key 'run_id' is reserved: sqltrack-run sets it", 1},
        ErrorCase{R"({"a": 9223372036854775808})",
                  "value for 'a' is outside the 64-bit integer range: 9223372036854775808", 1},
        ErrorCase{R"({"a": -99999999999999999999})",
                  "value for 'a' is outside the 64-bit integer range: -99999999999999999999", 1},
        ErrorCase{R"({"a": 1e400})", "value for 'a' is outside the range of a double: 1e400", 11},
        ErrorCase{
            "{\"a\": 1" + std::string(400, '0') + "}",
            "value for 'a' is outside the 64-bit integer range: 1" + std::string(39, '0') + "...",
            407},
        ErrorCase{R"({"s": "a\u0000b"})", "value for 's' contains a NUL character", 1},
        ErrorCase{R"({"step": 1.0})", "step must be a non-negative integer, got: 1.0", 1},
        ErrorCase{R"({"step": -2})", "step must not be negative, got: -2", 1},
        ErrorCase{R"({"step": "2"})", "step must be a non-negative integer, got: \"2\"", 1},
        ErrorCase{R"({"progress": false})", "progress must be a number, got: false", 1}));

// The parser's own wording follows "invalid JSON: "; only its start and the column are ours.
TEST(ProtocolJson, ReportsSyntaxErrorsWithTheirColumn) {
  struct SyntaxCase {
    std::string line;
    std::size_t column;
  };
  for (const SyntaxCase& syntax :
       {SyntaxCase{R"({"a": x})", 7}, SyntaxCase{R"(  {"a": x})", 9}, SyntaxCase{R"({"a": 1)", 8},
        SyntaxCase{R"({"a": 1} b=2)", 10}, SyntaxCase{"{\"s\": \"\xFF\"}", 8}}) {
    const MetricParseError error = expect_error(syntax.line);
    EXPECT_TRUE(error.reason.starts_with("invalid JSON: syntax error"))
        << "line " << testing::PrintToString(syntax.line) << " gave: " << error.reason;
    EXPECT_EQ(error.column, syntax.column)
        << "line " << testing::PrintToString(syntax.line) << " gave: " << error.reason;
  }
}

TEST(ProtocolJson, ParsesAnObjectLikeAKeyValueLine) {
  const MetricLine line = expect_line(
      R"({"step": 3, "progress": 0.03, "loss": 0.52, "n": -4, "big": 18446744073, "ok": true, "phase": "warm up", "e": "\u00e9\n"})");
  EXPECT_EQ(line.step, 3);
  EXPECT_EQ(line.progress, 0.03);
  EXPECT_EQ(keys_of(line), (std::vector<std::string>{"loss", "n", "big", "ok", "phase", "e"}))
      << "values keep the object's order";
  EXPECT_EQ(value_of(line, "loss"), MetricValue(0.52));
  EXPECT_EQ(value_of(line, "n"), MetricValue(std::int64_t{-4}));
  EXPECT_EQ(value_of(line, "big"), MetricValue(std::int64_t{18446744073}));
  EXPECT_EQ(value_of(line, "ok"), MetricValue(true));
  EXPECT_EQ(value_of(line, "phase"), MetricValue("warm up"s));
  EXPECT_EQ(value_of(line, "e"), MetricValue("\xC3\xA9\n"s));
}

TEST(ProtocolJson, TakesIntegerProgressAndNormalisesNegativeZero) {
  EXPECT_EQ(expect_line(R"({"progress": 1})").progress, 1.0);
  const MetricLine line = expect_line(R"({"progress": -0.0})");
  ASSERT_TRUE(line.progress.has_value());
  EXPECT_FALSE(std::signbit(*line.progress));
}

TEST(ProtocolJson, AcceptsInt64Limits) {
  const MetricLine line =
      expect_line(R"({"max": 9223372036854775807, "min": -9223372036854775808, "f": 1.5e300})");
  EXPECT_EQ(value_of(line, "max"), MetricValue(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(value_of(line, "min"), MetricValue(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(value_of(line, "f"), MetricValue(1.5e300));
}

TEST(ProtocolJson, TurnsTimestampStringsIntoTimestamps) {
  const MetricLine line = expect_line(
      R"({"t": "2026-11-23T10:15:30.123+0100", "spaced": "2026-11-23 10:15:30", "date": "2026-11-23", "text": "hello"})");
  EXPECT_EQ(value_of(line, "t"), timestamp("2026-11-23T10:15:30.123+01:00"));
  EXPECT_EQ(value_of(line, "spaced"), MetricValue("2026-11-23 10:15:30"s))
      << "only the unquoted timestamp grammar makes a timestamp";
  EXPECT_EQ(value_of(line, "date"), MetricValue("2026-11-23"s));
  EXPECT_EQ(value_of(line, "text"), MetricValue("hello"s));
}

TEST(ProtocolJson, SkipsNullValues) {
  const MetricLine line = expect_line(R"({"step": null, "a": null, "b": 1})");
  EXPECT_EQ(line.step, std::nullopt);
  EXPECT_EQ(keys_of(line), (std::vector<std::string>{"b"}));
}

TEST(ProtocolJson, AcceptsAnEmptyObjectAndSurroundingBlanks) {
  EXPECT_TRUE(expect_line("{}").values.empty());
  EXPECT_EQ(expect_line(" \t{\"a\": 1}  \r\n").values.size(), 1u);
}

// Inputs a fuzzer would try: many keys, many repeats. Each must stay linear, and correct.
TEST(ProtocolRobustness, HandlesALineOfThousandsOfKeys) {
  std::string text;
  for (int i = 0; i < 8000; ++i) text += "k" + std::to_string(i) + "=1 ";
  ASSERT_LE(text.size(), kMaxMetricLineBytes);
  EXPECT_EQ(expect_line(text).values.size(), 8000u);

  const MetricParseError error = expect_error(text + "k7999=2");
  EXPECT_EQ(error.reason, "key 'k7999' is given more than once");
  EXPECT_EQ(error.column, text.size() + 1);
}

TEST(ProtocolRobustness, HandlesLongRunsOfSpecialBytes) {
  for (const char special : {'=', '"', '\\', ' ', '#', '{', '\xFF', '-', '9'}) {
    const std::string text(kMaxMetricLineBytes, special);
    const MetricParseResult result = parse_metric_line(text);
    if (const auto* error = std::get_if<MetricParseError>(&result)) {
      EXPECT_GE(error->column, 1u) << "byte " << int{special};
      EXPECT_LE(error->column, text.size() + 1) << "byte " << int{special};
      EXPECT_FALSE(error->reason.empty()) << "byte " << int{special};
      EXPECT_LE(error->reason.size(), 300u) << "a reason should stay short, got: " << error->reason;
    }
  }
}

// Random bytes from an alphabet of the protocol's special characters: every result must be one
// of the three kinds, and errors must point inside the line. Under the sanitizer build this
// also catches out-of-range reads.
TEST(ProtocolRobustness, SurvivesRandomInput) {
  constexpr std::string_view kAlphabet = "ab_09=\" \t\\#{}[]:,.-+eE\xC3\xA9\xFF\r\nTZnt";
  std::mt19937 random(20261123);
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::uniform_int_distribution<std::size_t> length(0, 60);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const std::size_t size = length(random);
    for (std::size_t j = 0; j < size; ++j) text += kAlphabet[pick(random)];
    const MetricParseResult result = parse_metric_line(text);
    if (const auto* error = std::get_if<MetricParseError>(&result)) {
      ASSERT_GE(error->column, 1u) << testing::PrintToString(text) << ": " << error->reason;
      ASSERT_LE(error->column, text.size() + 1)
          << testing::PrintToString(text) << ": " << error->reason;
    }
  }
}

// The library's writer (used for the spill and reject files) must write what the parser reads
// back as the same values.
TEST(ProtocolRobustness, ParsesBackWhatAWriterFormats) {
  std::mt19937_64 random(42);
  const std::vector<std::string> strings = {
      "",  "warm up", "a\"b", "c\\d", "e\nf", "g\rh\ti", "x=1 y=2", "\xC3\xA9\xE2\x9C\x93",
      "#", "{",       "\\",   "nan",  "42"};
  const std::vector<double> special_doubles = {0.0,
                                               -0.0,
                                               3.0,
                                               -1e15,
                                               1e22,
                                               std::numeric_limits<double>::quiet_NaN(),
                                               std::numeric_limits<double>::infinity(),
                                               -std::numeric_limits<double>::infinity(),
                                               std::numeric_limits<double>::denorm_min(),
                                               std::numeric_limits<double>::max()};
  for (int i = 0; i < 2000; ++i) {
    MetricLine written;
    written.step = static_cast<std::int64_t>(random() >> 1);
    written.progress = std::ldexp(static_cast<double>(random() % 1000000), -10);
    std::string text = "step=" + format_metric_value(*written.step);
    text += " progress=" + format_metric_value(*written.progress);
    for (int column = 0; column < 6; ++column) {
      MetricValue value;
      switch (random() % 7) {
        case 0:
          value = static_cast<std::int64_t>(random());
          break;
        case 1:
          value = std::bit_cast<double>(random() & ~(std::uint64_t{0x7FF} << 52)) * 1e300;
          break;
        case 2:
          value = random() % 2 == 0;
          break;
        case 3:
          value = strings[random() % strings.size()];
          break;
        case 4:
          // Integral doubles: written with ".0", so they read back as floats.
          value = static_cast<double>(static_cast<std::int64_t>(random() % 2000001) - 1000000);
          break;
        case 5:
          value = special_doubles[random() % special_doubles.size()];
          break;
        default:
          value = MetricTimestamp{"2026-11-23T10:15:30.5-01:00"};
          break;
      }
      const std::string key = "m" + std::to_string(column);
      text += " " + key + "=" + format_metric_value(value);
      written.values.emplace_back(key, std::move(value));
    }
    const MetricLine read = expect_line(text);
    ASSERT_EQ(read.step, written.step) << text;
    ASSERT_EQ(read.progress, written.progress) << text;
    ASSERT_EQ(read.values.size(), written.values.size()) << text;
    for (std::size_t j = 0; j < written.values.size(); ++j) {
      ASSERT_EQ(read.values[j].first, written.values[j].first) << text;
      ASSERT_TRUE(test::same_metric_value(read.values[j].second, written.values[j].second))
          << "expected " << testing::PrintToString(written.values[j].second) << " for "
          << written.values[j].first << ", got " << testing::PrintToString(read.values[j].second)
          << " from: " << text;
    }
  }
}

// A printed number, not a test of speed: shared machines make timings unreliable.
TEST(ProtocolThroughput, PrintsLinesPerSecond) {
  const std::vector<std::string> lines = {
      R"(step=1234 progress=0.1234 train_loss=0.5213 val_top1=0.9134 lr=0.001 phase="warm up")",
      R"(step=1235 progress=0.1235 train_loss=0.5209 val_top1=0.9135 lr=0.001 phase="train")",
      R"(step=1236 train_loss=0.52 grad_norm=1.25e-3 epoch=4 done=false)",
  };
  constexpr int kRounds = 100000;
  std::size_t values = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < kRounds; ++round) {
    for (const std::string& line : lines) {
      const MetricParseResult result = parse_metric_line(line);
      values += std::get<MetricLine>(result).values.size();
    }
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  const double lines_per_second = kRounds * static_cast<double>(lines.size()) / elapsed.count();
  EXPECT_EQ(values, static_cast<std::size_t>(kRounds) * 12);
  std::cout << "[ protocol ] " << static_cast<long long>(lines_per_second)
            << " lines/s (6-key key=value lines, one thread)\n";
  RecordProperty("lines_per_second", static_cast<int>(std::min(lines_per_second, 2e9)));
}

}  // namespace
}  // namespace sqltrack
