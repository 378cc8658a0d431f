#include "sqltrack/util/text.hpp"

#include <gtest/gtest.h>

namespace sqltrack {
namespace {

// Counts in messages read "1 run", never "1 runs" or "1 run(s)".
TEST(Counted, TheNounIsSingularForOneOnly) {
  EXPECT_EQ(counted(0, "run"), "0 runs");
  EXPECT_EQ(counted(1, "run"), "1 run");
  EXPECT_EQ(counted(2, "run"), "2 runs");
  EXPECT_EQ(counted(12288, "metrics line"), "12288 metrics lines");
}

TEST(Counted, AnIrregularPluralIsGiven) {
  EXPECT_EQ(counted(1, "entry", "entries"), "1 entry");
  EXPECT_EQ(counted(3, "entry", "entries"), "3 entries");
}

}  // namespace
}  // namespace sqltrack
