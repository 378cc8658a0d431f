// sqltrack-run end to end: real processes, real signals, real databases.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "sqltrack/util/timestamp.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::EngineDatabase;

class RunTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  std::vector<std::string> wrapper_argv(const std::vector<std::string>& flags,
                                        const std::vector<std::string>& command) const {
    return db_.wrapper_argv(flags, command);
  }

  CommandResult wrap(std::vector<std::string> flags, std::vector<std::string> command,
                     std::map<std::string, std::optional<std::string>> env = {}) const {
    test::CommandOptions options;
    options.cwd = db_.cwd();
    options.env = std::move(env);
    return test::run_command(wrapper_argv(std::move(flags), std::move(command)), options);
  }

  CommandResult status(std::vector<std::string> args) const {
    std::vector<std::string> argv{SQLTRACK_RUN_BIN, "status"};
    auto connection = db_.cli_flags();
    argv.insert(argv.end(), connection.begin(), connection.end());
    argv.insert(argv.end(), args.begin(), args.end());
    test::CommandOptions options;
    options.cwd = db_.cwd();
    return test::run_command(argv, options);
  }

  // One column of the newest run.
  std::string last_run(const std::string& column) const {
    auto conn = db_.connect();
    auto result = conn->query("SELECT " + column + " FROM runs ORDER BY id DESC LIMIT 1", {});
    if (result.empty()) return "<no run>";
    return result.rows[0][0].value_or("<NULL>");
  }

  std::string scalar(const std::string& sql) const {
    return db_.connect()->query(sql, {}).scalar().value_or("<NULL>");
  }

  EngineDatabase db_{GetParam()};
};

TEST_P(RunTest, ExitZeroIsCompleted) {
  auto result = wrap({}, {"true"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(last_run("status"), "COMPLETED");
  EXPECT_EQ(last_run("exit_code"), "0");
  EXPECT_NE(last_run("time_ended"), "<NULL>");
}

TEST_P(RunTest, ExitThreeIsFailedWithCode) {
  auto result = wrap({}, {"sh", "-c", "exit 3"});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_EQ(last_run("status"), "FAILED");
  EXPECT_EQ(last_run("exit_code"), "3");
}

TEST_P(RunTest, SegfaultIsFailedWithSignal) {
  auto result = wrap({}, {"sh", "-c", "kill -SEGV $$"});
  EXPECT_EQ(result.exit_code, 139) << result.err;
  EXPECT_EQ(last_run("status"), "FAILED");
  EXPECT_EQ(last_run("signal"), "11");
  EXPECT_EQ(last_run("exit_code"), "<NULL>");
}

TEST_P(RunTest, CommandNotFoundAndNotExecutable) {
  auto missing = wrap({}, {"no-such-command-anywhere"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("cannot run 'no-such-command-anywhere': command not found"),
            std::string::npos)
      << missing.err;
  EXPECT_EQ(last_run("status"), "FAILED");
  test::write_file(db_.cwd() / "script.sh", "#!/bin/sh\necho hi\n");  // mode 0644
  auto not_executable = wrap({}, {"./script.sh"});
  EXPECT_EQ(not_executable.exit_code, 126) << not_executable.err;
  EXPECT_EQ(last_run("status"), "FAILED");
}

TEST_P(RunTest, ChildSeesRunIdsAndStdioPassesThrough) {
  auto result = wrap({"-e", "ids"}, {"sh", "-c",
                                     "echo run=$SQLTRACK_RUN_ID exp=$SQLTRACK_EXPERIMENT_ID; "
                                     "echo to-stderr >&2; cat"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "run=" + last_run("id") + " exp=" + last_run("experiment_id") + "\n");
  EXPECT_NE(result.err.find("to-stderr"), std::string::npos);
}

TEST_P(RunTest, ArgsAndEnvironmentRoundTripWithSecretsRedacted) {
  std::vector<std::string> command{"true", "with space", "quote\"d", "it's",
                                   "",     "ünïcødé ✓",  "--flag=1"};
  auto result =
      wrap({"-e", "roundtrip", "--tag", "lr=0.1", "--tag", "opt=adam", "--comment", "first try"},
           command,
           {{"FOO_PASSWORD", "hunter2"},
            {"GITHUB_TOKEN", "ghp_secret"},
            {"PLAIN_SETTING", "visible value"}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto args = nlohmann::json::parse(last_run("args"));
  EXPECT_EQ(args, nlohmann::json(command));
  auto env = nlohmann::json::parse(last_run("env"));
  EXPECT_EQ(env["FOO_PASSWORD"], "<redacted>");
  EXPECT_EQ(env["GITHUB_TOKEN"], "<redacted>");
  EXPECT_EQ(env["PLAIN_SETTING"], "visible value");
  EXPECT_EQ(nlohmann::json::parse(last_run("tags")),
            nlohmann::json({{"lr", "0.1"}, {"opt", "adam"}}));
  EXPECT_EQ(last_run("comment"), "first try");
  EXPECT_EQ(scalar("SELECT name FROM experiments"), "roundtrip");
  EXPECT_EQ(last_run("hostname").empty(), false);
  EXPECT_EQ(last_run("cwd"), std::filesystem::canonical(db_.cwd()).string());
}

TEST_P(RunTest, ExperimentNameDefaults) {
  wrap({}, {"true"}, {{"SQLTRACK_EXPERIMENT", std::nullopt}, {"SLURM_JOB_NAME", std::nullopt}});
  EXPECT_EQ(scalar("SELECT e.name FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                   "ORDER BY r.id DESC LIMIT 1"),
            "true");
  wrap({}, {"true"}, {{"SQLTRACK_EXPERIMENT", "from-env"}, {"SLURM_JOB_NAME", "from-slurm"}});
  EXPECT_EQ(scalar("SELECT e.name FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                   "ORDER BY r.id DESC LIMIT 1"),
            "from-env");
  wrap({}, {"true"}, {{"SQLTRACK_EXPERIMENT", std::nullopt}, {"SLURM_JOB_NAME", "from-slurm"}});
  EXPECT_EQ(scalar("SELECT e.name FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                   "ORDER BY r.id DESC LIMIT 1"),
            "from-slurm");
}

TEST_P(RunTest, ExperimentDefaultsToTheScriptAnInterpreterRuns) {
  test::write_file(db_.cwd() / "train.py", "pass\n");
  test::write_file(db_.cwd() / "prepare.sh", "true\n");
  const std::map<std::string, std::optional<std::string>> no_names = {
      {"SQLTRACK_EXPERIMENT", std::nullopt}, {"SLURM_JOB_NAME", std::nullopt}};
  const std::string newest_experiment =
      "SELECT e.name FROM runs r JOIN experiments e ON e.id = r.experiment_id "
      "ORDER BY r.id DESC LIMIT 1";
  struct Case {
    std::vector<std::string> command;
    std::string experiment;
  };
  for (const Case& c :
       {Case{{"python3", "train.py"}, "train"},
        Case{{"env", "A=1", "python3", "-u", "train.py", "--lr", "0.1"}, "train"},
        Case{{"bash", "prepare.sh"}, "prepare"}, Case{{"bash", "-c", "true"}, "bash"}}) {
    CommandResult result = wrap({}, c.command, no_names);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(scalar(newest_experiment), c.experiment) << test::shell_command(c.command);
  }
}

TEST_P(RunTest, SigtermReachesTrappingChildAndGrandchildThenCancelled) {
  auto marker = db_.cwd() / "child-got-term";
  auto grand_marker = db_.cwd() / "grandchild-got-term";
  auto ready = db_.cwd() / "ready";
  auto grand_ready = db_.cwd() / "grandchild-ready";
  std::string script = "trap 'echo term > " + grand_marker.string() + "; exit 0' TERM; touch " +
                       grand_ready.string() + "; sleep 1000 & wait";
  std::string parent = "sh -c \"" + script +
                       "\" & "
                       "trap 'echo term > " +
                       marker.string() +
                       "; wait; exit 7' TERM; "
                       "touch " +
                       ready.string() + "; wait";
  test::CommandOptions options;
  options.cwd = db_.cwd();
  test::BackgroundProcess wrapper(wrapper_argv({"-e", "sigterm"}, {"bash", "-c", parent}), options);
  // Both traps are in place before the signal: each shell touches its marker after its trap.
  ASSERT_TRUE(test::wait_until([&] {
    return std::filesystem::exists(ready) && std::filesystem::exists(grand_ready);
  })) << "the child or the grandchild never started: "
      << wrapper.err();
  wrapper.signal(SIGTERM);
  int code = wrapper.wait();
  EXPECT_EQ(code, 7) << "expected the child's own exit code 7; stderr: " << wrapper.err();
  EXPECT_TRUE(std::filesystem::exists(marker)) << "the child did not get SIGTERM";
  EXPECT_TRUE(std::filesystem::exists(grand_marker)) << "the grandchild did not get SIGTERM";
  EXPECT_EQ(last_run("status"), "CANCELLED");
  EXPECT_EQ(last_run("exit_code"), "7");
  EXPECT_EQ(scalar("SELECT count(*) FROM run_status_history WHERE detail LIKE 'SIGTERM%'"), "2");
}

TEST_P(RunTest, BackgroundGrandchildIsGoneWhenWrapperExits) {
  auto pid_file = db_.cwd() / "grandchild.pid";
  auto result = wrap({}, {"sh", "-c", "sleep 1000 & echo $! > " + pid_file.string() + "; exit 0"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  int pid = std::stoi(test::read_file(pid_file));
  EXPECT_FALSE(test::process_alive(pid)) << "grandchild " << pid << " outlived the wrapper";
  EXPECT_EQ(last_run("status"), "COMPLETED");
}

TEST_P(RunTest, SigkillOfWrapperKillsChild) {
  auto pid_file = db_.cwd() / "child.pid";
  test::CommandOptions options;
  options.cwd = db_.cwd();
  test::BackgroundProcess wrapper(
      wrapper_argv({}, {"sh", "-c", "echo $$ > " + pid_file.string() + "; exec sleep 1000"}),
      options);
  ASSERT_TRUE(test::wait_until([&] {
    return std::filesystem::exists(pid_file) && !test::read_file(pid_file).empty();
  })) << wrapper.err();
  int child = std::stoi(test::read_file(pid_file));
  wrapper.signal(SIGKILL);
  EXPECT_EQ(wrapper.wait(), 128 + SIGKILL);
  EXPECT_TRUE(test::wait_until([&] { return !test::process_alive(child); }))
      << "child " << child << " outlived a SIGKILLed wrapper";
}

TEST_P(RunTest, UnreachableDatabaseStillRunsTheCommand) {
  test::CommandOptions options;
  options.env["SQLTRACK_DSN_JOURNAL_DIR"] = (db_.cwd() / "journals").string();
  options.env["SQLTRACK_DSN_SYNC_TIMEOUT"] = "0";
  auto result = test::run_command(
      {SQLTRACK_RUN_BIN, "-a", "127.0.0.1:1", "-u", "nobody", "--", "sh", "-c", "echo ran; exit 4"},
      options);
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_EQ(result.out, "ran\n");
  EXPECT_NE(result.err.find("sqltrack-run: warning: cannot connect to PostgreSQL"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("the command runs, and the run is journaled in " +
                            (db_.cwd() / "journals").string()),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("the run is kept in the journal"), std::string::npos) << result.err;
}

TEST_P(RunTest, BadFlagsAndEmptyCommandStartNothing) {
  auto marker = db_.cwd() / "started";
  auto bad_flag = wrap({"--no-such-flag"}, {"touch", marker.string()});
  EXPECT_EQ(bad_flag.exit_code, 2) << bad_flag.err;
  EXPECT_NE(bad_flag.err.find("sqltrack-run: error:"), std::string::npos) << bad_flag.err;
  auto bad_tag = wrap({"--tag", "novalue"}, {"touch", marker.string()});
  EXPECT_EQ(bad_tag.exit_code, 2) << bad_tag.err;
  auto empty = wrap({}, {});
  EXPECT_EQ(empty.exit_code, 2) << empty.err;
  EXPECT_FALSE(std::filesystem::exists(marker)) << "a bad invocation started the command";
}

TEST_P(RunTest, AttachesToExistingPendingRun) {
  ASSERT_EQ(wrap({"-e", "queue"}, {"true"}).exit_code, 0);
  auto conn = db_.connect();
  conn->query("INSERT INTO runs (experiment_id, status) SELECT id, 'PENDING' FROM experiments", {});
  std::string pending = scalar("SELECT max(id) FROM runs");
  auto result = wrap({"--run-id", pending}, {"sh", "-c", "echo $SQLTRACK_RUN_ID"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, pending + "\n");
  EXPECT_EQ(scalar("SELECT status FROM runs WHERE id = " + pending), "COMPLETED");
  EXPECT_EQ(scalar("SELECT count(*) FROM runs"), "2");
  // A run that already ended is not reopened: its status is written once.
  auto again = wrap({"--run-id", pending}, {"sh", "-c", "exit 5"});
  EXPECT_EQ(again.exit_code, 5);
  EXPECT_NE(again.err.find("already ended COMPLETED"), std::string::npos) << again.err;
  EXPECT_EQ(scalar("SELECT status FROM runs WHERE id = " + pending), "COMPLETED");
}

TEST_P(RunTest, ConcurrentWrappersCreateOneExperiment) {
  constexpr int kWrappers = 100;
  std::vector<std::unique_ptr<test::BackgroundProcess>> wrappers;
  test::CommandOptions options;
  options.cwd = db_.cwd();
  for (int i = 0; i < kWrappers; ++i) {
    wrappers.push_back(std::make_unique<test::BackgroundProcess>(
        wrapper_argv({"-e", "brand-new"}, {"true"}), options));
  }
  int failures = 0;
  std::string first_error;
  for (auto& w : wrappers) {
    int code = w->wait(std::chrono::seconds(120));
    std::string err = w->err();
    if (code != 0 || !err.empty()) {
      ++failures;
      if (first_error.empty()) first_error = "exit " + std::to_string(code) + ": " + err;
    }
  }
  EXPECT_EQ(failures, 0) << first_error;
  EXPECT_EQ(scalar("SELECT count(*) FROM experiments WHERE name = 'brand-new'"), "1");
  EXPECT_EQ(scalar("SELECT count(*) FROM runs"), std::to_string(kWrappers));
  EXPECT_EQ(scalar("SELECT count(*) FROM runs WHERE status = 'COMPLETED'"),
            std::to_string(kWrappers));
}

TEST_P(RunTest, StatusShowsWhatTheDatabaseHolds) {
  ASSERT_EQ(wrap({"-e", "alpha"}, {"true"}).exit_code, 0);
  ASSERT_EQ(wrap({"-e", "beta"}, {"sh", "-c", "exit 2"}).exit_code, 2);
  auto table = status({});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  auto lines = table.out;
  EXPECT_EQ(lines.rfind("RUN", 0), 0u) << lines;
  auto alpha = lines.find("alpha"), beta = lines.find("beta");
  ASSERT_NE(alpha, std::string::npos) << lines;
  ASSERT_NE(beta, std::string::npos) << lines;
  EXPECT_LT(beta, alpha) << "newest first";
  EXPECT_NE(lines.find("COMPLETED"), std::string::npos);
  EXPECT_NE(lines.find("FAILED"), std::string::npos);

  auto json = status({"--json", "-e", "beta"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto run = nlohmann::json::parse(json.out);
  EXPECT_EQ(run["experiment"], "beta");
  EXPECT_EQ(run["status"], "FAILED");
  EXPECT_EQ(run["exit_code"], 2);
  EXPECT_EQ(run["args"], nlohmann::json({"sh", "-c", "exit 2"}));
  EXPECT_TRUE(run["env"].is_object());
  EXPECT_EQ(run["id"].get<long long>(), std::stoll(last_run("id")));

  auto by_id = status({"--json", last_run("id")});
  EXPECT_EQ(std::count(by_id.out.begin(), by_id.out.end(), '\n'), 1) << by_id.out;
}

TEST_P(RunTest, StatusMarksStaleRunningRun) {
  ASSERT_EQ(wrap({"-e", "stale"}, {"true"}).exit_code, 0);
  auto conn = db_.connect();
  // A wrapper that died without a word: RUNNING, last heartbeat an hour ago.
  std::string hour_ago = format_timestamp(std::chrono::system_clock::now() - std::chrono::hours(1));
  const std::array<db::Value, 1> params{hour_ago};
  conn->query("UPDATE runs SET status = 'RUNNING', time_updated = $1, heartbeat_seconds = 30",
              params);
  auto table = status({});
  EXPECT_NE(table.out.find("RUNNING (stale)"), std::string::npos) << table.out;
}

INSTANTIATE_TEST_SUITE_P(Engines, RunTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

TEST(WrapperNumbers, OutOfRangeFlagsAndSettingsAreUsageErrorsBeforeAnythingStarts) {
  struct Case {
    std::vector<std::string> flags;
    std::map<std::string, std::optional<std::string>> env;
    std::vector<std::string> expected;  // in the one-line message
  };
  const std::vector<Case> cases = {
      {{"--heartbeat", "inf"}, {}, {"--heartbeat", "inf", "0.1 to 86400"}},
      {{"--heartbeat", "1e10"}, {}, {"--heartbeat", "1e+10", "0.1 to 86400"}},
      {{"--heartbeat", "1e-6"}, {}, {"--heartbeat", "1e-06", "0.1 to 86400"}},
      {{"--sample", "1e10"}, {}, {"--sample", "1e+10"}},
      {{"--metrics-fd", "65536"}, {}, {"--metrics-fd", "65536", "3 to 1023"}},
      {{"--metrics-fd", "2"}, {}, {"--metrics-fd", "2", "3 to 1023"}},
      {{},
       {{"SQLTRACK_DSN_FLUSH_INTERVAL", "inf"}},
       {"flush_interval", "SQLTRACK_DSN_FLUSH_INTERVAL", "inf"}},
      {{}, {{"SQLTRACK_DSN_BATCH_ROWS", "2.5"}}, {"batch_rows", "2.5", "whole number"}},
      {{}, {{"SQLTRACK_DSN_BUSY_TIMEOUT", "1e12"}}, {"busy_timeout", "1e12", "0 to 86400"}},
      {{}, {{"SQLTRACK_DSN_SYNC_TIMEOUT", "-1"}}, {"sync_timeout", "-1"}},
      {{}, {{"SQLTRACK_DSN_CONNECT_TIMEOUT", "1e12"}}, {"connect_timeout", "1e12", "1 to 3600"}},
      {{}, {{"SQLTRACK_DSN_SAMPLE_INTERVAL", "nan"}}, {"sample_interval", "nan"}},
  };
  test::TempDir dir;
  for (const auto& c : cases) {
    test::CommandOptions options;
    options.cwd = dir.path();
    options.env = c.env;
    std::vector<std::string> argv{SQLTRACK_RUN_BIN};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    argv.insert(argv.end(), {"--", "touch", (dir / "started").string()});
    test::BackgroundProcess wrapper(argv, options);
    std::string what =
        test::shell_command(c.flags) + " " + (c.env.empty() ? "" : c.env.begin()->first);
    int code = wrapper.wait(std::chrono::seconds(30));
    EXPECT_EQ(code, 2) << what << " (-1: still running after 30 s): " << wrapper.err();
    std::string err = wrapper.err();
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 2)
        << what << ": one error line and the hint: " << err;
    for (const auto& expected : c.expected) {
      EXPECT_NE(err.find(expected), std::string::npos)
          << what << ": the message lacks '" << expected << "': " << err;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "started")) << "a bad number started the command";
  EXPECT_FALSE(std::filesystem::exists(dir / "sqltrack.db")) << "a bad number opened the database";
}

// ---------------------------------------------------------------------------
// The wrapper among other processes: inherited signals, a terminal, a killed wrapper. The
// database engine plays no part here, so these run on SQLite only.

class WrapperProcessTest : public ::testing::Test {
 protected:
  test::CommandOptions in_db_dir() const {
    test::CommandOptions options;
    options.cwd = db_.cwd();
    return options;
  }
  std::vector<std::string> wrapper_argv(const std::vector<std::string>& flags,
                                        const std::vector<std::string>& command) const {
    return db_.wrapper_argv(flags, command);
  }
  std::string scalar(const std::string& sql) const {
    return db_.connect()->query(sql, {}).scalar().value_or("<NULL>");
  }
  std::string history() const {
    std::string text;
    for (const auto& row : db_.connect()
                               ->query("SELECT status || ': ' || coalesce(detail, '') FROM "
                                       "run_status_history ORDER BY id",
                                       {})
                               .rows) {
      text += row[0].value_or("<NULL>") + "\n";
    }
    return text;
  }
  // The pid a job wrote to `file`, once it is there.
  int pid_in(const std::filesystem::path& file) const {
    EXPECT_TRUE(test::wait_until([&] {
      return std::filesystem::exists(file) && test::read_file(file).find('\n') != std::string::npos;
    })) << file
        << " never got a pid";
    return std::stoi("0" + test::read_file(file));
  }

  EngineDatabase db_{db::Engine::sqlite};
};

TEST_F(WrapperProcessTest, SignalIgnoredAtStartStaysIgnored) {
  // A non-interactive shell starts `cmd &` with SIGINT and SIGQUIT ignored; the command
  // inherits that and runs on after a SIGINT, and so must the wrapper's record of it.
  auto ready = db_.cwd() / "ready";
  auto wrapper_pid = db_.cwd() / "wrapper.pid";
  std::string command =
      "trap 'exit 0' USR1; touch " + ready.string() + "; while :; do sleep 0.05; done";
  std::string script =
      test::shell_command(wrapper_argv({"-e", "ignored"}, {"bash", "-c", command})) +
      " & echo $! > " + wrapper_pid.string() + "; wait $!";
  test::BackgroundProcess shell({"bash", "-c", script}, in_db_dir());
  int wrapper = pid_in(wrapper_pid);
  ASSERT_TRUE(test::wait_until([&] { return std::filesystem::exists(ready); })) << shell.err();
  ::kill(wrapper, SIGINT);
  ::kill(wrapper, SIGUSR1);  // the command's cue to end normally, as after its last epoch
  EXPECT_EQ(shell.wait(), 0) << shell.err();
  EXPECT_EQ(scalar("SELECT status FROM runs"), "COMPLETED") << history();
  EXPECT_EQ(history().find("SIGINT"), std::string::npos) << history();
}

using test::PseudoTerminal;

TEST_F(WrapperProcessTest, CtrlCAtTheTerminalIsCancelledAndReachesTheCommandOnce) {
  // Like PyTorch Lightning: the script catches KeyboardInterrupt and ends normally. It also
  // reads the terminal, as an interactive python or pdb does.
  const std::string script = R"(
import os, sys
d = sys.argv[1]
caught = 0
while True:
    try:
        # Inside the try: a Ctrl-C typed as soon as this file exists is caught, not fatal.
        open(os.path.join(d, 'ready'), 'w').close()
        line = sys.stdin.readline()
        break
    except KeyboardInterrupt:
        caught += 1
        with open(os.path.join(d, 'caught'), 'w') as f:
            f.write(str(caught))
with open(os.path.join(d, 'result'), 'w') as f:
    f.write(f'{caught} {line.strip()}')
)";
  PseudoTerminal pty;
  ASSERT_FALSE(pty.slave.empty()) << "no pseudo-terminal";
  test::BackgroundProcess wrapper(
      wrapper_argv({"-e", "ctrl-c"}, {"python3", "-c", script, db_.cwd().string()}), in_db_dir(),
      pty.slave);
  ASSERT_TRUE(test::wait_until([&] { return std::filesystem::exists(db_.cwd() / "ready"); }))
      << wrapper.err();
  ASSERT_TRUE(test::wait_until([&] { return pty.foreground() != wrapper.pid(); }))
      << "the command's group never got the terminal";
  ASSERT_TRUE(pty.type("\x03"));
  ASSERT_TRUE(test::wait_until([&] { return std::filesystem::exists(db_.cwd() / "caught"); }))
      << "the script never saw the Ctrl-C: " << wrapper.err();
  ASSERT_TRUE(pty.type("go\n"));
  EXPECT_EQ(wrapper.wait(), 0) << wrapper.err();
  EXPECT_EQ(test::read_file(db_.cwd() / "result"), "1 go")
      << "expected exactly one KeyboardInterrupt, then the line typed";
  EXPECT_EQ(scalar("SELECT status FROM runs"), "CANCELLED") << history();
  EXPECT_EQ(scalar("SELECT count(*) FROM run_status_history "
                   "WHERE detail LIKE 'interrupted at the terminal (Ctrl-C)%'"),
            "2")
      << "one row when it was typed, one at the end:\n"
      << history();
}

TEST_F(WrapperProcessTest, CtrlBackslashAtTheTerminalIsCancelled) {
  PseudoTerminal pty;
  ASSERT_FALSE(pty.slave.empty()) << "no pseudo-terminal";
  auto pid_file = db_.cwd() / "child.pid";
  test::BackgroundProcess wrapper(
      wrapper_argv({"-e", "ctrl-backslash"},
                   {"sh", "-c", "echo $$ > " + pid_file.string() + "; exec sleep 1000"}),
      in_db_dir(), pty.slave);
  int child = pid_in(pid_file);
  ASSERT_TRUE(test::wait_until([&] {
    return test::read_file("/proc/" + std::to_string(child) + "/comm") == "sleep\n" &&
           pty.foreground() == child;
  })) << wrapper.err();
  ASSERT_TRUE(pty.type("\x1c"));
  EXPECT_EQ(wrapper.wait(), 128 + SIGQUIT) << wrapper.err();
  EXPECT_EQ(scalar("SELECT status FROM runs"), "CANCELLED") << history();
  EXPECT_EQ(scalar("SELECT signal FROM runs"), std::to_string(SIGQUIT));
  EXPECT_NE(history().find("interrupted at the terminal (Ctrl-\\)"), std::string::npos)
      << history();
}

TEST_F(WrapperProcessTest, NothingOfTheJobOutlivesAKilledWrapper) {
  // job.sh starts a Python writer of metrics and a process that leaves the job's process
  // group (setsid); the writer opens the FIFO only after the wrapper is gone.
  auto dir = db_.cwd();
  test::write_file(dir / "job.sh",
                   "python3 -c '\n"
                   "import os, time\n"
                   "open(\"writer.pid\", \"w\").write(f\"{os.getpid()}\\n\")\n"
                   "while not os.path.exists(\"go\"): time.sleep(0.02)\n"
                   "open(os.environ[\"SQLTRACK_METRICS\"], \"w\").write(\"step=1\\n\")\n"
                   "' &\n"
                   "setsid sleep 1000 &\n"
                   "echo $! > setsid.pid\n"
                   "echo \"$SQLTRACK_METRICS\" > fifo.path\n"
                   "wait\n");
  test::BackgroundProcess wrapper(wrapper_argv({"-e", "killed"}, {"bash", "job.sh"}), in_db_dir());
  int writer = pid_in(dir / "writer.pid");
  int left_group = pid_in(dir / "setsid.pid");
  ASSERT_TRUE(test::wait_until(
      [&] { return test::read_file(dir / "fifo.path").find('\n') != std::string::npos; }));
  std::string fifo = test::read_file(dir / "fifo.path");
  std::filesystem::path private_dir =
      std::filesystem::path(fifo.substr(0, fifo.size() - 1)).parent_path();
  wrapper.signal(SIGKILL);
  EXPECT_EQ(wrapper.wait(), 128 + SIGKILL);
  test::write_file(dir / "go", "");
  bool writer_gone = test::wait_until([&] { return !test::process_alive(writer); });
  bool left_group_gone = test::wait_until([&] { return !test::process_alive(left_group); });
  bool dir_gone = test::wait_until([&] { return !std::filesystem::exists(private_dir); });
  ::kill(writer, SIGKILL);  // whatever the outcome, leave nothing behind
  ::kill(left_group, SIGKILL);
  EXPECT_TRUE(writer_gone) << "the metrics writer " << writer
                           << " outlived the killed wrapper (blocked opening the FIFO)";
  EXPECT_TRUE(left_group_gone) << "the process " << left_group
                               << " that left the job's group outlived the killed wrapper";
  EXPECT_TRUE(dir_gone) << private_dir << " outlived the killed wrapper";
}

}  // namespace
}  // namespace sqltrack
