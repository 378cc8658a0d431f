// The job's process tree from /proc: who belongs to it and what it uses.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <string>
#include <thread>

#include "sqltrack/monitor/process_tree_sampler.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

// A /proc/PID/stat line: `comm`, then fields 3 to 52 with the ones under test set.
std::string stat_line(const std::string& comm, int ppid, int pgid, int utime, int stime, int cutime,
                      int cstime, int rss) {
  std::string line = "4242 (" + comm + ") S " + std::to_string(ppid) + " " + std::to_string(pgid) +
                     " 4242 0 -1 4194560 100 0 0 0 " + std::to_string(utime) + " " +
                     std::to_string(stime) + " " + std::to_string(cutime) + " " +
                     std::to_string(cstime) + " 20 0 1 0 12345 1000000 " + std::to_string(rss);
  for (int field = 25; field <= 52; ++field) line += " 0";
  return line + "\n";
}

TEST(ParseProcStat, ReadsTheFieldsAfterTheCommandName) {
  auto stat = parse_proc_stat(stat_line("python", 1, 4242, 10, 5, 3, 2, 777));
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->pid, 4242);
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->ppid, 1);
  EXPECT_EQ(stat->pgid, 4242);
  EXPECT_EQ(stat->cpu_ticks, 20u) << "utime + stime + cutime + cstime";
  EXPECT_EQ(stat->rss_pages, 777u);
}

TEST(ParseProcStat, CommandNameMayHoldSpacesAndParentheses) {
  auto stat = parse_proc_stat(stat_line("a) S 9 9 (b", 7, 8, 1, 1, 0, 0, 5));
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->ppid, 7);
  EXPECT_EQ(stat->pgid, 8);
  EXPECT_EQ(stat->rss_pages, 5u);
}

TEST(ParseProcStat, RejectsWhatIsNotAStatLine) {
  EXPECT_FALSE(parse_proc_stat("").has_value());
  EXPECT_FALSE(parse_proc_stat("4242 (sh) S 1 2 3").has_value()) << "too few fields";
  EXPECT_FALSE(
      parse_proc_stat("x (sh)" + stat_line("sh", 1, 1, 0, 0, 0, 0, 0).substr(9)).has_value())
      << "pid is not a number";
}

// Burns CPU; the volatile store keeps the compiler from dropping the loop.
int spin(int rounds) {
  volatile int sink = 0;
  for (int i = 0; i < rounds; ++i) sink = i;
  return sink;
}

// A child in its own process group that busy-loops while its grandchild, in a group of its
// own (so only the parent link ties it to the job), busy-loops too.
struct BusyTree {
  pid_t child = -1;
  pid_t grandchild = -1;

  BusyTree() {
    int fds[2];
    if (::pipe(fds) != 0) return;
    child = ::fork();
    if (child == 0) {
      ::setpgid(0, 0);
      pid_t grand = ::fork();
      if (grand == 0) {
        ::setpgid(0, 0);
        while (true) spin(1000000);
      }
      (void)!::write(fds[1], &grand, sizeof grand);
      // Busy too, and reaps the grandchild when the test kills it.
      int status = 0;
      while (::waitpid(grand, &status, WNOHANG) == 0) spin(1000000);
      ::_exit(0);
    }
    ::close(fds[1]);
    if (child > 0 && ::read(fds[0], &grandchild, sizeof grandchild) != sizeof grandchild) {
      grandchild = -1;
    }
    ::close(fds[0]);
    // The child's setpgid may not have run yet when the test looks: make sure it has.
    if (child > 0) ::setpgid(child, child);
  }

  ~BusyTree() {
    if (grandchild > 0) ::kill(grandchild, SIGKILL);
    if (child > 0) {
      int status = 0;
      ::waitpid(child, &status, 0);
    }
  }
};

// CPU time of one process (its own threads, not its children) from the kernel's
// per-process CPU clock: a second source to check the sampler against.
double cpu_seconds_of(pid_t pid) {
  clockid_t clock{};
  timespec time{};
  if (::clock_getcpuclockid(pid, &clock) != 0 || ::clock_gettime(clock, &time) != 0) return -1;
  return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_nsec) / 1e9;
}

TEST(ProcessTreeSampler, ABusyChildAndItsGrandchildAreTheTree) {
  BusyTree tree;
  ASSERT_GT(tree.child, 0) << "fork failed";
  ASSERT_GT(tree.grandchild, 0) << "the child did not report its grandchild";

  auto tree_cpu = [&] { return cpu_seconds_of(tree.child) + cpu_seconds_of(tree.grandchild); };
  const double child_start = cpu_seconds_of(tree.child);
  const double grandchild_start = cpu_seconds_of(tree.grandchild);
  ASSERT_GE(child_start, 0) << "cannot read the child's CPU clock";
  ASSERT_GE(grandchild_start, 0) << "cannot read the grandchild's CPU clock";
  // The busy processes run on while a snapshot reads /proc (slowly under load and ASan): the
  // CPU clocks read around each snapshot bound what it can have seen.
  const double cpu_before_outer = tree_cpu();
  ProcessTreeSnapshot before = snapshot_process_tree({.root = tree.child});
  const double cpu_before_inner = tree_cpu();
  // However loaded the machine, until both have used a good share of CPU.
  ASSERT_TRUE(test::wait_until([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return cpu_seconds_of(tree.child) - child_start > 0.2 &&
           cpu_seconds_of(tree.grandchild) - grandchild_start > 0.2;
  })) << "the busy processes did not run";
  const double cpu_after_inner = tree_cpu();
  ProcessTreeSnapshot after = snapshot_process_tree({.root = tree.child});
  const double cpu_after_outer = tree_cpu();

  std::vector<pid_t> expected{tree.child, tree.grandchild};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(after.pids, expected) << "the tree must hold the child and its grandchild";
  EXPECT_EQ(after.processes, 2u);
  EXPECT_GT(after.rss_bytes, 0u);

  ResourceUsage usage = usage_between(before, after);
  ASSERT_GT(usage.interval_seconds, 0.0);
  const double sampled = usage.cpu_percent * usage.interval_seconds / 100;
  // Both clocks count the same CPU time; /proc's in ticks (0.01 s), truncated per reading: a
  // difference is < 0.01 s off per process, 0.02 s for the two; twice that as slack for the
  // scaling /proc applies when it splits user and system time.
  const double tick_error = 0.04;
  const double least = cpu_after_inner - cpu_before_inner - tick_error;
  const double most = cpu_after_outer - cpu_before_outer + tick_error;
  EXPECT_GE(sampled, least) << "the sampler saw " << usage.cpu_percent << " % over "
                            << usage.interval_seconds
                            << " s; the processes' CPU clocks say at least " << least + tick_error
                            << " s";
  EXPECT_LE(sampled, most) << "the sampler saw " << usage.cpu_percent << " % over "
                           << usage.interval_seconds << " s; the processes' CPU clocks say at most "
                           << most - tick_error << " s";
  // Each used over 0.2 s; ticks are truncated per process.
  EXPECT_GT(sampled, 0.35) << "both processes' CPU time must count";
  EXPECT_EQ(usage.rss_bytes, after.rss_bytes);
  EXPECT_EQ(usage.processes, 2u);
}

TEST(ProcessTreeSampler, OtherProcessesAreNotTheTree) {
  BusyTree tree;
  ASSERT_GT(tree.child, 0) << "fork failed";
  // The test process is the child's parent, not part of its tree.
  ProcessTreeSnapshot snapshot = snapshot_process_tree({.root = tree.child});
  EXPECT_FALSE(std::binary_search(snapshot.pids.begin(), snapshot.pids.end(), ::getpid()));
  EXPECT_FALSE(std::binary_search(snapshot.pids.begin(), snapshot.pids.end(), 1));
}

TEST(ProcessTreeSampler, AGoneProcessIsAnEmptyTree) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ::waitpid(child, &status, 0);
  ProcessTreeSnapshot snapshot = snapshot_process_tree({.root = child});
  EXPECT_TRUE(snapshot.pids.empty());
  EXPECT_EQ(snapshot.processes, 0u);
  EXPECT_EQ(snapshot.rss_bytes, 0u);
}

TEST(UsageBetween, CountersThatWentDownCountAsZero) {
  ProcessTreeSnapshot before;
  before.taken = std::chrono::steady_clock::time_point(std::chrono::seconds(10));
  before.cpu_ticks = 1000;
  before.read_bytes = 5000;
  before.write_bytes = 100;
  ProcessTreeSnapshot after = before;
  after.taken += std::chrono::seconds(2);
  after.cpu_ticks = 500;  // a process reaped by the wrapper took its time with it
  after.read_bytes = 6000;
  after.write_bytes = 50;
  after.rss_bytes = 4096;
  after.processes = 3;
  ResourceUsage usage = usage_between(before, after);
  EXPECT_DOUBLE_EQ(usage.interval_seconds, 2.0);
  EXPECT_DOUBLE_EQ(usage.cpu_percent, 0.0);
  EXPECT_EQ(usage.read_bytes, 1000u);
  EXPECT_EQ(usage.write_bytes, 0u);
  EXPECT_EQ(usage.rss_bytes, 4096u);
  EXPECT_EQ(usage.processes, 3u);
}

TEST(UsageBetween, OneCoreBusyIsOneHundredPercent) {
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  ProcessTreeSnapshot before;
  ProcessTreeSnapshot after;
  after.taken = before.taken + std::chrono::seconds(4);
  after.cpu_ticks = static_cast<std::uint64_t>(ticks * 4);  // 4 s of CPU in 4 s
  EXPECT_DOUBLE_EQ(usage_between(before, after).cpu_percent, 100.0);
}

}  // namespace
}  // namespace sqltrack
