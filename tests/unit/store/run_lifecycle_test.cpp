// What `sqltrack rm` holds back without --force, and which edits `sqltrack edit` refuses,
// decided without a database.
#include "sqltrack/store/run_lifecycle.hpp"

#include <gtest/gtest.h>

#include "sqltrack/store/run_status.hpp"
#include "sqltrack/util/error.hpp"

namespace sqltrack {
namespace {

TEST(RunRemoval, OnlyRunsThatEndedAreRemovedWithoutForce) {
  for (auto name : kRunStatusNames) {
    const bool ended = is_terminal(*parse_run_status(name));
    EXPECT_EQ(removal_needs_force(name), !ended) << name;
  }
  EXPECT_TRUE(removal_needs_force("")) << "a status this version does not know";
}

TEST(RunRemoval, TheMessageNamesEachRunThatHasNotEnded) {
  EXPECT_EQ(unended_runs_message({{1, "COMPLETED"}, {2, "FAILED"}}), "");
  EXPECT_EQ(unended_runs_message({{1, "COMPLETED"}, {3, "RUNNING"}}),
            "run 3 (RUNNING) has not ended; nothing removed (--force removes it anyway)");
  EXPECT_EQ(unended_runs_message({{3, "RUNNING"}, {5, "PENDING"}}),
            "run 3 (RUNNING), run 5 (PENDING) have not ended; nothing removed (--force removes "
            "them anyway)");
}

TEST(RunEdit, AnEditThatChangesNothingIsAUsageError) {
  RunEdit edit;
  edit.run_id = 1;
  EXPECT_THROW(check_run_edit(edit), UsageError);
  edit.comment = "";
  EXPECT_NO_THROW(check_run_edit(edit)) << "an empty comment removes the comment";
}

TEST(RunEdit, ATagSetAndRemovedAtOnceIsAUsageError) {
  RunEdit edit;
  edit.run_id = 1;
  edit.set_tags = {{"lr", "0.1"}};
  edit.remove_tags = {"seed"};
  EXPECT_NO_THROW(check_run_edit(edit));
  edit.remove_tags.push_back("lr");
  try {
    check_run_edit(edit);
    FAIL() << "expected a UsageError for lr";
  } catch (const UsageError& error) {
    EXPECT_STREQ(error.what(), "tag 'lr' is both set (--tag) and removed (--untag)");
  }
}

}  // namespace
}  // namespace sqltrack
