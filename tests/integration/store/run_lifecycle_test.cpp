// `sqltrack rm` and `sqltrack edit` through the real executable, on both engines: rm takes every
// row kept about its runs and nothing of other runs, holds back runs that have not ended, and
// asks first; edit changes the comment and the tags and nothing else.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/read/read_side_fixture.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::EngineDatabase;

// The tables that hold rows keyed by a run, and the condition that finds a run's rows there.
const std::map<std::string, std::string> kRunRows = {
    {"runs", "id = $1"},
    {"metrics", "run_id = $1"},
    {"run_status_history", "run_id = $1"},
    {"run_resources", "run_id = $1"},
    {"run_relationships", "from_id = $1 OR to_id = $1"},
    {"queued_commands", "run_id = $1"},
};

class RunLifecycleTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  void SetUp() override {
    test::setup_metric_columns(db_);
    auto db = db_.connect();
    test::insert_runs(*db);
    auto exec = [&](const std::string& sql, std::vector<db::Value> params) {
      db->query(sql, params);
    };
    const std::string time = "2026-01-02 10:00:00+00:00";
    for (std::int64_t run = 1; run <= 4; ++run) {
      for (const char* detail : {"started", "ended"}) {
        exec(
            "INSERT INTO run_status_history (run_id, time, status, detail) VALUES "
            "($1, $2, 'RUNNING', $3)",
            {run, time, std::string(detail)});
      }
      for (std::int64_t sample = 0; sample < run; ++sample) {
        exec("INSERT INTO run_resources (run_id, time, cpu_percent) VALUES ($1, $2, 50.0)",
             {run, time});
      }
    }
    exec(
        "INSERT INTO run_relationships (from_id, kind, to_id) VALUES (1, 'resumes', 2), "
        "(4, 'copies', 1), (3, 'copies', 4)",
        {});
    exec("INSERT INTO queued_commands (run_id, args) VALUES (2, $1), (3, $1)",
         {std::string(R"(["echo","secret"])")});
  }

  CommandResult sqltrack(std::vector<std::string> args) const {
    return test::sqltrack_cli(db_, args);
  }

  std::string scalar(const std::string& sql, std::vector<db::Value> params = {}) const {
    return db_.connect()->query(sql, params).scalar().value_or("<NULL>");
  }

  // How many rows each table holds for the run.
  std::map<std::string, std::string> rows_of(std::int64_t run) const {
    std::map<std::string, std::string> counts;
    for (const auto& [table, condition] : kRunRows) {
      counts[table] = scalar("SELECT count(*) FROM " + table + " WHERE " + condition, {run});
    }
    return counts;
  }

  nlohmann::json tags_of(std::int64_t run) const {
    return nlohmann::json::parse(scalar("SELECT tags FROM runs WHERE id = $1", {run}));
  }

  EngineDatabase db_{GetParam()};
};

const std::map<std::string, std::string> kNone = {
    {"runs", "0"},          {"metrics", "0"},           {"run_status_history", "0"},
    {"run_resources", "0"}, {"run_relationships", "0"}, {"queued_commands", "0"},
};

TEST_P(RunLifecycleTest, RmRemovesEveryRowOfItsRunsAndNothingOfOthers) {
  auto run3 = rows_of(3);
  auto run4 = rows_of(4);
  auto removed = sqltrack({"rm", "1", "2", "--yes"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(removed.out,
            "removed 2 runs (1, 2): 6 metric rows, 4 status changes, 3 resource samples, "
            "2 relationships, 1 queued commands\n");
  EXPECT_EQ(rows_of(1), kNone);
  EXPECT_EQ(rows_of(2), kNone);
  EXPECT_EQ(run3, rows_of(3)) << "run 3 keeps all it had";
  run4["run_relationships"] = "1";  // its relationship to run 1 went with run 1
  EXPECT_EQ(run4, rows_of(4));
  EXPECT_EQ(scalar("SELECT count(*) FROM experiments"), "2") << "experiments stay";
}

TEST_P(RunLifecycleTest, RmHoldsBackARunThatHasNotEndedUnlessForced) {
  auto refused = sqltrack({"rm", "4", "3", "--yes"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err,
            "sqltrack: error: run 3 (RUNNING) has not ended; nothing removed (--force removes "
            "it anyway)\n");
  EXPECT_EQ(scalar("SELECT count(*) FROM runs"), "4") << "nothing removed, run 4 neither";

  auto forced = sqltrack({"rm", "3", "--yes", "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(rows_of(3), kNone);
}

TEST_P(RunLifecycleTest, RmWithoutATerminalRemovesOnlyWithYes) {
  auto refused = sqltrack({"rm", "4"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err,
            "sqltrack: error: not asking for confirmation without a terminal: pass --yes to "
            "remove 1 run (4)\n");
  EXPECT_EQ(scalar("SELECT count(*) FROM runs WHERE id = 4"), "1");
}

TEST_P(RunLifecycleTest, RmAnUnknownRunIsOneLineAndRemovesNothing) {
  auto result = sqltrack({"rm", "1", "99", "--yes"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "sqltrack: error: no run 99\n");
  EXPECT_EQ(scalar("SELECT count(*) FROM runs"), "4");
  EXPECT_EQ(sqltrack({"rm"}).exit_code, 2);
}

using test::PseudoTerminal;

// What the process wrote on stderr so far; nothing before it has made the file.
std::string err_so_far(const test::BackgroundProcess& process) {
  try {
    return process.err();
  } catch (const std::exception&) {
    return "";
  }
}

TEST_P(RunLifecycleTest, RmAsksAtATerminal) {
  std::vector<std::string> argv{SQLTRACK_BIN};
  auto flags = db_.cli_flags();
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"rm", "4", "2"});
  test::CommandOptions options;
  options.cwd = db_.cwd();
  const std::string question = "remove 2 runs (4, 2)? [y/N] ";
  for (const std::string answer : {"n\n", "yes\n"}) {
    PseudoTerminal pty;
    ASSERT_FALSE(pty.slave.empty()) << "no pseudo-terminal";
    test::BackgroundProcess rm(argv, options, pty.slave);
    ASSERT_TRUE(test::wait_until([&] {
      return err_so_far(rm).find(question) != std::string::npos;
    })) << "expected the question '"
        << question << "', got: " << err_so_far(rm);
    ASSERT_EQ(::write(pty.master, answer.data(), answer.size()),
              static_cast<ssize_t>(answer.size()));
    const bool removes = answer == "yes\n";
    EXPECT_EQ(rm.wait(), removes ? 0 : 1) << rm.err();
    EXPECT_EQ(scalar("SELECT count(*) FROM runs WHERE id IN (2, 4)"), removes ? "0" : "2")
        << "answered " << answer;
  }
}

TEST_P(RunLifecycleTest, EditSetsTheCommentAddsAndRemovesTags) {
  auto edited = sqltrack({"edit", "1", "--comment", "tuned", "--tag", "lr=0.2", "--tag",
                          "extra=a=b", "--untag", "note"});
  ASSERT_EQ(edited.exit_code, 0) << edited.err;
  EXPECT_EQ(edited.out, "run 1: comment 'tuned', tags {\"extra\":\"a=b\",\"lr\":\"0.2\"}\n");
  EXPECT_EQ(scalar("SELECT comment FROM runs WHERE id = 1"), "tuned");
  EXPECT_EQ(tags_of(1), nlohmann::json({{"lr", "0.2"}, {"extra", "a=b"}}));
  EXPECT_EQ(tags_of(2), nlohmann::json({{"lr", "0.01"}})) << "other runs keep theirs";

  ASSERT_EQ(sqltrack({"edit", "1", "--comment", ""}).exit_code, 0);
  EXPECT_EQ(scalar("SELECT comment FROM runs WHERE id = 1"), "<NULL>") << "'' removes it";
  EXPECT_EQ(tags_of(1), nlohmann::json({{"lr", "0.2"}, {"extra", "a=b"}})) << "tags untouched";
  EXPECT_EQ(scalar("SELECT count(*) FROM runs WHERE comment IS NOT NULL"), "0");
}

TEST_P(RunLifecycleTest, EditOfTagsThatAreMissingOrNull) {
  ASSERT_EQ(sqltrack({"edit", "2", "--untag", "nope"}).exit_code, 0);
  EXPECT_EQ(tags_of(2), nlohmann::json({{"lr", "0.01"}}));
  db_.connect()->query("UPDATE runs SET tags = NULL WHERE id = 4", {});
  auto edited = sqltrack({"edit", "4", "--tag", "k=v"});
  ASSERT_EQ(edited.exit_code, 0) << edited.err;
  EXPECT_EQ(tags_of(4), nlohmann::json({{"k", "v"}}));
  EXPECT_EQ(scalar("SELECT comment FROM runs WHERE id = 4"), "<NULL>");
}

TEST_P(RunLifecycleTest, EditRefusesAnUnknownRunAndEditsThatSayNothing) {
  auto unknown = sqltrack({"edit", "99", "--comment", "x"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "sqltrack: error: no run 99\n");
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"edit", "1"},
                                             {"edit", "1", "--tag", "a=1", "--untag", "a"},
                                             {"edit", "1", "2", "--comment", "x"},
                                             {"edit", "1", "--tag", "novalue"},
                                             {"edit", "--comment", "x"}}) {
    auto result = sqltrack(args);
    EXPECT_EQ(result.exit_code, 2) << args.back() << ": " << result.err;
  }
  EXPECT_EQ(tags_of(1), nlohmann::json({{"lr", "0.1"}, {"note", "a, \"quoted\"\nvalue"}}));
}

INSTANTIATE_TEST_SUITE_P(Engines, RunLifecycleTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

}  // namespace
}  // namespace sqltrack
