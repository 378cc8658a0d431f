// The pure parts of `sqltrack-run status`: which tags tell runs apart, the --sort spec, which
// end of a metric is its best, and durations as people type them.
#include "sqltrack/read/status_table.hpp"

#include <gtest/gtest.h>

#include "sqltrack/util/error.hpp"
#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {
namespace {

using nlohmann::json;
using Cells = std::vector<std::string>;

TEST(DistinguishingTags, OnlyKeysWhoseValuesDifferAmongTheRuns) {
  std::vector<json> tags{json{{"lr", "0.1"}, {"model", "resnet"}},
                         json{{"lr", "0.01"}, {"model", "resnet"}},
                         json{{"lr", "0.01"}, {"model", "resnet"}, {"seed", 3}}};
  EXPECT_EQ(distinguishing_tags(tags), (Cells{"lr=0.1", "lr=0.01", "lr=0.01 seed=3"}));
}

TEST(DistinguishingTags, OneRunShowsAllItsTags) {
  EXPECT_EQ(distinguishing_tags({json{{"b", "2"}, {"a", true}}}), (Cells{"a=true b=2"}));
}

TEST(DistinguishingTags, TagsThatAreNotAnObjectShowAsNone) {
  std::vector<json> tags{json(), json::array({1, 2}), json{{"k", "v"}}};
  EXPECT_EQ(distinguishing_tags(tags), (Cells{"", "", "k=v"}));
}

TEST(DistinguishingTags, SameTagsEverywhereShowNothing) {
  std::vector<json> tags{json{{"k", "v"}}, json{{"k", "v"}}};
  EXPECT_EQ(distinguishing_tags(tags), (Cells{"", ""}));
}

TEST(MetricOrderSpec, ColumnAloneIsAscendingAndADirectionMayFollow) {
  EXPECT_FALSE(parse_metric_order("val_loss").descending);
  EXPECT_EQ(parse_metric_order("val_loss").column, "val_loss");
  EXPECT_TRUE(parse_metric_order("acc:desc").descending);
  EXPECT_FALSE(parse_metric_order("acc:asc").descending);
  EXPECT_THROW(parse_metric_order("acc:up"), UsageError);
}

TEST(LowerIsBetter, LossesErrorsAndTimesAreBestLow) {
  for (const char* name :
       {"loss", "val_loss", "valloss", "test_err", "top1_error", "wer", "epoch_time", "val_ppl"}) {
    EXPECT_TRUE(lower_is_better(name)) << name;
  }
  for (const char* name : {"acc", "val_acc", "f1", "terror_rate", "bleu", "timely"}) {
    EXPECT_FALSE(lower_is_better(name)) << name;
  }
}

TEST(ParseDuration, NumbersWithAUnitOrSeconds) {
  using std::chrono::seconds;
  EXPECT_EQ(parse_duration("90"), seconds(90));
  EXPECT_EQ(parse_duration("90s"), seconds(90));
  EXPECT_EQ(parse_duration("15m"), seconds(900));
  EXPECT_EQ(parse_duration("2h"), seconds(7200));
  EXPECT_EQ(parse_duration("3d"), seconds(3 * 86400));
  EXPECT_EQ(parse_duration("1w"), seconds(7 * 86400));
  for (const char* bad : {"", "h", "-5m", "5x", "1.5h", "2 h", "99999999999999d"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace sqltrack
