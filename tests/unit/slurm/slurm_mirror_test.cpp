// Helper processes (slurm_command) and the signal-time mirror (slurm_mirror):
// real processes on a real io_context; only Slurm's answer is faked.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>

#include "slurm_fake_tools.hpp"
#include "sqltrack/slurm/slurm_mirror.hpp"
#include "sqltrack/util/helper_process.hpp"

namespace sqltrack {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// One line of `scontrol show job -o`, as Slurm 22.05 prints it (shortened).
std::string scontrol_line(const std::string& job_id, const std::string& state,
                          const std::string& reason, int restarts,
                          const std::string& preempt_time = "None", const std::string& array = "") {
  return "JobId=" + job_id + array + " JobName=train lr=0.1 UserId=root(0) GroupId=root(0) " +
         "Priority=1 JobState=" + state + " Reason=" + reason + " Dependency=(null) Requeue=1 " +
         "Restarts=" + std::to_string(restarts) + " BatchFlag=1 ExitCode=0:15 " +
         "PreemptTime=" + preempt_time + " Partition=debug Command=/x/job.sh StdOut=/x/out";
}

SlurmJobFacts job_facts(const std::string& job_id, int restart_count = 0) {
  SlurmJobFacts facts;
  facts.job_id = job_id;
  facts.restart_count = restart_count;
  return facts;
}

TEST(SlurmHelper, CapturesOutputAndExitCode) {
  boost::asio::io_context io;
  std::optional<HelperOutput> output;
  async_run_helper(io, {"sh", "-c", "echo out; echo err >&2; exit 3"}, 5s,
                   [&](HelperOutput result) { output = std::move(result); });
  EXPECT_FALSE(output) << "the callback must come from the loop, not from the call";
  io.run();
  ASSERT_TRUE(output);
  EXPECT_TRUE(output->started);
  EXPECT_FALSE(output->timed_out);
  EXPECT_EQ(output->exit_code, 3);
  EXPECT_EQ(output->out, "out\n");
  EXPECT_EQ(output->err, "err\n");
  EXPECT_EQ(output->describe(), "exit 3: err");
}

TEST(SlurmHelper, ReportsASignalDeath) {
  auto output = run_helper({"sh", "-c", "kill -TERM $$"}, 5s);
  EXPECT_EQ(output.term_signal, SIGTERM);
  EXPECT_FALSE(output.succeeded());
  EXPECT_EQ(output.describe(), "killed by signal 15");
}

TEST(SlurmHelper, DeadlineKillsAHangingHelperWithoutBlockingTheLoop) {
  boost::asio::io_context io;
  std::optional<HelperOutput> output;
  auto started = SteadyClock::now();
  SteadyClock::time_point answered;
  async_run_helper(io, {"sleep", "30"}, 300ms, [&](HelperOutput result) {
    answered = SteadyClock::now();
    output = std::move(result);
  });
  // Other work on the loop goes on while the helper hangs.
  int ticks = 0;
  boost::asio::steady_timer tick(io);
  std::function<void()> schedule = [&] {
    tick.expires_after(50ms);
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (ec || output) return;
      ++ticks;
      schedule();
    });
  };
  schedule();
  io.run();
  ASSERT_TRUE(output);
  EXPECT_TRUE(output->timed_out);
  EXPECT_EQ(output->describe(), "did not answer within 300 ms");
  EXPECT_GE(ticks, 3);
  EXPECT_LT(answered - started, 5s);
}

TEST(SlurmHelper, MissingCommandIsReportedFromTheLoop) {
  boost::asio::io_context io;
  std::optional<HelperOutput> output;
  async_run_helper(io, {"no-such-slurm-tool-here"}, 1s,
                   [&](HelperOutput result) { output = std::move(result); });
  EXPECT_FALSE(output);
  io.run();
  ASSERT_TRUE(output);
  EXPECT_FALSE(output->started);
  EXPECT_EQ(output->describe(), "no-such-slurm-tool-here: not found in PATH");
}

TEST(SlurmVerdict, ReadsTheRecordOfTheJob) {
  HelperOutput answer;
  answer.started = true;
  answer.exit_code = 0;
  // `scontrol show job 12` lists every task of array 12: task 12_5 is job 17.
  answer.out =
      scontrol_line("16", "RUNNING", "None", 0, "None", " ArrayJobId=12 ArrayTaskId=4") + "\n" +
      scontrol_line("17", "COMPLETING", "TimeLimit", 0, "None", " ArrayJobId=12 ArrayTaskId=5") +
      "\n";
  auto verdict = verdict_from_scontrol(answer, job_facts("17"), SIGTERM);
  EXPECT_EQ(verdict.status, RunStatus::TIMEOUT);
  auto other = verdict_from_scontrol(answer, job_facts("16"), SIGTERM);
  EXPECT_EQ(other.status, RunStatus::CANCELLED);
  EXPECT_TRUE(other.user_signal);
  auto missing = verdict_from_scontrol(answer, job_facts("18"), SIGTERM);
  EXPECT_EQ(missing.status, RunStatus::CANCELLED);
  EXPECT_NE(missing.detail.find("no record of job 18; reason unknown"), std::string::npos)
      << missing.detail;
}

TEST(SlurmVerdict, NoAnswerIsCancelledWithUnknownReason) {
  HelperOutput timed_out;
  timed_out.started = true;
  timed_out.timed_out = true;
  timed_out.error = "did not answer within 3 s";
  auto verdict = verdict_from_scontrol(timed_out, job_facts("12"), SIGTERM);
  EXPECT_EQ(verdict.status, RunStatus::CANCELLED);
  EXPECT_FALSE(verdict.user_signal);
  EXPECT_EQ(verdict.detail,
            "SIGTERM: Slurm did not answer (scontrol show job -o 12: did not answer within 3 s); "
            "reason unknown");
}

class SlurmMirrorTest : public ::testing::Test {
 protected:
  // The verdict the mirror calls back with, and how long it took.
  std::optional<SignalVerdict> ask(const SlurmJobFacts& facts, std::chrono::milliseconds timeout,
                                   int signal = SIGTERM) {
    boost::asio::io_context io;
    SlurmSignalMirror mirror(io, facts, timeout);
    std::optional<SignalVerdict> verdict;
    auto started = SteadyClock::now();
    EXPECT_TRUE(mirror.ask(signal, [&](const SignalVerdict& v) { verdict = v; }));
    EXPECT_TRUE(mirror.busy());
    EXPECT_FALSE(mirror.ask(signal, [](const SignalVerdict&) { ADD_FAILURE() << "asked twice"; }));
    while (mirror.busy()) io.run_one();
    took_ = SteadyClock::now() - started;
    EXPECT_TRUE(mirror.verdict());
    return verdict;
  }

  test::FakeSlurmTools tools_;
  SteadyClock::duration took_{};
};

TEST_F(SlurmMirrorTest, TimeLimitIsTimeout) {
  tools_.add("scontrol", "echo '" + scontrol_line("42", "COMPLETING", "TimeLimit", 0) + "'");
  auto verdict = ask(job_facts("42"), 3s);
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->status, RunStatus::TIMEOUT);
  EXPECT_EQ(tools_.calls("scontrol"), "show job -o 42\n");
}

TEST_F(SlurmMirrorTest, RestartsAboveOursIsRequeued) {
  tools_.add("scontrol", "echo '" + scontrol_line("42", "COMPLETING", "None", 2) + "'");
  auto verdict = ask(job_facts("42", 1), 3s);
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->status, RunStatus::REQUEUED);
}

TEST_F(SlurmMirrorTest, PreemptTimeIsPreempted) {
  tools_.add("scontrol",
             "echo '" + scontrol_line("42", "COMPLETING", "None", 0, "2026-11-23T12:00:00") + "'");
  auto verdict = ask(job_facts("42"), 3s);
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->status, RunStatus::PREEMPTED);
}

TEST_F(SlurmMirrorTest, SlurmThatHangsFallsBackToCancelledWithinTheTimeout) {
  tools_.add("scontrol", "exec sleep 30");
  auto verdict = ask(job_facts("42"), 400ms);
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->status, RunStatus::CANCELLED);
  EXPECT_NE(verdict->detail.find("did not answer within 400 ms"), std::string::npos)
      << verdict->detail;
  EXPECT_NE(verdict->detail.find("reason unknown"), std::string::npos);
  EXPECT_LT(took_, 5s);
}

TEST_F(SlurmMirrorTest, SlurmErrorFallsBackToCancelled) {
  tools_.add("scontrol",
             "echo 'slurm_load_jobs error: Unable to contact slurm controller' >&2\nexit 1");
  auto verdict = ask(job_facts("42"), 3s);
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->status, RunStatus::CANCELLED);
  EXPECT_NE(verdict->detail.find("Unable to contact slurm controller"), std::string::npos)
      << verdict->detail;
}

TEST_F(SlurmMirrorTest, AMirrorGoneBeforeTheAnswerCallsNobody) {
  tools_.add("scontrol", "sleep 0.3; echo '" + scontrol_line("42", "COMPLETING", "None", 0) + "'");
  boost::asio::io_context io;
  bool called = false;
  {
    SlurmSignalMirror mirror(io, job_facts("42"), 3s);
    mirror.ask(SIGTERM, [&](const SignalVerdict&) { called = true; });
  }
  io.run();  // the helper still finishes and is reaped
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace sqltrack
