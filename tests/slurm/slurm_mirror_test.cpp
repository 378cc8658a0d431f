// SlurmSignalMirror inside real jobs: this test binary runs as the job (the
// probe below), waits for SIGTERM, asks Slurm through the mirror and writes
// the verdict to a file; the tests make Slurm end the job in different ways.
#include <gtest/gtest.h>

#include <cstdio>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdlib>

#include "slurm/slurm_support.hpp"
#include "sqltrack/slurm/slurm_mirror.hpp"
#include "sqltrack/util/environment.hpp"

namespace sqltrack {
namespace {

using namespace std::chrono_literals;
using test::SlurmJobTest;

constexpr const char* kProbeVariable = "SQLTRACK_MIRROR_PROBE";

// The body of the jobs the tests below submit: this executable, started with
// SQLTRACK_MIRROR_PROBE set, runs it before any test and exits.
void run_mirror_probe(const char* verdict_path) {
  auto facts = slurm_facts_from_env(current_environment());
  if (!facts) {
    std::fprintf(stderr, "mirror probe: not inside a Slurm job\n");
    std::exit(1);
  }
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGTERM);
  SlurmSignalMirror mirror(io, *facts);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    mirror.ask(signal, [&](const SignalVerdict& verdict) {
      // Whole or not at all: the test reads the file as soon as it exists.
      std::string partial = std::string(verdict_path) + ".partial";
      test::write_file(partial, std::string(to_string(verdict.status)) + "|" +
                                    (verdict.user_signal ? "user" : "slurm") + "|" +
                                    verdict.detail + "\n");
      std::filesystem::rename(partial, verdict_path);
    });
  });
  test::write_file(std::string(verdict_path) + ".ready", "");
  io.run();  // until the verdict is written
}

const bool kRanAsMirrorProbe = [] {
  if (const char* verdict_path = std::getenv(kProbeVariable)) {
    run_mirror_probe(verdict_path);
    std::exit(0);
  }
  return false;
}();

class SlurmMirrorTest : public SlurmJobTest {
 protected:
  // Submits the probe; returns its job id once it waits for SIGTERM.
  std::string submit_probe(std::vector<std::string> args) {
    args.push_back(std::string("--export=ALL,") + kProbeVariable + "=" + verdict_path().string());
    auto self = std::filesystem::read_symlink("/proc/self/exe").string();
    auto job = sbatch(args, "#!/bin/bash\nexec '" + self + "'\n");
    EXPECT_TRUE(test::wait_until(
        [&] { return std::filesystem::exists(verdict_path().string() + ".ready"); }, 60s))
        << job_output(job + ".out");
    return job;
  }

  std::filesystem::path verdict_path() const { return job_dir() / "verdict"; }

  std::string verdict() {
    test::wait_until([&] { return std::filesystem::exists(verdict_path()); }, 30s);
    return job_output("verdict");
  }
};

TEST_F(SlurmMirrorTest, ScancelIsCancelled) {
  auto job = submit_probe({});
  ASSERT_EQ(slurm({"scancel", job}).exit_code, 0);
  EXPECT_EQ(verdict(),
            "CANCELLED|slurm|SIGTERM: job cancelled (JobState=COMPLETING Reason=None)\n");
}

TEST_F(SlurmMirrorTest, RequeueIsRequeued) {
  auto job = submit_probe({"--requeue"});
  ASSERT_EQ(slurm({"scontrol", "requeue", job}).exit_code, 0);
  EXPECT_EQ(verdict(),
            "REQUEUED|slurm|SIGTERM: job requeued (Restarts=1, this run started at restart 0)\n");
}

TEST_F(SlurmMirrorTest, PreemptionInCancelModeIsPreempted) {
  auto job = submit_probe({"-p", "low"});
  // A job of the higher-priority partition that needs the whole node.
  sbatch({"-p", "high", "--exclusive"}, "#!/bin/bash\nsleep 1\n");
  auto text = verdict();
  EXPECT_EQ(text.substr(0, text.find('|')), "PREEMPTED") << text;
  EXPECT_NE(text.find("job preempted (PreemptTime="), std::string::npos) << text;
}

TEST_F(SlurmMirrorTest, UsersOwnSignalIsNotSlurmEndingTheJob) {
  auto job = submit_probe({});
  // scancel -b: to the batch shell only; Slurm still calls the job RUNNING.
  ASSERT_EQ(slurm({"scancel", "-b", "-s", "TERM", job}).exit_code, 0);
  auto text = verdict();
  EXPECT_EQ(text.substr(0, text.find("|", text.find('|') + 1)), "CANCELLED|user") << text;
}

}  // namespace
}  // namespace sqltrack
