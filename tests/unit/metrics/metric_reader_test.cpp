#include "sqltrack/metrics/metric_reader.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sqltrack {
namespace {

using namespace std::string_literals;

// What a LineSplitter emitted, one entry per call.
struct Emitted {
  std::string line;
  bool too_long = false;
  bool operator==(const Emitted&) const = default;
};

void PrintTo(const Emitted& emitted, std::ostream* out) {
  *out << (emitted.too_long ? "too long: " : "line: ") << testing::PrintToString(emitted.line);
}

struct Collector {
  std::vector<Emitted> lines;
  LineSplitter::Emit emit() {
    return [this](std::string_view line, std::uint64_t length) {
      lines.push_back({std::string(line), length > line.size()});
    };
  }
};

std::vector<Emitted> ok(std::vector<std::string> lines) {
  std::vector<Emitted> out;
  for (auto& line : lines) out.push_back({std::move(line), false});
  return out;
}

TEST(LineSplitter, SplitsManyLinesInOneFeed) {
  LineSplitter splitter;
  Collector got;
  splitter.feed("a=1\nb=2\n\nc=3\n", got.emit());
  EXPECT_EQ(got.lines, ok({"a=1", "b=2", "", "c=3"})) << "a blank line is a line too";
}

TEST(LineSplitter, JoinsALineSplitAcrossFeedsByteByByte) {
  const std::string stream = "step=1 loss=0.5\nphase=\"x\"\n\nlast=1\n";
  LineSplitter splitter;
  Collector got;
  for (const char c : stream) splitter.feed(std::string_view(&c, 1), got.emit());
  EXPECT_EQ(got.lines, ok({"step=1 loss=0.5", "phase=\"x\"", "", "last=1"}));
}

TEST(LineSplitter, JoinsLinesSplitAtEveryPossiblePoint) {
  const std::string stream = "ab\ncd\nef";
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    LineSplitter splitter;
    Collector got;
    splitter.feed(std::string_view(stream).substr(0, cut), got.emit());
    splitter.feed(std::string_view(stream).substr(cut), got.emit());
    splitter.finish(got.emit());
    EXPECT_EQ(got.lines, ok({"ab", "cd", "ef"})) << "cut after " << cut << " bytes";
  }
}

TEST(LineSplitter, LeavesCarriageReturnsToTheParser) {
  LineSplitter splitter;
  Collector got;
  splitter.feed("a=1\r\nb=2\r", got.emit());
  splitter.feed("\n", got.emit());
  EXPECT_EQ(got.lines, ok({"a=1\r", "b=2\r"}));
}

TEST(LineSplitter, EmitsTheLastLineWithoutNewlineOnFinish) {
  LineSplitter splitter;
  Collector got;
  splitter.feed("a=1\nb=", got.emit());
  EXPECT_EQ(got.lines, ok({"a=1"})) << "a partial line waits for its newline";
  splitter.feed("2", got.emit());
  splitter.finish(got.emit());
  EXPECT_EQ(got.lines, ok({"a=1", "b=2"}));
  splitter.finish(got.emit());
  EXPECT_EQ(got.lines, ok({"a=1", "b=2"})) << "a second finish emits nothing";
}

TEST(LineSplitter, FinishAfterANewlineEmitsNothing) {
  LineSplitter splitter;
  Collector got;
  splitter.feed("a=1\n", got.emit());
  splitter.finish(got.emit());
  EXPECT_EQ(got.lines, ok({"a=1"}));
}

TEST(LineSplitter, AcceptsALineOfExactlyTheLimit) {
  LineSplitter splitter(5);
  Collector got;
  splitter.feed("abcde\nab", got.emit());
  splitter.feed("cde\n", got.emit());
  splitter.feed("abcde", got.emit());
  splitter.finish(got.emit());
  EXPECT_EQ(got.lines, ok({"abcde", "abcde", "abcde"}));
}

TEST(LineSplitter, ReportsALongLineOnceWithItsFirstBytes) {
  LineSplitter splitter(5);
  Collector got;
  splitter.feed("abcdefghij\nok\n", got.emit());
  EXPECT_EQ(got.lines, (std::vector<Emitted>{{"abcde", true}, {"ok", false}}));
}

TEST(LineSplitter, ReportsALongLineFedByteByByteOnce) {
  const std::string stream = "abcdefghijklmnop\nnext\n";
  LineSplitter splitter(5);
  Collector got;
  for (const char c : stream) splitter.feed(std::string_view(&c, 1), got.emit());
  EXPECT_EQ(got.lines, (std::vector<Emitted>{{"abcde", true}, {"next", false}}));
}

TEST(LineSplitter, SkipsTheRestOfALongLineAcrossFeeds) {
  LineSplitter splitter(5);
  Collector got;
  splitter.feed("abc", got.emit());
  splitter.feed("defg", got.emit());
  splitter.feed(std::string(100, 'x'), got.emit());
  splitter.feed("y\\n=\"", got.emit());
  splitter.feed("\nfine\nlong line again\nz", got.emit());
  splitter.finish(got.emit());
  EXPECT_EQ(got.lines, (std::vector<Emitted>{
                           {"abcde", true}, {"fine", false}, {"long ", true}, {"z", false}}));
}

TEST(LineSplitter, ALongLastLineWithoutNewlineIsReportedOnlyOnce) {
  LineSplitter splitter(5);
  Collector got;
  splitter.feed("abcdefgh", got.emit());
  splitter.finish(got.emit());
  EXPECT_EQ(got.lines, (std::vector<Emitted>{{"abcde", true}}));
  splitter.feed("ok\n", got.emit());
  EXPECT_EQ(got.lines, (std::vector<Emitted>{{"abcde", true}, {"ok", false}}))
      << "finish ends the skipping too";
}

TEST(LineSplitter, ReportsALongLineWhenItEndsWithItsWholeLength) {
  LineSplitter splitter(5);
  std::vector<std::pair<std::string, std::uint64_t>> got;
  auto emit = [&](std::string_view line, std::uint64_t length) {
    got.emplace_back(std::string(line), length);
  };
  splitter.feed("abc", emit);
  splitter.feed(std::string(1000, 'x'), emit);
  EXPECT_TRUE(got.empty()) << "not before the line ends";
  splitter.feed("y\nok\n", emit);
  splitter.feed("0123456789", emit);
  splitter.finish(emit);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::uint64_t>>{
                     {"abcxx", 1004}, {"ok", 2}, {"01234", 10}}));
}

TEST(LineSplitter, ANewlineRightAfterTheLimitEndsTheSkip) {
  LineSplitter splitter(5);
  Collector got;
  splitter.feed("abcdef", got.emit());
  splitter.feed("\n", got.emit());
  splitter.feed("g\n", got.emit());
  EXPECT_EQ(got.lines, (std::vector<Emitted>{{"abcde", true}, {"g", false}}));
}

TEST(LineSplitter, ResetDropsAPartialLine) {
  LineSplitter splitter;
  Collector got;
  splitter.feed("a=1\npartial=", got.emit());
  splitter.reset(got.emit());
  splitter.feed("b=2\n", got.emit());
  splitter.finish(got.emit());
  EXPECT_EQ(got.lines, ok({"a=1", "b=2"}));
}

TEST(LineSplitter, ResetEndsTheSkippingOfALongLine) {
  LineSplitter splitter(5);
  Collector got;
  splitter.feed("abcdefgh", got.emit());
  splitter.reset(got.emit());
  splitter.feed("ok\n", got.emit());
  EXPECT_EQ(got.lines, (std::vector<Emitted>{{"abcde", true}, {"ok", false}}));
}

TEST(LineSplitter, DefaultLimitLeavesRoomForTheParsersLimit) {
  // The parser's limit applies after "\r" is stripped, and a byte order mark counts: the
  // splitter must not cut a line the parser would accept.
  const std::string line = "\xEF\xBB\xBF" + std::string(kMaxMetricLineBytes - 3, 'x') + "\r";
  LineSplitter splitter;
  Collector got;
  splitter.feed(line + "\n", got.emit());
  ASSERT_EQ(got.lines.size(), 1u);
  EXPECT_FALSE(got.lines[0].too_long);
  EXPECT_EQ(got.lines[0].line.size(), line.size());
}

// --- MetricReader ---

struct Reject {
  LineOrigin origin;
  std::string reason;
  std::string line;
};

class MetricReaderTest : public testing::Test {
 protected:
  MetricReader reader{[this](PendingMetricRow row) { rows.push_back(std::move(row)); },
                      [this](LineOrigin origin, std::string_view reason, std::string_view line) {
                        rejects.push_back({origin, std::string(reason), std::string(line)});
                      }};
  std::vector<PendingMetricRow> rows;
  std::vector<Reject> rejects;
};

MetricValue integer(std::int64_t value) {
  return value;
}

TEST_F(MetricReaderTest, NamesItsSources) {
  const std::uint32_t env = reader.add_source("SQLTRACK_METRICS");
  const std::uint32_t file = reader.add_source("/tmp/metrics.txt");
  EXPECT_EQ(env, 0u);
  EXPECT_EQ(file, 1u);
  EXPECT_EQ(reader.source_name(env), "SQLTRACK_METRICS");
  EXPECT_EQ(reader.source_name(file), "/tmp/metrics.txt");
}

TEST_F(MetricReaderTest, TurnsLinesIntoRowsWithTheirOrigin) {
  const std::uint32_t source = reader.add_source("fd 5");
  reader.feed(source, "step=2 progress=0.5 loss=1.5 phase=\"a b\"\nloss=1.25\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rejects.empty());
  EXPECT_EQ(rows[0].origin.source, source);
  EXPECT_EQ(rows[0].origin.line, 1u);
  EXPECT_EQ(rows[0].row.step, 2);
  EXPECT_EQ(rows[0].row.progress, 0.5);
  EXPECT_EQ(rows[0].row.values, (MetricValues{{"loss", 1.5}, {"phase", "a b"s}}));
  EXPECT_EQ(rows[1].origin.line, 2u);
  EXPECT_EQ(rows[1].row.step, 2) << "a line without step keeps the last one";
  EXPECT_EQ(rows[1].row.progress, 0.5) << "and its progress";
  EXPECT_EQ(rows[1].row.values, (MetricValues{{"loss", 1.25}}));
  EXPECT_EQ(reader.lines_read(), 2u);
}

TEST_F(MetricReaderTest, CountsEveryLineIncludingBlankCommentAndBadOnes) {
  const std::uint32_t source = reader.add_source("s");
  reader.feed(source, "a=1\n\n# comment\nnot a pair\r\n   \nb=2\r\n");
  reader.feed(source, "c=3");
  reader.finish(source);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].origin.line, 1u);
  EXPECT_EQ(rows[1].origin.line, 6u) << "blank, comment and bad lines count too";
  EXPECT_EQ(rows[1].row.values, (MetricValues{{"b", integer(2)}})) << "CRLF is stripped";
  EXPECT_EQ(rows[2].origin.line, 7u) << "the last line without newline counts";
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].origin.line, 4u);
  EXPECT_EQ(reader.lines_read(), 7u);
}

TEST_F(MetricReaderTest, RejectsASyntaxErrorWithItsColumnAndTheLine) {
  const std::uint32_t first = reader.add_source("first");
  const std::uint32_t source = reader.add_source("second");
  reader.feed(source, "ok=1\na=1 loss\n");
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].origin.source, source);
  EXPECT_NE(rejects[0].origin.source, first);
  EXPECT_EQ(rejects[0].origin.line, 2u);
  EXPECT_EQ(rejects[0].reason, "column 5: expected key=value, got: loss");
  EXPECT_EQ(rejects[0].line, "a=1 loss") << "the line is given without its newline";
  EXPECT_EQ(rows.size(), 1u);
}

TEST_F(MetricReaderTest, RejectsValueErrorsWithTheParsersReason) {
  const std::uint32_t source = reader.add_source("s");
  reader.feed(source, "a=1 b=2 a=3\nx=9223372036854775808\n");
  ASSERT_EQ(rejects.size(), 2u);
  EXPECT_EQ(rejects[0].reason, "column 9: key 'a' is given more than once");
  EXPECT_EQ(rejects[1].reason,
            "column 3: value for 'x' is outside the 64-bit integer range: 9223372036854775808");
  EXPECT_EQ(rejects[1].origin.line, 2u);
  EXPECT_TRUE(rows.empty());
}

TEST_F(MetricReaderTest, RejectsATooLongLineAndReadsTheNext) {
  const std::uint32_t source = reader.add_source("s");
  const std::string huge = "a=\"" + std::string(kMaxMetricLineBytes + 100, 'x') + "\"";
  reader.feed(source, "step=1\n" + huge.substr(0, 1000));
  reader.feed(source, huge.substr(1000) + "\nb=2\n");
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].origin.line, 2u);
  EXPECT_EQ(rejects[0].reason, "line longer than " + std::to_string(kMaxMetricLineBytes) +
                                   " bytes (" + std::to_string(huge.size()) +
                                   " bytes; first bytes kept)");
  EXPECT_EQ(rejects[0].line, huge.substr(0, kMaxMetricLineBytes + 4))
      << "the reject holds the line's first bytes";
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].origin.line, 3u);
  EXPECT_EQ(rows[1].row.step, 1);
  EXPECT_EQ(rows[1].row.values, (MetricValues{{"b", integer(2)}}));
}

TEST_F(MetricReaderTest, RejectsALineJustOverTheParsersLimit) {
  // Within the splitter's slack, so the parser sees it and refuses it.
  const std::uint32_t source = reader.add_source("s");
  const std::string line = "a=\"" + std::string(kMaxMetricLineBytes - 3, 'x') + "\"";
  ASSERT_EQ(line.size(), kMaxMetricLineBytes + 1);
  reader.feed(source, line + "\n");
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].reason, "column " + std::to_string(kMaxMetricLineBytes + 1) + ": line is " +
                                   std::to_string(line.size()) + " bytes, longer than the " +
                                   std::to_string(kMaxMetricLineBytes) + "-byte limit");
  EXPECT_TRUE(rows.empty());
}

TEST_F(MetricReaderTest, KeepsStepAndProgressPerSource) {
  const std::uint32_t a = reader.add_source("a");
  const std::uint32_t b = reader.add_source("b");
  reader.feed(a, "step=10 progress=0.1 x=1\n");
  reader.feed(b, "step=20 progress=0.2 y=1\n");
  reader.feed(a, "x=2\n");
  reader.feed(b, "y=2\n");
  reader.feed(a, "step=11 x=3\n");
  reader.feed(b, "progress=0.25 y=3\n");
  reader.feed(a, "x=4\n");
  reader.feed(b, "y=4\n");
  struct Expected {
    std::uint32_t source;
    std::uint64_t line;
    std::int64_t step;
    double progress;
  };
  const std::vector<Expected> expected = {
      {a, 1, 10, 0.1}, {b, 1, 20, 0.2},  {a, 2, 10, 0.1}, {b, 2, 20, 0.2},
      {a, 3, 11, 0.0}, {b, 3, 20, 0.25}, {a, 4, 11, 0.0}, {b, 4, 20, 0.25},
  };
  ASSERT_EQ(rows.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(rows[i].origin.source, expected[i].source) << "row " << i;
    EXPECT_EQ(rows[i].origin.line, expected[i].line) << "row " << i;
    EXPECT_EQ(rows[i].row.step, expected[i].step) << "row " << i;
    EXPECT_EQ(rows[i].row.progress, expected[i].progress) << "row " << i;
  }
  EXPECT_EQ(reader.lines_read(), 8u);
}

TEST_F(MetricReaderTest, KeepsPartialLinesPerSource) {
  const std::uint32_t a = reader.add_source("a");
  const std::uint32_t b = reader.add_source("b");
  reader.feed(a, "x=");
  reader.feed(b, "y=");
  reader.feed(a, "1\n");
  reader.feed(b, "2\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].origin.source, a);
  EXPECT_EQ(rows[0].row.values, (MetricValues{{"x", integer(1)}}));
  EXPECT_EQ(rows[1].origin.source, b);
  EXPECT_EQ(rows[1].row.values, (MetricValues{{"y", integer(2)}}));
}

TEST_F(MetricReaderTest, FinishEmitsTheLastLineOfOneSourceOnly) {
  const std::uint32_t a = reader.add_source("a");
  const std::uint32_t b = reader.add_source("b");
  reader.feed(a, "x=1");
  reader.feed(b, "y=1");
  reader.finish(a);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].origin.source, a);
  reader.feed(b, "\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].row.values, (MetricValues{{"y", integer(1)}}));
}

TEST_F(MetricReaderTest, FinishEndsAFragmentSoTheNextWriterStartsANewLine) {
  // A writer left binary output without a newline, then closed the FIFO: the next
  // writer's first line must not be glued to it.
  const std::uint32_t source = reader.add_source("SQLTRACK_METRICS");
  reader.feed(source, "\x01\x02binary");
  reader.finish(source);
  reader.feed(source, "step=1 a=1\n");
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].line, "\x01\x02binary");
  EXPECT_EQ(rejects[0].origin.line, 1u);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].row.step, 1);
  EXPECT_EQ(rows[0].origin.line, 2u);
}

TEST_F(MetricReaderTest, RestartDropsAPartialLineAndKeepsCounting) {
  const std::uint32_t source = reader.add_source("file");
  reader.feed(source, "step=5 progress=0.5 a=1\nb=2\npartial=");
  reader.restart(source);
  reader.feed(source, "c=3\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(rejects.empty()) << "the dropped partial line is not an error: "
                               << (rejects.empty() ? "" : rejects[0].reason);
  EXPECT_EQ(rows[2].row.values, (MetricValues{{"c", integer(3)}}));
  EXPECT_EQ(rows[2].origin.line, 3u) << "numbering goes on after a restart";
  EXPECT_EQ(rows[2].row.step, 5) << "the stream's position is kept";
  EXPECT_EQ(rows[2].row.progress, 0.5);
}

TEST_F(MetricReaderTest, IgnoresBlankAndCommentLinesWithoutRejecting) {
  const std::uint32_t source = reader.add_source("s");
  reader.feed(source, "\n\r\n# step=1\n  \t\n\xEF\xBB\xBF\n");
  reader.finish(source);
  EXPECT_TRUE(rows.empty());
  EXPECT_TRUE(rejects.empty());
  EXPECT_EQ(reader.lines_read(), 5u);
}

TEST_F(MetricReaderTest, ThrowsForAnUnknownSource) {
  EXPECT_THROW(reader.feed(3, "a=1\n"), std::out_of_range);
  EXPECT_THROW(reader.source_name(0), std::out_of_range);
}

}  // namespace
}  // namespace sqltrack
