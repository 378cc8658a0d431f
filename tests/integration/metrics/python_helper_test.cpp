// python/sqltrack_run.py under the real wrapper: a Python script logs with it, and its rows
// must arrive in real SQLite and PostgreSQL databases, whatever it logged.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::EngineDatabase;

// A training script as a user writes it, with what such scripts log: scalars with .item() (as
// numpy's and torch's have), names with '/' and blanks, infinity, text, a time, and a line
// longer than PIPE_BUF.
constexpr const char* kTrainScript = R"(import datetime
import sqltrack_run

class Scalar:  # like a numpy scalar or a torch tensor of one element
    def __init__(self, value):
        self.value = value
    def item(self):
        return self.value

print(sqltrack_run.run_id(), sqltrack_run.experiment())
for step in range(3):
    sqltrack_run.log(step=step, progress=(step + 1) / 3, train_loss=Scalar(1.0 / (step + 1)),
                     acc=Scalar(0.25 * step), seen=Scalar(step * 10), ok=Scalar(True))
sqltrack_run.log(step=3, **{"val/loss": 0.5, "Val Acc": float("inf"), "note": 'say "hi"\n',
                            "at": datetime.datetime(2026, 1, 2, 3, 4, 5,
                                                    tzinfo=datetime.timezone.utc)})
sqltrack_run.log(step=4, part_a="a" * 1500, part_b="b" * 1500, part_c="c" * 1500)
)";

class PythonHelperTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  std::string scalar(const std::string& sql) const {
    return db_.connect()->query(sql, {}).scalar().value_or("<NULL>");
  }

  EngineDatabase db_{GetParam()};
};

TEST_P(PythonHelperTest, EveryValueAScriptLogsArrivesInItsRow) {
  test::write_file(db_.cwd() / "train.py", kTrainScript);
  test::CommandOptions options;
  options.cwd = db_.cwd();
  options.env["PYTHONPATH"] = std::string(SQLTRACK_SOURCE_DIR) + "/python";
  options.env["SQLTRACK_EXPERIMENT"] = std::nullopt;
  options.env["SLURM_JOB_NAME"] = std::nullopt;
  // A shared PostgreSQL server adds columns only when asked.
  std::vector<std::string> flags;
  if (GetParam() == db::Engine::postgres) flags.push_back("--add-columns");
  CommandResult result =
      test::run_command(db_.wrapper_argv(flags, {SQLTRACK_TEST_PYTHON, "train.py"}), options);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "") << "nothing may be rejected";
  EXPECT_EQ(result.out, scalar("SELECT max(id) FROM runs") + " train\n");

  EXPECT_EQ(scalar("SELECT count(*) FROM metrics"), "5");
  EXPECT_EQ(scalar("SELECT count(*) FROM metrics WHERE step < 3 AND ok AND seen = step * 10 AND "
                   "acc = 0.25 * step AND abs(train_loss - 1.0 / (step + 1)) < 1e-12 AND "
                   "abs(progress - (step + 1) / 3.0) < 1e-12"),
            "3");
  // "val/loss" and "Val Acc" went to the columns their names map to.
  EXPECT_EQ(scalar("SELECT val_loss FROM metrics WHERE step = 3"), "0.5");
  EXPECT_EQ(scalar("SELECT count(*) FROM metrics WHERE step = 3 AND val_acc > 1e308"), "1");
  EXPECT_EQ(scalar("SELECT note FROM metrics WHERE step = 3"), "say \"hi\"\n");
  EXPECT_EQ(scalar(GetParam() == db::Engine::postgres
                       ? "SELECT at = '2026-01-02T03:04:05Z' FROM metrics WHERE step = 3"
                       : "SELECT at = '2026-01-02T03:04:05+00:00' FROM metrics WHERE step = 3"),
            GetParam() == db::Engine::postgres ? "t" : "1");
  // Written as pieces of at most PIPE_BUF bytes, merged into one row.
  EXPECT_EQ(scalar("SELECT length(part_a) + length(part_b) + length(part_c) FROM metrics "
                   "WHERE step = 4"),
            "4500");
}

INSTANTIATE_TEST_SUITE_P(Engines, PythonHelperTest,
                         ::testing::Values(db::Engine::postgres, db::Engine::sqlite),
                         test::EngineParamName{});

}  // namespace
}  // namespace sqltrack
