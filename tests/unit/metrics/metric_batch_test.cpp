#include "sqltrack/metrics/metric_batch.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sqltrack {
namespace {

using namespace std::string_literals;

MetricValue integer(std::int64_t value) {
  return value;
}

MetricLine line_with(std::optional<std::int64_t> step, std::optional<double> progress,
                     MetricValues values = {}) {
  return MetricLine{step, progress, std::move(values)};
}

MetricRow row(std::int64_t step, double progress, MetricValues values) {
  return MetricRow{step, progress, std::move(values)};
}

// The parsed line, or a test failure with the parser's reason.
MetricLine parsed(std::string_view text) {
  MetricParseResult result = parse_metric_line(text);
  if (auto* line = std::get_if<MetricLine>(&result)) return std::move(*line);
  if (const auto* error = std::get_if<MetricParseError>(&result)) {
    ADD_FAILURE() << "expected `" << text << "` to parse, got: " << error->reason;
  } else {
    ADD_FAILURE() << "expected `" << text << "` to parse, it was ignored";
  }
  return {};
}

TEST(MetricStream, StartsAtStepZeroAndProgressZero) {
  MetricStream stream;
  const MetricRow first = stream.to_row(line_with(std::nullopt, std::nullopt, {{"a", integer(1)}}));
  EXPECT_EQ(first.step, 0);
  EXPECT_EQ(first.progress, 0.0);
  EXPECT_EQ(first.values, (MetricValues{{"a", integer(1)}}));
}

TEST(MetricStream, KeepsTheLastStepAndItsProgress) {
  MetricStream stream;
  stream.to_row(line_with(5, 0.25));
  const MetricRow without_both = stream.to_row(line_with(std::nullopt, std::nullopt));
  EXPECT_EQ(without_both.step, 5);
  EXPECT_EQ(without_both.progress, 0.25);
  const MetricRow same_step = stream.to_row(line_with(5, std::nullopt));
  EXPECT_EQ(same_step.progress, 0.25) << "repeating the step keeps its progress";
  const MetricRow new_progress = stream.to_row(line_with(std::nullopt, 0.5));
  EXPECT_EQ(new_progress.step, 5);
  EXPECT_EQ(new_progress.progress, 0.5);
}

TEST(MetricStream, StartsANewStepAtProgressZero) {
  MetricStream stream;
  stream.to_row(line_with(1, 0.75));
  const MetricRow next = stream.to_row(line_with(2, std::nullopt));
  EXPECT_EQ(next.step, 2);
  EXPECT_EQ(next.progress, 0.0);
  const MetricRow back = stream.to_row(line_with(1, std::nullopt));
  EXPECT_EQ(back.progress, 0.0) << "only the current step's progress is remembered";
  EXPECT_EQ(stream.step(), 1);
  EXPECT_EQ(stream.progress(), 0.0);
}

TEST(MetricStream, ContinuesFromAGivenPosition) {
  MetricStream stream(41, 0.5);
  const MetricRow resumed = stream.to_row(line_with(std::nullopt, std::nullopt));
  EXPECT_EQ(resumed.step, 41);
  EXPECT_EQ(resumed.progress, 0.5);
}

TEST(MetricBatch, MergesRowsOfTheSameKeyColumnByColumn) {
  MetricStream stream;
  MetricBatch batch;
  EXPECT_FALSE(batch.add(stream.to_row(parsed("step=1 a=1"))));
  EXPECT_TRUE(batch.add(stream.to_row(parsed("step=1 b=2"))));
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.rows()[0].values, (MetricValues{{"a", integer(1)}, {"b", integer(2)}}));

  EXPECT_TRUE(batch.add(stream.to_row(parsed("step=1 a=5"))));
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.rows()[0].values, (MetricValues{{"a", integer(5)}, {"b", integer(2)}}))
      << "the latest value wins, columns not given keep theirs, order stays first-seen";
}

TEST(MetricBatch, NeverMergesDifferentKeys) {
  MetricBatch batch;
  batch.add(row(1, 0.0, {{"a", integer(1)}}));
  batch.add(row(1, 0.5, {{"a", integer(2)}}));
  batch.add(row(2, 0.0, {{"a", integer(3)}}));
  batch.add(row(0, 0.5, {{"a", integer(4)}}));
  ASSERT_EQ(batch.size(), 4u);
  const std::vector<std::pair<std::int64_t, double>> expected = {
      {1, 0.0}, {1, 0.5}, {2, 0.0}, {0, 0.5}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(batch.rows()[i].step, expected[i].first) << "row " << i << " (first-seen order)";
    EXPECT_EQ(batch.rows()[i].progress, expected[i].second) << "row " << i;
    EXPECT_EQ(batch.rows()[i].values,
              (MetricValues{{"a", integer(static_cast<std::int64_t>(i) + 1)}}))
        << "row " << i;
  }
}

TEST(MetricBatch, ListsTheUnionOfColumnsInFirstSeenOrder) {
  MetricBatch batch;
  batch.add(row(1, 0.0, {{"loss", 0.5}, {"lr", 0.1}}));
  batch.add(row(2, 0.0, {{"acc", 0.9}, {"loss", 0.4}}));
  batch.add(row(1, 0.0, {{"phase", "eval"s}, {"lr", 0.2}}));
  EXPECT_EQ(batch.columns(), (std::vector<std::string>{"loss", "lr", "acc", "phase"}));
}

TEST(MetricBatch, TakesTheLatestValueEvenOfAnotherType) {
  MetricBatch batch;
  batch.add(row(1, 0.0, {{"a", integer(1)}}));
  batch.add(row(1, 0.0, {{"a", "one"s}}));
  EXPECT_EQ(batch.rows()[0].values, (MetricValues{{"a", "one"s}}))
      << "types are checked against the table by the writer, not here";
}

TEST(MetricBatch, TreatsNegativeZeroProgressAsZero) {
  MetricBatch batch;
  batch.add(row(3, -0.0, {{"a", integer(1)}}));
  EXPECT_TRUE(batch.add(row(3, 0.0, {{"b", integer(2)}})));
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_FALSE(std::signbit(batch.rows()[0].progress)) << "the stored key is 0.0, not -0.0";
  EXPECT_EQ(batch.rows()[0].values, (MetricValues{{"a", integer(1)}, {"b", integer(2)}}));
}

TEST(MetricBatch, RefusesNonFiniteProgress) {
  MetricBatch batch;
  EXPECT_THROW(batch.add(row(1, std::numeric_limits<double>::quiet_NaN(), {})),
               std::invalid_argument);
  EXPECT_THROW(batch.add(row(1, std::numeric_limits<double>::infinity(), {})),
               std::invalid_argument);
  EXPECT_TRUE(batch.empty()) << "a refused row leaves nothing behind";
  EXPECT_TRUE(batch.columns().empty());
}

TEST(MetricBatch, ClearForgetsRowsAndColumns) {
  MetricBatch batch;
  batch.add(row(1, 0.0, {{"a", integer(1)}}));
  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(batch.columns().empty());
  EXPECT_FALSE(batch.add(row(1, 0.0, {{"b", integer(2)}}))) << "after clear() nothing merges";
  EXPECT_EQ(batch.rows()[0].values, (MetricValues{{"b", integer(2)}}));
  EXPECT_EQ(batch.columns(), (std::vector<std::string>{"b"}));
}

TEST(MetricBatch, TakeMovesEverythingOutAndLeavesAnEmptyBatch) {
  MetricBatch batch;
  batch.add(row(1, 0.0, {{"a", integer(1)}}));
  batch.add(row(2, 0.0, {{"b", integer(2)}}));
  const MetricRowSet taken = batch.take();
  ASSERT_EQ(taken.rows.size(), 2u);
  EXPECT_EQ(taken.rows[1].values, (MetricValues{{"b", integer(2)}}));
  EXPECT_EQ(taken.columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(batch.columns().empty());
  EXPECT_FALSE(batch.add(row(1, 0.0, {{"c", integer(3)}}))) << "taken rows no longer merge";
  EXPECT_EQ(batch.columns(), (std::vector<std::string>{"c"}));
}

// Rows with hundreds of columns take the indexed merge; it must give the same result.
TEST(MetricBatch, MergesWideRows) {
  MetricValues first;
  MetricValues second;
  for (int i = 0; i < 300; ++i) first.emplace_back("c" + std::to_string(i), integer(i));
  for (int i = 200; i < 500; ++i) second.emplace_back("c" + std::to_string(i), integer(-i));
  MetricBatch batch;
  batch.add(row(1, 0.0, first));
  EXPECT_TRUE(batch.add(row(1, 0.0, second)));
  ASSERT_EQ(batch.size(), 1u);
  const MetricValues& merged = batch.rows()[0].values;
  ASSERT_EQ(merged.size(), 500u);
  for (int i = 0; i < 500; ++i) {
    const auto index = static_cast<std::size_t>(i);
    EXPECT_EQ(merged[index].first, "c" + std::to_string(i)) << "position " << i;
    EXPECT_EQ(merged[index].second, integer(i < 200 ? i : -i)) << "column c" << i;
  }
  EXPECT_EQ(batch.columns().size(), 500u);
}

TEST(MetricBatch, BuildsRowsFromAStreamOfLines) {
  MetricStream stream;
  MetricBatch batch;
  for (const char* text : {"loss=9", "step=1 progress=0.1 loss=0.5", "val=0.8", "step=2 loss=0.4",
                           "progress=0.2 lr=0.01", "step=1 progress=0.1 val=0.85"}) {
    batch.add(stream.to_row(parsed(text)));
  }
  ASSERT_EQ(batch.size(), 4u);
  EXPECT_EQ(batch.rows()[0].step, 0);
  EXPECT_EQ(batch.rows()[0].values, (MetricValues{{"loss", integer(9)}}));
  EXPECT_EQ(batch.rows()[1].step, 1);
  EXPECT_EQ(batch.rows()[1].progress, 0.1);
  EXPECT_EQ(batch.rows()[1].values, (MetricValues{{"loss", 0.5}, {"val", 0.85}}));
  EXPECT_EQ(batch.rows()[2].step, 2);
  EXPECT_EQ(batch.rows()[2].progress, 0.0);
  EXPECT_EQ(batch.rows()[2].values, (MetricValues{{"loss", 0.4}}));
  EXPECT_EQ(batch.rows()[3].step, 2);
  EXPECT_EQ(batch.rows()[3].progress, 0.2);
  EXPECT_EQ(batch.rows()[3].values, (MetricValues{{"lr", 0.01}}));
  EXPECT_EQ(batch.columns(), (std::vector<std::string>{"loss", "val", "lr"}));
}

}  // namespace
}  // namespace sqltrack
