// Metrics ingestion end to end: real jobs write lines to the FIFO, a pipe or a
// file; the rows must arrive in real SQLite and PostgreSQL databases.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "sqltrack/journal/journal.hpp"
#include "sqltrack/journal/journal_replay.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::EngineDatabase;

// Metric columns of the tests, as a user's migration adds them.
std::string metric_columns_migration(db::Engine engine) {
  const bool pg = engine == db::Engine::postgres;
  std::string real = pg ? "double precision" : "REAL";
  std::string integer = pg ? "bigint" : "INTEGER";
  std::string timestamp = pg ? "timestamptz" : "TIMESTAMP";
  return "BEGIN;\n"
         "ALTER TABLE metrics ADD COLUMN a " +
         integer +
         ";\n"
         "ALTER TABLE metrics ADD COLUMN b " +
         real +
         ";\n"
         "ALTER TABLE metrics ADD COLUMN tag TEXT;\n"
         "ALTER TABLE metrics ADD COLUMN train_loss " +
         real +
         " CHECK (train_loss >= 0);\n"
         "ALTER TABLE metrics ADD COLUMN done BOOLEAN;\n"
         "ALTER TABLE metrics ADD COLUMN seen_at " +
         timestamp +
         ";\n"
         "END;\n";
}

class MetricsTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  void SetUp() override {
    test::write_file(db_.cwd() / "v001.sql", metric_columns_migration(GetParam()));
    std::vector<std::string> argv{SQLTRACK_BIN};
    auto flags = db_.cli_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"setup", "v001.sql"});
    test::CommandOptions options;
    options.cwd = db_.cwd();
    CommandResult setup = test::run_command(argv, options);
    ASSERT_EQ(setup.exit_code, 0) << setup.err;
  }

  std::vector<std::string> wrapper_argv(const std::vector<std::string>& flags,
                                        const std::vector<std::string>& command) const {
    return db_.wrapper_argv(flags, command);
  }

  // In the database's directory, which holds the reject files too.
  test::CommandOptions in_db_dir() const {
    test::CommandOptions options;
    options.cwd = db_.cwd();
    options.env["SQLTRACK_DSN_REJECT_DIR"] = db_.cwd().string();
    return options;
  }

  CommandResult wrap(std::vector<std::string> flags, std::vector<std::string> command,
                     const test::CommandOptions& options) const {
    return test::run_command(wrapper_argv(std::move(flags), std::move(command)), options);
  }

  CommandResult wrap(std::vector<std::string> flags, std::vector<std::string> command) const {
    return wrap(std::move(flags), std::move(command), in_db_dir());
  }

  CommandResult wrap_bash(const std::string& script, std::vector<std::string> flags = {}) const {
    return wrap(std::move(flags), {"bash", "-c", script});
  }

  // The same with the setting add_columns off, as a shared PostgreSQL server has it: unknown
  // keys stay unknown on both engines.
  CommandResult wrap_bash_without_new_columns(const std::string& script) const {
    test::CommandOptions options = in_db_dir();
    options.env["SQLTRACK_DSN_ADD_COLUMNS"] = "false";
    return wrap({}, {"bash", "-c", script}, options);
  }

  // How many times `text` occurs in `haystack`.
  static std::size_t occurrences(const std::string& haystack, const std::string& text) {
    std::size_t count = 0;
    for (auto at = haystack.find(text); at != std::string::npos;
         at = haystack.find(text, at + text.size())) {
      ++count;
    }
    return count;
  }

  std::string scalar(const std::string& sql) const {
    return db_.connect()->query(sql, {}).scalar().value_or("<NULL>");
  }

  // The engine's spelling of string_agg (SQLite 3.40 knows only group_concat).
  std::string agg(const std::string& expression) const {
    return (GetParam() == db::Engine::postgres ? "string_agg(" : "group_concat(") + expression +
           ", ',')";
  }

  std::string last_run_id() const { return scalar("SELECT max(id) FROM runs"); }

  // count, sum of steps, sum of a, and how many rows hold the values line i should give.
  std::string metric_summary() const {
    return scalar(
        "SELECT count(*) || ' ' || sum(step) || ' ' || sum(a) || ' ' || "
        "sum(CASE WHEN b = a / 2.0 AND tag = 's' || a THEN 1 ELSE 0 END) FROM metrics "
        "WHERE run_id = (SELECT max(id) FROM runs)");
  }

  static std::string expected_summary(long count) {
    long sum = count * (count - 1) / 2;
    return std::to_string(count) + " " + std::to_string(sum) + " " + std::to_string(sum) + " " +
           std::to_string(count);
  }

  std::filesystem::path rejects_path() const {
    return test::find_reject_file(db_.cwd(), last_run_id());
  }

  std::string rejects_file() const { return test::read_file(rejects_path()); }

  // A wrapped job that runs until the test touches `done`, after touching `started` and
  // writing its FIFO's path to `fifo-path`: the test writes the lines itself and waits for what
  // the database shows in between, instead of hoping a sleep was long enough.
  test::BackgroundProcess held_job(std::vector<std::string> flags = {}) const {
    return test::BackgroundProcess(
        wrapper_argv(std::move(flags),
                     {"bash", "-c",
                      "echo \"$SQLTRACK_METRICS\" > fifo-path.new && mv fifo-path.new fifo-path; "
                      "touch started; while [ ! -e done ]; do sleep 0.05; done"}),
        in_db_dir());
  }

  std::filesystem::path held_fifo(const test::BackgroundProcess& job) const {
    auto path_file = db_.cwd() / "fifo-path";
    EXPECT_TRUE(test::wait_until([&] { return std::filesystem::exists(path_file); }))
        << "the job never started: " << job.err();
    std::string path = test::read_file(path_file);
    while (!path.empty() && path.back() == '\n') path.pop_back();
    return path;
  }

  // Appends one line with one write, as a job's print does.
  static void write_line(const std::filesystem::path& path, const std::string& line) {
    std::ofstream out(path, std::ios::app);
    out << line << '\n' << std::flush;
  }

  int end_held_job(test::BackgroundProcess& job) const {
    test::write_file(db_.cwd() / "done", "");
    return job.wait();
  }

  // Waits until `sql` gives `expected`; the last value seen otherwise.
  std::string wait_for_scalar(const std::string& sql, const std::string& expected) const {
    std::string seen;
    test::wait_until([&] {
      seen = scalar(sql);
      return seen == expected;
    });
    return seen;
  }

  EngineDatabase db_{GetParam()};
};

TEST_P(MetricsTest, HundredThousandLinesFromBashArriveThroughTheFifo) {
  CommandResult result = wrap_bash(
      "for ((i = 0; i < 100000; i++)); do "
      "echo \"step=$i progress=0.0 a=$i b=$((i / 2)).$((i % 2 * 5)) tag=\\\"s$i\\\"\"; "
      "done > \"$SQLTRACK_METRICS\"");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(metric_summary(), expected_summary(100000)) << result.err;
  EXPECT_EQ(result.err, "");
}

TEST_P(MetricsTest, HundredThousandLinesFromPythonArriveThroughTheFifo) {
  CommandResult result = wrap({}, {"python3", "-c",
                                   "import os\n"
                                   "with open(os.environ['SQLTRACK_METRICS'], 'w') as out:\n"
                                   "    for i in range(100000):\n"
                                   "        print(f'step={i} progress=0.0 a={i} b={i / 2} "
                                   "tag=\"s{i}\"', file=out)\n"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(metric_summary(), expected_summary(100000)) << result.err;
}

TEST_P(MetricsTest, HundredThousandLinesFromCppArriveThroughEachSource) {
  CommandResult fifo = wrap({}, {METRIC_LINES_BIN, "fifo", "100000"});
  ASSERT_EQ(fifo.exit_code, 0) << fifo.err;
  EXPECT_EQ(metric_summary(), expected_summary(100000)) << "FIFO: " << fifo.err;

  CommandResult fd = wrap({"--metrics-fd", "7"}, {METRIC_LINES_BIN, "fd", "100000"});
  ASSERT_EQ(fd.exit_code, 0) << fd.err;
  EXPECT_EQ(metric_summary(), expected_summary(100000)) << "--metrics-fd: " << fd.err;

  std::string path = (db_.cwd() / "metrics.log").string();
  CommandResult file = wrap({"--metrics-file", path}, {METRIC_LINES_BIN, "file=" + path, "100000"});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_EQ(metric_summary(), expected_summary(100000)) << "--metrics-file: " << file.err;
}

TEST_P(MetricsTest, FollowedFileMayAppearLateAndBeTruncated) {
  auto path = db_.cwd() / "late.log";
  auto job = held_job({"--metrics-file", path.string()});
  ASSERT_TRUE(test::wait_until([&] { return std::filesystem::exists(db_.cwd() / "started"); }))
      << job.err();
  // The file appears only now, while the wrapper already follows it.
  for (int i = 0; i < 3; ++i) {
    write_line(path, "step=" + std::to_string(i) + " a=" + std::to_string(i));
  }
  const std::string steps =
      "SELECT " + agg("step || ':' || a") + " FROM (SELECT step, a FROM metrics ORDER BY step) m";
  EXPECT_EQ(wait_for_scalar(steps, "0:0,1:1,2:2"), "0:0,1:1,2:2") << job.err();
  // Truncated and written again: the wrapper reads it from its start.
  test::write_file(path, "step=7 a=7\n");
  EXPECT_EQ(wait_for_scalar(steps, "0:0,1:1,2:2,7:7"), "0:0,1:1,2:2,7:7") << job.err();
  ASSERT_EQ(end_held_job(job), 0) << job.err();
  EXPECT_EQ(scalar(steps), "0:0,1:1,2:2,7:7");
}

TEST_P(MetricsTest, EightConcurrentWritersLoseAndTearNothing) {
  // Each writer's lines are shorter than PIPE_BUF, so each write reaches the FIFO whole.
  CommandResult result = wrap_bash(
      "for w in 0 1 2 3 4 5 6 7; do "
      "  ( for ((i = 0; i < 5000; i++)); do s=$((w * 5000 + i)); "
      "      echo \"step=$s a=$s b=$((s / 2)).$((s % 2 * 5)) tag=\\\"s$s\\\"\"; "
      "    done > \"$SQLTRACK_METRICS\" ) & "
      "done; wait");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(metric_summary(), expected_summary(40000)) << result.err;
  EXPECT_EQ(result.err, "");
}

TEST_P(MetricsTest, LinesForOneKeyMergeAndReplaysOverwrite) {
  // Each line is written only once the database shows the one before, so every merge below
  // happens in the database (a stored row and a later line for its key), not in a batch.
  auto job = held_job();
  auto fifo = held_fifo(job);
  const bool pg = GetParam() == db::Engine::postgres;
  const std::string rows = "SELECT " +
                           agg("step || '/' || progress || ':' || coalesce(a, -1) || ';' || "
                               "coalesce(b, -1) || ';' || coalesce(tag, '-')") +
                           " FROM (SELECT * FROM metrics ORDER BY step) AS m";
  auto expect_rows = [&](const std::string& line, const std::string& expected) {
    write_line(fifo, line);
    EXPECT_EQ(wait_for_scalar(rows, expected), expected) << "after '" << line << "': " << job.err();
  };
  expect_rows("step=1 a=1", pg ? "1/0:1;-1;-" : "1/0.0:1;-1;-");
  expect_rows("step=1 b=2", pg ? "1/0:1;2;-" : "1/0.0:1;2.0;-");
  expect_rows("step=1 a=5", pg ? "1/0:5;2;-" : "1/0.0:5;2.0;-");
  expect_rows("tag=\"same step\"", pg ? "1/0:5;2;same step" : "1/0.0:5;2.0;same step");
  expect_rows("{\"step\": 2, \"progress\": 0.5, \"a\": 9}",
              pg ? "1/0:5;2;same step,2/0.5:9;-1;-" : "1/0.0:5;2.0;same step,2/0.5:9;-1;-");
  ASSERT_EQ(end_held_job(job), 0) << job.err();
  EXPECT_EQ(scalar("SELECT count(*) FROM metrics"), "2");
}

TEST_P(MetricsTest, EachKindOfBadLineIsRejectedWithItsNumberAndTheRestStored) {
  std::string long_line = "step=9 tag=\"" + std::string(70000, 'x') + "\"";
  test::write_file(db_.cwd() / "lines.txt",
                   "step=1 a=1\n"       // 1: good
                   "step=2 a=two\n"     // 2: syntax
                   "step=3 nosuch=1\n"  // 3: unknown column
                   "step=4 a=0.5\n"     // 4: wrong type for an integer column
                   "step=5 done=1\n"    // 5: wrong type for a boolean column
                       + long_line +
                       "\n"                      // 6: too long
                       "step=7 train_loss=-1\n"  // 7: refused by the database (CHECK)
                       "# a comment\n"           // 8: ignored
                       "step=9 a=9 done=true seen_at=2026-11-23T10:00:00Z\n");  // 9: good
  CommandResult result = wrap_bash_without_new_columns("cat lines.txt > $SQLTRACK_METRICS");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(
      scalar("SELECT " + agg("step || ''") + " FROM (SELECT step FROM metrics ORDER BY step) AS m"),
      "1,9");
  for (const char* expected :
       {"SQLTRACK_METRICS line 2: column 10:",
        "rejected key \"nosuch\" at SQLTRACK_METRICS line 3: unknown column \"nosuch\"",
        "rejected key \"a\" at SQLTRACK_METRICS line 4: column \"a\"",
        "rejected key \"done\" at SQLTRACK_METRICS line 5: column \"done\"",
        "SQLTRACK_METRICS line 6: line longer than 65536 bytes", "step=7"}) {
    EXPECT_NE(result.err.find(expected), std::string::npos)
        << "stderr lacks '" << expected << "'; it is:\n"
        << result.err;
  }
  std::string rejects = rejects_file();
  for (const char* kept : {"step=2 a=two", "step=3 progress=0.0 nosuch=1",
                           "step=4 progress=0.0 a=0.5", "step=7 progress=0.0 train_loss=-1"}) {
    EXPECT_NE(rejects.find(kept), std::string::npos)
        << "reject file lacks '" << kept << "'; it is:\n"
        << rejects.substr(0, 2000);
  }
  EXPECT_NE(result.err.find("3 metrics lines rejected, 3 metric values rejected"),
            std::string::npos)
      << result.err;
  // The run's record says so too (the report shows it).
  EXPECT_EQ(scalar("SELECT rejected_lines FROM runs"), "3");
}

TEST_P(MetricsTest, AddColumnsCreatesTypedColumnsNamedByTheRule) {
  CommandResult result = wrap_bash(
      "echo 'step=1 lr=0.1 epochs=3 phase=\"warm\" best=true at=2026-01-02T03:04:05Z' > "
      "$SQLTRACK_METRICS; echo 'step=2 Bad_Name=1 1st-loss=2' > $SQLTRACK_METRICS",
      {"--add-columns"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(scalar("SELECT lr || ' ' || epochs || ' ' || phase FROM metrics WHERE step = 1"),
            GetParam() == db::Engine::postgres ? "0.1 3 warm" : "0.1 3.0 warm");
  EXPECT_EQ(scalar("SELECT bad_name FROM metrics WHERE step = 2"),
            GetParam() == db::Engine::postgres ? "1" : "1.0")
      << result.err;
  EXPECT_NE(result.err.find("cannot add column \"1st_loss\""), std::string::npos) << result.err;
  // The typed column refuses what does not fit, also on the next run.
  CommandResult second = wrap_bash("echo 'step=3 best=0.5' > $SQLTRACK_METRICS", {"--add-columns"});
  EXPECT_NE(second.err.find("column \"best\""), std::string::npos) << second.err;
}

TEST_P(MetricsTest, AnUnknownOrMistypedKeyIsRejectedAloneAndTheRestOfItsLineIsStored) {
  CommandResult result = wrap_bash_without_new_columns(
      "for s in 1 2 3; do echo \"step=$s a=$s val_acc=0.$s done=$s\"; done > $SQLTRACK_METRICS");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(scalar("SELECT " + agg("step || ':' || a") +
                   " FROM (SELECT step, a FROM metrics ORDER BY step) AS m"),
            "1:1,2:2,3:3")
      << "the good key of each line must be stored; stderr:\n"
      << result.err;
  // Each bad key is said once, when it first comes, and counted at the end.
  EXPECT_EQ(occurrences(result.err, "rejected key \"val_acc\""), 1u) << result.err;
  EXPECT_EQ(occurrences(result.err, "rejected key \"done\""), 1u) << result.err;
  EXPECT_NE(result.err.find("unknown column \"val_acc\""), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("key \"val_acc\": 3 values rejected"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("key \"done\": 3 values rejected"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("metrics line rejected"), std::string::npos)
      << "no line was rejected whole: " << result.err;
  EXPECT_EQ(result.err.find("metrics lines rejected"), std::string::npos)
      << "no line was rejected whole: " << result.err;
  std::string rejects = rejects_file();
  for (const char* kept : {"step=1 progress=0.0 val_acc=0.1", "step=3 progress=0.0 val_acc=0.3",
                           "step=2 progress=0.0 done=2"}) {
    EXPECT_NE(rejects.find(kept), std::string::npos)
        << "reject file lacks '" << kept << "'; it is:\n"
        << rejects.substr(0, 2000);
  }
}

TEST_P(MetricsTest, NewColumnsAreOnByDefaultForSqliteOnly) {
  CommandResult result = wrap_bash("echo 'step=1 fresh=1.5' > $SQLTRACK_METRICS");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  if (GetParam() == db::Engine::sqlite) {
    EXPECT_EQ(scalar("SELECT fresh FROM metrics WHERE step = 1"), "1.5") << result.err;
    EXPECT_EQ(result.err, "");
  } else {
    // A shared server's schema belongs to its owners: the message says how to allow it.
    EXPECT_EQ(scalar("SELECT count(*) FROM metrics"), "0");
    for (const char* expected : {"rejected key \"fresh\"", "unknown column \"fresh\"",
                                 "--add-columns", "add_columns = true"}) {
      EXPECT_NE(result.err.find(expected), std::string::npos)
          << "stderr lacks '" << expected << "'; it is:\n"
          << result.err;
    }
  }
  // Off on the command line, on either engine.
  CommandResult off =
      wrap_bash("echo 'step=2 other=1.5' > $SQLTRACK_METRICS", {"--no-add-columns"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_NE(off.err.find("unknown column \"other\""), std::string::npos) << off.err;
  CommandResult both = wrap_bash("true", {"--add-columns", "--no-add-columns"});
  EXPECT_EQ(both.exit_code, 2) << both.err;
  EXPECT_NE(both.err.find("--add-columns and --no-add-columns cannot be combined"),
            std::string::npos)
      << both.err;
}

TEST_P(MetricsTest, AColumnAddedFromAWholeNumberTakesFractionsLater) {
  CommandResult result = wrap_bash(
      "echo 'step=1 acc=1' > $SQLTRACK_METRICS; echo 'step=2 acc=0.75' > $SQLTRACK_METRICS",
      {"--add-columns"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(scalar("SELECT count(*) || ' ' || sum(acc) FROM metrics"), "2 1.75") << result.err;
  const std::string type =
      GetParam() == db::Engine::postgres
          ? scalar(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'metrics'::regclass AND attname = 'acc'")
          : scalar("SELECT type FROM pragma_table_info('metrics') WHERE name = 'acc'");
  EXPECT_EQ(type, GetParam() == db::Engine::postgres ? "double precision" : "REAL");
}

TEST_P(MetricsTest, KeysAsPeopleWriteThemGoToTheColumnTheirNameMapsTo) {
  const bool pg = GetParam() == db::Engine::postgres;
  // A column a migration made with capitals is matched by its exact name first.
  db_.connect()->execute(std::string("ALTER TABLE metrics ADD COLUMN \"trainLoss\" ") +
                         (pg ? "double precision" : "REAL"));
  test::write_file(db_.cwd() / "lines.txt",
                   "step=1 val/loss=0.5\n"
                   "step=2 val.loss=0.4\n"
                   "step=3 val-loss=0.3\n"
                   "{\"step\": 4, \"Val Loss\": 0.2}\n"
                   "step=5 valLoss=0.1\n"
                   "step=6 trainLoss=0.7 train-loss=0.6\n"
                   "step=7 val/loss=1 val_loss=2\n"
                   "step=8 a=8 Step=9\n");
  CommandResult result = wrap_bash("cat lines.txt > $SQLTRACK_METRICS", {"--add-columns"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(scalar("SELECT " + agg("step || ':' || val_loss") +
                   " FROM (SELECT step, val_loss FROM metrics WHERE val_loss IS NOT NULL "
                   "ORDER BY step) AS m"),
            "1:0.5,2:0.4,3:0.3,4:0.2")
      << result.err;
  EXPECT_EQ(scalar("SELECT valloss FROM metrics WHERE step = 5"), "0.1") << result.err;
  EXPECT_EQ(scalar("SELECT \"trainLoss\" || ' ' || train_loss FROM metrics WHERE step = 6"),
            "0.7 0.6")
      << result.err;
  // Two keys of one line for one column: the line is rejected, naming both.
  EXPECT_EQ(scalar("SELECT count(*) FROM metrics WHERE step = 7"), "0") << result.err;
  EXPECT_NE(result.err.find("keys 'val/loss' and 'val_loss' both go to column \"val_loss\""),
            std::string::npos)
      << result.err;
  // step keeps its meaning: another spelling of it is not a metric.
  EXPECT_EQ(scalar("SELECT a FROM metrics WHERE step = 8"), "8") << result.err;
  EXPECT_NE(result.err.find("rejected key \"Step\""), std::string::npos) << result.err;
  EXPECT_NE(rejects_file().find("step=7 progress=0.0 val/loss=1 val_loss=2"), std::string::npos)
      << rejects_file();
}

TEST_P(MetricsTest, NoMetricsPointsTheJobAtDevNull) {
  CommandResult result = wrap_bash(
      "echo \"$SQLTRACK_METRICS\"; echo 'step=1 a=1' > \"$SQLTRACK_METRICS\"", {"--no-metrics"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "/dev/null\n");
  EXPECT_EQ(scalar("SELECT count(*) FROM metrics"), "0");
}

TEST_P(MetricsTest, TheFifoLivesInAPrivateDirectoryAndIsRemovedAtExit) {
  CommandResult result = wrap_bash(
      "stat -c '%a %F' \"$(dirname \"$SQLTRACK_METRICS\")\" \"$SQLTRACK_METRICS\"; "
      "echo \"$SQLTRACK_METRICS\"");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.out);
  std::string directory;
  std::string fifo_type;
  std::string fifo;
  std::getline(lines, directory);
  std::getline(lines, fifo_type);
  std::getline(lines, fifo);
  EXPECT_EQ(directory, "700 directory");
  EXPECT_EQ(fifo_type, "600 fifo");
  EXPECT_FALSE(fifo.empty());
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(fifo).parent_path()))
      << fifo << " is still there";
}

TEST_P(MetricsTest, ALockedDatabaseDoesNotBlockTheJobsWrites) {
  // The job writes 2 MB of lines (far beyond a pipe's 64 KiB) while the metrics table is
  // locked: it must finish writing while the lock is still held.
  test::TempDir dir;
  test::BackgroundProcess wrapper(
      wrapper_argv({}, {"bash", "-c",
                        "while [ ! -e " + (dir / "locked").string() + " ]; do sleep 0.05; done; " +
                            METRIC_LINES_BIN + " fifo 40000 && touch " +
                            (dir / "written").string() + "; sleep 0.2"}),
      in_db_dir());
  ASSERT_TRUE(test::wait_until([&] { return scalar("SELECT count(*) FROM runs") == "1"; }));
  auto locker = db_.connect();
  locker->begin();
  if (GetParam() == db::Engine::postgres) {
    locker->execute("LOCK TABLE metrics IN ACCESS EXCLUSIVE MODE");
  } else {
    locker->execute("DELETE FROM metrics WHERE run_id < 0");  // holds the write lock
  }
  test::write_file(dir / "locked", "");
  bool written = test::wait_until([&] { return std::filesystem::exists(dir / "written"); },
                                  std::chrono::seconds(60));
  locker->rollback();
  EXPECT_TRUE(written) << "the job did not finish writing while the table was locked";
  ASSERT_EQ(wrapper.wait(), 0) << wrapper.err();
  EXPECT_EQ(metric_summary(), expected_summary(40000)) << wrapper.err();
}

TEST_P(MetricsTest, EveryLineWrittenBeforeSigtermIsStored) {
  test::TempDir dir;
  test::BackgroundProcess wrapper(
      wrapper_argv({}, {"bash", "-c",
                        std::string(METRIC_LINES_BIN) + " fifo 50000 && touch " +
                            (dir / "written").string() + " && exec sleep 60"}),
      in_db_dir());
  ASSERT_TRUE(test::wait_until([&] { return std::filesystem::exists(dir / "written"); }));
  wrapper.signal(SIGTERM);
  EXPECT_EQ(wrapper.wait(), 128 + SIGTERM) << wrapper.err();
  EXPECT_EQ(scalar("SELECT status FROM runs"), "CANCELLED");
  EXPECT_EQ(metric_summary(), expected_summary(50000)) << wrapper.err();
}

TEST_P(MetricsTest, WithoutADatabaseTheLinesAreKeptInTheJournal) {
  // The database is unreachable from the start: the job runs, and its rows wait in the
  // run's journal for `sqltrack sync` (tests/integration/journal/resilience_test.cpp replays them).
  test::TempDir dir;
  test::CommandOptions options;
  options.cwd = dir.path();
  options.env["SQLTRACK_DSN_JOURNAL_DIR"] = (dir / "journals").string();
  options.env["SQLTRACK_DSN_SYNC_TIMEOUT"] = "0";
  CommandResult result =
      test::run_command({SQLTRACK_RUN_BIN, "--engine", "postgres", "-a", "127.0.0.1:1", "-d",
                         "none", "--", "bash", "-c", "echo 'step=1 a=1' > $SQLTRACK_METRICS"},
                        options);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto journals = list_journals(dir / "journals");
  ASSERT_EQ(journals.size(), 1u) << result.err;
  std::vector<std::string> lines;
  for (const auto& record : read_journal(journals[0]).records) {
    if (auto* metrics = std::get_if<MetricRecord>(&record)) {
      for (const auto& row : metrics->rows) lines.push_back(row.line);
    }
  }
  EXPECT_EQ(lines, std::vector<std::string>{"step=1 progress=0.0 a=1"}) << result.err;
}

TEST_P(MetricsTest, AnUnterminatedWriteDoesNotSwallowTheNextWritersLine) {
  // Writer after writer on the FIFO: a 10 MB line without a newline, binary output without
  // one. Each next writer comes once the wrapper has rejected what the last one left (the
  // wrapper is then done with it), and its first line must be stored.
  const std::string wait_for_reject =
      "for ((n = 0; n < 400; n++)); do "
      "grep -aq \"$1\" sqltrack-run-$SQLTRACK_RUN_ID-*.rejects 2>/dev/null && break; sleep 0.05; "
      "done";
  CommandResult result =
      wrap_bash("reject_seen() { " + wait_for_reject +
                "; }\n"
                "head -c 10485760 /dev/zero | tr '\\0' x > \"$SQLTRACK_METRICS\"\n"
                "reject_seen 'longer than'\n"
                "echo 'step=1 a=1' > \"$SQLTRACK_METRICS\"\n"
                "printf '\\001\\002binary\\377' > \"$SQLTRACK_METRICS\"\n"
                "reject_seen binary\n"
                "echo 'step=2 a=2' > \"$SQLTRACK_METRICS\"\n");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(
      scalar("SELECT " + agg("step || ''") + " FROM (SELECT step FROM metrics ORDER BY step) AS m"),
      "1,2")
      << result.err;
  EXPECT_NE(result.err.find("line longer than 65536 bytes (10485760 bytes"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("2 metrics lines rejected"), std::string::npos) << result.err;
}

TEST_P(MetricsTest, ASourceAddsAtMostTenMebibytesToItsRejectFile) {
  // 12 MiB of bad lines, then a good one: the good one is stored, the bad ones are all
  // counted, and the reject file stops growing at its cap.
  CommandResult result = wrap({}, {"python3", "-c",
                                   "import os\n"
                                   "with open(os.environ['SQLTRACK_METRICS'], 'w') as out:\n"
                                   "    for i in range(12 * 1024):\n"
                                   "        out.write('!' * 1023 + '\\n')\n"
                                   "    out.write('step=1 a=1\\n')\n"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(scalar("SELECT count(*) FROM metrics WHERE step = 1 AND a = 1"), "1") << result.err;
  auto size = std::filesystem::file_size(rejects_path());
  EXPECT_LE(size, 10u * 1024 * 1024 + 4096) << "the reject file grew past its cap";
  EXPECT_GE(size, 10u * 1024 * 1024 - 4096) << "the reject file stopped short of its cap";
  EXPECT_NE(result.err.find("12288 metrics lines rejected"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("10 MiB"), std::string::npos)
      << "the summary must say that rejects were only counted: " << result.err;
}

INSTANTIATE_TEST_SUITE_P(Engines, MetricsTest,
                         ::testing::Values(db::Engine::postgres, db::Engine::sqlite),
                         test::EngineParamName{});

}  // namespace
}  // namespace sqltrack
