#include "sqltrack/metrics/metric_queue.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/metric_values.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using namespace std::string_literals;
using test::TempDir;

// Row number `n`: origin (n % 3, n + 1), step n, and a value that names it.
PendingMetricRow numbered(std::uint64_t n) {
  PendingMetricRow row;
  row.origin = {static_cast<std::uint32_t>(n % 3), n + 1};
  row.row.step = static_cast<std::int64_t>(n);
  row.row.progress = static_cast<double>(n) / 8.0;
  row.row.values = {{"n", static_cast<std::int64_t>(n)}};
  return row;
}

// Checks that `got` is rows first, first + 1, ... as numbered() made them.
testing::AssertionResult are_numbered_from(const std::vector<PendingMetricRow>& got,
                                           std::uint64_t first) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    const PendingMetricRow expected = numbered(first + i);
    const PendingMetricRow& row = got[i];
    if (row.origin.source != expected.origin.source || row.origin.line != expected.origin.line ||
        row.row.step != expected.row.step || row.row.progress != expected.row.progress ||
        row.row.values != expected.row.values) {
      return testing::AssertionFailure()
             << "row " << i << ": expected row #" << first + i << " (source "
             << expected.origin.source << ", line " << expected.origin.line << ", step "
             << expected.row.step << "), got source " << row.origin.source << ", line "
             << row.origin.line << ", step " << row.row.step << ", progress " << row.row.progress
             << ", values " << testing::PrintToString(row.row.values);
    }
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult same_values(const MetricValues& expected, const MetricValues& got) {
  if (expected.size() != got.size()) {
    return testing::AssertionFailure() << "expected " << expected.size() << " values, got "
                                       << got.size() << ": " << testing::PrintToString(got);
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (expected[i].first != got[i].first ||
        !test::same_metric_value(expected[i].second, got[i].second)) {
      return testing::AssertionFailure()
             << "value " << i << ": expected " << testing::PrintToString(expected[i]) << ", got "
             << testing::PrintToString(got[i]);
    }
  }
  return testing::AssertionSuccess();
}

TEST(MetricQueue, KeepsRowsInMemoryUpToTheLimit) {
  TempDir dir;
  const auto spill_path = dir / "spill";
  MetricQueue queue(3, spill_path);
  EXPECT_EQ(queue.push(numbered(0)), 1u);
  EXPECT_EQ(queue.push(numbered(1)), 2u);
  EXPECT_EQ(queue.push(numbered(2)), 3u);
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.spilled(), 0u);
  EXPECT_FALSE(std::filesystem::exists(spill_path)) << "no spill file before the limit";
  const auto rows = queue.take(10);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(are_numbered_from(rows, 0));
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_TRUE(queue.take(10).empty());
}

TEST(MetricQueue, SpillsRowsPastTheLimitAndReturnsThemInOrder) {
  TempDir dir;
  const auto spill_path = dir / "spill";
  MetricQueue queue(3, spill_path);
  for (std::uint64_t n = 0; n < 8; ++n) EXPECT_EQ(queue.push(numbered(n)), n + 1);
  EXPECT_EQ(queue.size(), 8u);
  EXPECT_EQ(queue.spilled(), 5u);
  EXPECT_TRUE(std::filesystem::exists(spill_path));

  const auto first = queue.take(2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_TRUE(are_numbered_from(first, 0));
  EXPECT_EQ(queue.size(), 6u);
  EXPECT_EQ(queue.spilled(), 5u) << "memory goes first";

  const auto second = queue.take(3);
  ASSERT_EQ(second.size(), 3u) << "the last memory row, then spilled rows";
  EXPECT_TRUE(are_numbered_from(second, 2));
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.spilled(), 3u);

  const auto rest = queue.take(100);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_TRUE(are_numbered_from(rest, 5));
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_EQ(queue.spilled(), 0u);
}

TEST(MetricQueue, TakeZeroTakesNothing) {
  TempDir dir;
  MetricQueue queue(1, dir / "spill");
  queue.push(numbered(0));
  queue.push(numbered(1));
  EXPECT_TRUE(queue.take(0).empty());
  EXPECT_EQ(queue.size(), 2u);
}

TEST(MetricQueue, RowsPushedWhileSomeAreSpilledFollowThemIntoTheFile) {
  TempDir dir;
  MetricQueue queue(3, dir / "spill");
  for (std::uint64_t n = 0; n < 5; ++n) queue.push(numbered(n));  // 0-2 memory, 3-4 spilled
  ASSERT_TRUE(are_numbered_from(queue.take(3), 0));               // memory now empty
  EXPECT_EQ(queue.push(numbered(5)), 3u);
  EXPECT_EQ(queue.spilled(), 3u) << "a row after spilled rows is spilled too, to keep the order";
  const auto one = queue.take(1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(are_numbered_from(one, 3));
  queue.push(numbered(6));
  const auto rest = queue.take(100);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_TRUE(are_numbered_from(rest, 4));
  // Drained: memory is used again, and the file starts over.
  EXPECT_EQ(queue.push(numbered(7)), 1u);
  EXPECT_EQ(queue.spilled(), 0u);
  EXPECT_TRUE(are_numbered_from(queue.take(1), 7));
}

TEST(MetricQueue, SpillsEverythingWithAZeroMemoryLimit) {
  TempDir dir;
  MetricQueue queue(0, dir / "spill");
  for (std::uint64_t n = 0; n < 4; ++n) queue.push(numbered(n));
  EXPECT_EQ(queue.spilled(), 4u);
  for (std::uint64_t n = 0; n < 4; ++n) {
    const auto one = queue.take(1);
    ASSERT_EQ(one.size(), 1u) << "take " << n;
    EXPECT_TRUE(are_numbered_from(one, n));
    EXPECT_EQ(queue.spilled(), 3 - n);
  }
}

// Random interleaving of pushes and takes against a plain deque: the order must be kept
// across every memory -> spill -> memory transition, and the counts must agree.
TEST(MetricQueue, KeepsTheOrderUnderInterleavedPushAndTake) {
  TempDir dir;
  MetricQueue queue(3, dir / "spill");
  std::mt19937 random(7);
  std::deque<std::uint64_t> model;
  std::uint64_t next = 0;
  std::size_t spill_phases = 0;
  bool was_spilling = false;
  for (int round = 0; round < 3000; ++round) {
    const int pushes = static_cast<int>(random() % 5);
    for (int i = 0; i < pushes; ++i) {
      ASSERT_EQ(queue.push(numbered(next)), model.size() + 1) << "round " << round;
      model.push_back(next++);
    }
    const bool spilling = queue.spilled() > 0;
    if (spilling && !was_spilling) ++spill_phases;
    was_spilling = spilling;
    ASSERT_EQ(queue.size(), model.size()) << "round " << round;
    ASSERT_LE(queue.spilled(), model.size()) << "round " << round;
    ASSERT_LE(queue.size() - queue.spilled(), 3u) << "round " << round << ": rows in memory";
    const std::size_t max = random() % 6;
    const auto rows = queue.take(max);
    ASSERT_EQ(rows.size(), std::min(max, model.size()))
        << "round " << round << ": take(" << max << ") with " << model.size() << " queued";
    if (!rows.empty()) {
      ASSERT_TRUE(are_numbered_from(rows, model.front())) << "round " << round;
    }
    for (std::size_t i = 0; i < rows.size(); ++i) model.pop_front();
  }
  const auto rest = queue.take(model.size() + 10);
  ASSERT_EQ(rest.size(), model.size());
  if (!rest.empty()) {
    EXPECT_TRUE(are_numbered_from(rest, model.front()));
  }
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_GT(spill_phases, 10u) << "the test should go through many spill phases";
}

TEST(MetricQueue, OriginsSurviveTheSpill) {
  TempDir dir;
  MetricQueue queue(1, dir / "spill");
  const std::vector<LineOrigin> origins = {{0, 1},
                                           {7, 123456789012},
                                           {std::numeric_limits<std::uint32_t>::max(), 2},
                                           {1, std::numeric_limits<std::uint64_t>::max()},
                                           {0, 0}};
  for (const LineOrigin& origin : origins) {
    PendingMetricRow row;
    row.origin = origin;
    row.row.values = {{"a", std::int64_t{1}}};
    queue.push(std::move(row));
  }
  ASSERT_EQ(queue.spilled(), origins.size() - 1);
  const auto rows = queue.take(100);
  ASSERT_EQ(rows.size(), origins.size());
  for (std::size_t i = 0; i < origins.size(); ++i) {
    EXPECT_EQ(rows[i].origin.source, origins[i].source) << "row " << i;
    EXPECT_EQ(rows[i].origin.line, origins[i].line) << "row " << i;
  }
}

TEST(MetricQueue, ValuesOfEveryKindSurviveTheSpillExactly) {
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  const std::vector<MetricRow> rows = {
      {0, 0.0, {}},
      {std::numeric_limits<std::int64_t>::max(),
       0.1 + 0.2,
       {{"imax", std::numeric_limits<std::int64_t>::max()},
        {"imin", std::numeric_limits<std::int64_t>::min()},
        {"zero", std::int64_t{0}}}},
      {3,
       1.0,
       {{"whole", 3.0},
        {"negzero", -0.0},
        {"tiny", std::numeric_limits<double>::denorm_min()},
        {"huge", std::numeric_limits<double>::max()},
        {"third", 1.0 / 3.0},
        {"nan", std::numeric_limits<double>::quiet_NaN()},
        {"inf", kInfinity},
        {"ninf", -kInfinity}}},
      {4, 1e-300, {{"t", true}, {"f", false}}},
      {5,
       2.5,
       {{"empty", ""s},
        {"quotes", "say \"hi\""s},
        {"backslash", "C:\\dir\\"s},
        {"controls", "a\nb\rc\td\r\n"s},
        {"utf8", "\xC3\xA9\xE2\x9C\x93\xF0\x9F\x98\x80"s},
        {"pairs", "x=1 y=\"2\" # z"s},
        {"ts_text", "2026-11-23T10:15:30Z"s}}},
      {6,
       0.75,
       {{"ts", MetricTimestamp{"2026-11-23T10:15:30Z"}},
        {"ts_local", MetricTimestamp{"2026-11-23T10:15:30.123456789"}},
        {"ts_offset", MetricTimestamp{"2026-11-23T10:15:30.5-01:00"}}}},
  };
  TempDir dir;
  MetricQueue queue(0, dir / "spill");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    queue.push(PendingMetricRow{rows[i], {1, i + 1}});
  }
  ASSERT_EQ(queue.spilled(), rows.size());
  const auto got = queue.take(100);
  ASSERT_EQ(got.size(), rows.size()) << "every spilled row must come back";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(got[i].row.step, rows[i].step) << "row " << i;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(got[i].row.progress),
              std::bit_cast<std::uint64_t>(rows[i].progress))
        << "row " << i << ": expected progress " << rows[i].progress << ", got "
        << got[i].row.progress;
    EXPECT_TRUE(same_values(rows[i].values, got[i].row.values)) << "row " << i;
    EXPECT_EQ(got[i].origin.line, i + 1);
  }
}

// A row parsed from a line near the length limit that left out step and progress: the spill
// writes them, and writes values in their own spelling, so its line is longer than the one
// the job wrote. It must still come back.
TEST(MetricQueue, KeepsARowWhoseSpilledLineIsLongerThanTheLineLimit) {
  const std::string text = "s=\"" + std::string(kMaxMetricLineBytes - 4, 'x') + "\"";
  ASSERT_LE(text.size(), kMaxMetricLineBytes);
  MetricParseResult parsed = parse_metric_line(text);
  ASSERT_TRUE(std::holds_alternative<MetricLine>(parsed)) << "the line itself is within limits";
  MetricStream stream(123456789, 0.123456789);
  PendingMetricRow row{stream.to_row(std::get<MetricLine>(std::move(parsed))), {0, 1}};

  TempDir dir;
  MetricQueue queue(0, dir / "spill");
  queue.push(row);
  EXPECT_EQ(queue.size(), 1u);
  const auto got = queue.take(10);
  ASSERT_EQ(got.size(), 1u) << "expected the spilled row back, got " << got.size()
                            << " rows; the queue now says size() = " << queue.size();
  EXPECT_EQ(got[0].row.step, 123456789);
  EXPECT_TRUE(same_values(row.row.values, got[0].row.values));
}

TEST(MetricQueue, RemovesTheSpillFileAtDestructionWithRowsStillSpilled) {
  TempDir dir;
  const auto spill_path = dir / "spill";
  {
    MetricQueue queue(1, spill_path);
    for (std::uint64_t n = 0; n < 4; ++n) queue.push(numbered(n));
    ASSERT_TRUE(std::filesystem::exists(spill_path));
  }
  EXPECT_FALSE(std::filesystem::exists(spill_path))
      << "expected " << spill_path << " removed when the queue is destroyed";
}

TEST(MetricQueue, RemovesTheSpillFileAtDestructionAfterAllRowsCameBack) {
  TempDir dir;
  const auto spill_path = dir / "spill";
  {
    MetricQueue queue(1, spill_path);
    for (std::uint64_t n = 0; n < 4; ++n) queue.push(numbered(n));
    ASSERT_TRUE(std::filesystem::exists(spill_path));
    ASSERT_TRUE(are_numbered_from(queue.take(10), 0));
    ASSERT_EQ(queue.spilled(), 0u);
  }
  EXPECT_FALSE(std::filesystem::exists(spill_path))
      << "expected " << spill_path << " removed when the queue is destroyed; it is still there ("
      << (std::filesystem::exists(spill_path) ? std::filesystem::file_size(spill_path) : 0)
      << " bytes)";
}

TEST(MetricQueue, StartsTheSpillFileOverOnceDrained) {
  TempDir dir;
  const auto spill_path = dir / "spill";
  MetricQueue queue(0, spill_path);
  for (std::uint64_t n = 0; n < 100; ++n) queue.push(numbered(n));
  ASSERT_TRUE(are_numbered_from(queue.take(100), 0));
  queue.push(numbered(100));
  const auto size_after_one = std::filesystem::file_size(spill_path);
  EXPECT_LT(size_after_one, 100u) << "expected the file to hold only the one new row, it has "
                                  << size_after_one << " bytes";
  EXPECT_TRUE(are_numbered_from(queue.take(10), 100));
}

TEST(MetricQueue, FallsBackToMemoryWhenTheSpillFileCannotBeCreated) {
  TempDir dir;
  const auto spill_path = dir / "no such dir" / "spill";
  testing::internal::CaptureStderr();
  std::vector<PendingMetricRow> got;
  {
    MetricQueue queue(3, spill_path);
    for (std::uint64_t n = 0; n < 10; ++n) EXPECT_EQ(queue.push(numbered(n)), n + 1);
    EXPECT_EQ(queue.size(), 10u);
    EXPECT_EQ(queue.spilled(), 0u);
    got = queue.take(4);
    for (std::uint64_t n = 10; n < 12; ++n) queue.push(numbered(n));
    auto rest = queue.take(100);
    got.insert(got.end(), rest.begin(), rest.end());
    EXPECT_EQ(queue.size(), 0u);
  }
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_EQ(got.size(), 12u) << "no row may be lost";
  EXPECT_TRUE(are_numbered_from(got, 0));
  EXPECT_NE(err.find("warning: cannot create the spill file " + spill_path.string()),
            std::string::npos)
      << "expected a warning naming the spill file on stderr, got: " << err;
  EXPECT_NE(err.find("queued metrics stay in memory"), std::string::npos) << err;
  EXPECT_EQ(err.find("warning", err.find("warning") + 1), std::string::npos)
      << "expected the warning once, got: " << err;
  EXPECT_FALSE(std::filesystem::exists(spill_path));
}

// Damages the first spilled row on disk, so that it no longer parses.
void damage_first_spilled_row(const std::filesystem::path& spill_path) {
  std::fstream file(spill_path, std::ios::in | std::ios::out | std::ios::binary);
  std::string first_line;
  std::getline(file, first_line);
  auto at = first_line.find("step=");
  ASSERT_NE(at, std::string::npos) << first_line;
  file.seekp(static_cast<std::streamoff>(at));
  file.put('=');
}

TEST(MetricQueue, ASpilledRowThatCannotBeReadBackIsReportedNotDroppedSilently) {
  TempDir dir;
  const auto spill_path = dir / "spill";
  testing::internal::CaptureStderr();
  MetricQueue queue(0, spill_path);
  // Enough rows that the first have left the file's buffer for the disk.
  for (std::uint64_t n = 0; n < 2000; ++n) queue.push(numbered(n));
  damage_first_spilled_row(spill_path);
  auto got = queue.take(5000);
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_EQ(got.size(), 1999u);
  EXPECT_TRUE(are_numbered_from(got, 1));
  EXPECT_NE(err.find("could not be read back"), std::string::npos)
      << "expected the damaged row to be reported on stderr, got: " << err;
}

TEST(MetricQueue, ASpilledRowThatCannotBeReadBackGoesToItsOwner) {
  TempDir dir;
  const auto spill_path = dir / "spill";
  std::vector<std::string> unreadable;
  MetricQueue queue(0, spill_path, [&](std::string_view line) { unreadable.emplace_back(line); });
  for (std::uint64_t n = 0; n < 2000; ++n) queue.push(numbered(n));
  damage_first_spilled_row(spill_path);
  auto got = queue.take(5000);
  ASSERT_EQ(got.size(), 1999u);
  ASSERT_EQ(unreadable.size(), 1u);
  EXPECT_NE(unreadable[0].find("=tep=0 "), std::string::npos) << unreadable[0];
}

TEST(MetricQueue, KeepsTheOrderBetweenAProducerAndAConsumerThread) {
  TempDir dir;
  MetricQueue queue(16, dir / "spill");
  constexpr std::uint64_t kRows = 20000;
  std::thread producer([&] {
    for (std::uint64_t n = 0; n < kRows; ++n) queue.push(numbered(n));
  });
  std::vector<PendingMetricRow> got;
  std::uint64_t idle = 0;
  while (got.size() < kRows && idle < 10'000'000) {
    auto rows = queue.take(7);
    if (rows.empty()) {
      ++idle;
      std::this_thread::yield();
    }
    for (auto& row : rows) got.push_back(std::move(row));
  }
  producer.join();
  auto rest = queue.take(kRows);
  for (auto& row : rest) got.push_back(std::move(row));
  ASSERT_EQ(got.size(), kRows);
  EXPECT_TRUE(are_numbered_from(got, 0));
}

}  // namespace
}  // namespace sqltrack
