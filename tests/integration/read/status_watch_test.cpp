// `sqltrack-run status --watch` in a real terminal (a detached tmux session of a fixed size, on
// a tmux server of the test's own) and with its output in a file, against a SQLite database.
#include <gtest/gtest.h>

#include <array>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sqltrack/connect/connect.hpp"
#include "sqltrack/util/sparkline.hpp"
#include "sqltrack/util/terminal_text.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

namespace fs = std::filesystem;
using test::CommandResult;
using namespace std::chrono_literals;

// Generous: a refresh comes every second; this only bounds a broken build's wait.
constexpr auto kDeadline = 15s;

using test::shell_quote;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A tmux server on a socket in the test's directory: never the user's tmux.
class Tmux {
 public:
  explicit Tmux(const fs::path& dir) : socket_(dir / "tmux.sock"), config_(dir / "tmux.conf") {
    // No status line: the pane is the whole window. The pane stays when its command ends.
    test::write_file(config_, "set -g status off\nset -g remain-on-exit on\n");
  }
  ~Tmux() { run({"kill-server"}); }
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;

  CommandResult run(std::vector<std::string> args) const {
    std::vector<std::string> argv{"tmux", "-u", "-S", socket_.string(), "-f", config_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    test::CommandOptions options;
    options.env = {{"TMUX", std::nullopt}, {"LC_ALL", "C.UTF-8"}, {"TERM", "xterm-256color"}};
    return test::run_command(argv, options);
  }

  void start(const std::string& session, int columns, int rows, const std::string& command) {
    auto result = run({"new-session", "-d", "-s", session, "-x", std::to_string(columns), "-y",
                       std::to_string(rows), command});
    ASSERT_EQ(result.exit_code, 0) << "tmux new-session: " << result.err;
  }

  std::string screen(const std::string& session) const {
    return run({"capture-pane", "-p", "-t", session}).out;
  }

  std::string format(const std::string& session, const std::string& format) const {
    std::string out = run({"display-message", "-p", "-t", session, format}).out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  // Polls the screen until `predicate` holds for it or the deadline passes.
  bool wait_for_screen(const std::string& session,
                       const std::function<bool(const std::string&)>& predicate) const {
    return test::wait_until([&] { return predicate(screen(session)); }, kDeadline);
  }

 private:
  fs::path socket_;
  fs::path config_;
};

// The screen line of a run: the line that starts with its id and a blank.
std::string run_line(const std::string& screen, const std::string& run_id) {
  for (const auto& line : lines_of(screen)) {
    if (line.rfind(run_id + " ", 0) == 0) return line;
  }
  return "";
}

class StatusWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(dir_ / "v001.sql", "ALTER TABLE metrics ADD COLUMN val_loss REAL;\n");
    CommandResult setup = test::run_command({SQLTRACK_BIN, "setup", "v001.sql"}, in_dir());
    ASSERT_EQ(setup.exit_code, 0) << setup.err;
  }

  test::CommandOptions in_dir() const {
    test::CommandOptions options;
    options.cwd = dir_.path();
    return options;
  }

  std::string scalar(const std::string& sql) const {
    auto db = open_database(resolve_settings(
        {}, {{"SQLTRACK_DSN_PATH", (dir_ / "sqltrack.db").string()}}, dir_.path()));
    return db->query(sql, {}).scalar().value_or("<NULL>");
  }

  // A shell command line for tmux: the watch in the database's directory.
  std::string watch_command(const std::string& flags, bool exec = true) const {
    return "cd " + shell_quote(dir_.path().string()) + " && " + (exec ? "exec " : "") +
           shell_quote(SQLTRACK_RUN_BIN) + " status --watch --interval 1 " + flags;
  }

  void set_status(const std::string& run_id, const std::string& status) const {
    auto db = open_database(resolve_settings(
        {}, {{"SQLTRACK_DSN_PATH", (dir_ / "sqltrack.db").string()}}, dir_.path()));
    const std::array<db::Value, 2> params{status, std::stoll(run_id)};
    db->query("UPDATE runs SET status = $1 WHERE id = $2", params);
  }

  test::TempDir dir_;
};

TEST_F(StatusWatchTest, RedrawsInPlaceWhenARunEndsAndDrawsTheMetricAsASparkline) {
  // A run that writes ten falling val_loss values, then waits for the test to let it finish.
  test::BackgroundProcess job(
      {SQLTRACK_RUN_BIN, "-e", "watched", "--", "bash", "-c",
       "for i in 0 1 2 3 4 5 6 7 8 9; do echo \"step=$i val_loss=$((9 - i))\" > "
       "\"$SQLTRACK_METRICS\"; done; while [ ! -e finish ]; do sleep 0.05; done"},
      in_dir());
  ASSERT_TRUE(
      test::wait_until([&] { return scalar("SELECT count(*) FROM metrics") == "10"; }, kDeadline))
      << "metric rows: " << scalar("SELECT count(*) FROM metrics") << "\n"
      << job.err();
  std::string run_id = scalar("SELECT max(id) FROM runs");

  Tmux tmux(dir_.path());
  tmux.start("wide", 160, 20, watch_command("--metric val_loss"));
  tmux.start("narrow", 60, 20, watch_command(""));

  std::string expected_sparkline = sparkline(std::vector<double>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  auto running = [&](const std::string& screen) {
    std::string line = run_line(screen, run_id);
    return line.find("RUNNING") != std::string::npos &&
           line.find(expected_sparkline + " 0") != std::string::npos;
  };
  ASSERT_TRUE(tmux.wait_for_screen("wide", running))
      << "expected run " << run_id << " RUNNING with val_loss " << expected_sparkline
      << " 0, got the screen:\n"
      << tmux.screen("wide");
  EXPECT_NE(tmux.screen("wide").find("val_loss"), std::string::npos) << "the column's header";
  EXPECT_EQ(tmux.format("wide", "#{alternate_on} #{cursor_flag}"), "1 0")
      << "the watch runs on the alternate screen with the cursor hidden";

  // Lines wider than the terminal are cut, not wrapped onto the next row.
  ASSERT_TRUE(tmux.wait_for_screen("narrow", [&](const std::string& screen) {
    return !run_line(screen, run_id).empty();
  })) << tmux.screen("narrow");
  auto narrow = lines_of(tmux.screen("narrow"));
  ASSERT_GE(narrow.size(), 4u);
  EXPECT_EQ(narrow[2].rfind("RUN ", 0), 0u) << tmux.screen("narrow");
  EXPECT_EQ(narrow[3].rfind(run_id + " ", 0), 0u) << tmux.screen("narrow");
  for (const auto& line : narrow) EXPECT_LE(display_width(line), 60u) << line;

  test::write_file(dir_ / "finish", "");
  ASSERT_EQ(job.wait(), 0) << job.err();
  ASSERT_TRUE(tmux.wait_for_screen("wide",
                                   [&](const std::string& screen) {
                                     return run_line(screen, run_id).find("COMPLETED") !=
                                            std::string::npos;
                                   }))
      << "expected run " << run_id << " COMPLETED at a later refresh, got:\n"
      << tmux.screen("wide");
  EXPECT_NE(run_line(tmux.screen("wide"), run_id).find(expected_sparkline), std::string::npos);
}

// The pid of the only child of `pid` (the watch started by the pane's shell).
int child_of(int pid) {
  std::ifstream children("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) +
                         "/children");
  int child = -1;
  children >> child;
  return child;
}

TEST_F(StatusWatchTest, CtrlCAndSigtermGiveTheTerminalItsScreenAndCursorBack) {
  ASSERT_EQ(test::run_command({SQLTRACK_RUN_BIN, "-e", "quiet", "--", "true"}, in_dir()).exit_code,
            0);
  Tmux tmux(dir_.path());
  // The shell traps SIGINT (its child gets the default action back) so that it outlives the
  // watch, prints its exit status and keeps the pane alive to be inspected.
  for (const char* session : {"interrupted", "terminated"}) {
    tmux.start(session, 120, 20,
               "bash -c " + shell_quote("trap : INT TERM; " + watch_command("", false) +
                                        "; echo \"watch exited with $?\"; exec sleep 60"));
  }
  for (const char* session : {"interrupted", "terminated"}) {
    ASSERT_TRUE(tmux.wait_for_screen(session, [](const std::string& screen) {
      return screen.find("COMPLETED") != std::string::npos;
    })) << tmux.screen(session);
    EXPECT_EQ(tmux.format(session, "#{alternate_on} #{cursor_flag}"), "1 0") << session;
  }

  ASSERT_EQ(tmux.run({"send-keys", "-t", "interrupted", "C-c"}).exit_code, 0);
  int shell = std::stoi(tmux.format("terminated", "#{pane_pid}"));
  int watch = child_of(shell);
  ASSERT_GT(watch, 0) << "no child of the pane's shell " << shell;
  ASSERT_EQ(kill(watch, SIGTERM), 0);

  for (auto [session, status] : {std::pair{"interrupted", 130}, std::pair{"terminated", 143}}) {
    std::string exited = "watch exited with " + std::to_string(status);
    EXPECT_TRUE(tmux.wait_for_screen(
        session,
        [&](const std::string& screen) { return screen.find(exited) != std::string::npos; }))
        << "expected '" << exited << "' on the shell's screen, got:\n"
        << tmux.screen(session);
    EXPECT_EQ(tmux.format(session, "#{alternate_on} #{cursor_flag}"), "0 1")
        << session << ": the shell's screen and a visible cursor are back";
  }
}

TEST_F(StatusWatchTest, CtrlZGivesTheScreenBackWhileStoppedAndFgRedrawsIt) {
  ASSERT_EQ(test::run_command({SQLTRACK_RUN_BIN, "-e", "quiet", "--", "true"}, in_dir()).exit_code,
            0);
  Tmux tmux(dir_.path());
  // An interactive shell with job control, as a user has.
  tmux.start("shell", 120, 20, "bash --norc --noprofile -i");
  auto state = [&] { return tmux.format("shell", "#{alternate_on} #{cursor_flag}"); };
  auto wait_for_state = [&](const std::string& expected) {
    return test::wait_until([&] { return state() == expected; }, kDeadline);
  };
  ASSERT_EQ(tmux.run({"send-keys", "-t", "shell", "-l", watch_command("", false)}).exit_code, 0);
  ASSERT_EQ(tmux.run({"send-keys", "-t", "shell", "Enter"}).exit_code, 0);
  ASSERT_TRUE(tmux.wait_for_screen("shell", [](const std::string& screen) {
    return screen.find("COMPLETED") != std::string::npos;
  })) << tmux.screen("shell");
  ASSERT_TRUE(wait_for_state("1 0")) << state();

  ASSERT_EQ(tmux.run({"send-keys", "-t", "shell", "C-z"}).exit_code, 0);
  EXPECT_TRUE(wait_for_state("0 1"))
      << "stopped: the shell's screen, a visible cursor; got " << state();
  EXPECT_TRUE(tmux.wait_for_screen("shell", [](const std::string& screen) {
    return screen.find("Stopped") != std::string::npos;
  })) << tmux.screen("shell");

  ASSERT_EQ(tmux.run({"send-keys", "-t", "shell", "fg", "Enter"}).exit_code, 0);
  EXPECT_TRUE(wait_for_state("1 0")) << "after fg: full screen again; got " << state();
  EXPECT_TRUE(tmux.wait_for_screen("shell", [](const std::string& screen) {
    return screen.find("COMPLETED") != std::string::npos;
  })) << tmux.screen("shell");

  ASSERT_EQ(tmux.run({"send-keys", "-t", "shell", "C-c"}).exit_code, 0);
  EXPECT_TRUE(wait_for_state("0 1")) << "after Ctrl-C; got " << state();
}

// What the process wrote so far; its output file appears only once the child has opened it.
std::string output_so_far(const test::BackgroundProcess& process) {
  try {
    return process.out();
  } catch (const std::exception&) {
    return "";
  }
}

TEST_F(StatusWatchTest, WithoutATerminalEachRefreshIsAPlainBlock) {
  ASSERT_EQ(test::run_command({SQLTRACK_RUN_BIN, "-e", "plain", "--", "true"}, in_dir()).exit_code,
            0);
  std::string run_id = scalar("SELECT max(id) FROM runs");
  test::BackgroundProcess watch({SQLTRACK_RUN_BIN, "status", "--watch", "--interval", "1"},
                                in_dir());
  ASSERT_TRUE(test::wait_until(
      [&] { return run_line(output_so_far(watch), run_id).find("COMPLETED") != std::string::npos; },
      kDeadline))
      << output_so_far(watch) << watch.err();
  set_status(run_id, "FAILED");
  auto failed_shown = [&] {
    for (const auto& line : lines_of(output_so_far(watch))) {
      if (line.rfind(run_id + " ", 0) == 0 && line.find("FAILED") != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(test::wait_until(failed_shown, kDeadline))
      << "expected a later block with run " << run_id << " FAILED, got:\n"
      << output_so_far(watch);
  watch.signal(SIGTERM);
  watch.wait();
  std::string out = output_so_far(watch);
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << "no escapes in a file:\n" << out;
  // Blocks: a title line, a blank line, the table, and a blank line before the next block.
  auto lines = lines_of(out);
  ASSERT_GE(lines.size(), 4u) << out;
  EXPECT_EQ(lines[0].rfind("sqltrack-run status   every 1 s   ", 0), 0u) << out;
  EXPECT_EQ(lines[1], "");
  EXPECT_EQ(lines[2].rfind("RUN ", 0), 0u) << out;
  std::size_t titles = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("sqltrack-run status", 0) != 0) continue;
    ++titles;
    if (i > 0) {
      EXPECT_EQ(lines[i - 1], "") << "line " << i << " of:\n" << out;
    }
  }
  EXPECT_GE(titles, 2u) << out;
}

TEST_F(StatusWatchTest, MetricThatIsNotAColumnIsOneLineNamingTheColumnsThatExist) {
  CommandResult result =
      test::run_command({SQLTRACK_RUN_BIN, "status", "--watch", "--metric", "val_los"}, in_dir());
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_EQ(result.err,
            "sqltrack-run: error: no metric column \"val_los\" in metrics; its metric columns "
            "are: val_loss\n");
  EXPECT_EQ(result.out, "") << "nothing drawn before the error";
}

TEST_F(StatusWatchTest, StatusWithAMetricButNoWatchPrintsTheTableOnce) {
  ASSERT_EQ(test::run_command({SQLTRACK_RUN_BIN, "-e", "once", "--", "bash", "-c",
                               "for i in 1 2 3; do echo \"step=$i val_loss=$i.5\" > "
                               "\"$SQLTRACK_METRICS\"; done"},
                              in_dir())
                .exit_code,
            0);
  CommandResult result =
      test::run_command({SQLTRACK_RUN_BIN, "status", "--metric", "val_loss"}, in_dir());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 2u) << result.out;
  EXPECT_NE(lines[0].find("STEP  val_loss"), std::string::npos) << result.out;
  EXPECT_NE(lines[1].find("3     ▁▅█ 3.5"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace sqltrack
