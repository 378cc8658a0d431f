// Resource sampling on an event loop, as sqltrack-run runs it, and its interval setting.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cmath>
#include <csignal>

#include "sqltrack/monitor/resource_monitor.hpp"
#include "sqltrack/util/error.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::TempDir;

constexpr const char* kNoNvml = "libsqltrack-test-no-such-nvml.so.1";

Settings settings_with(const std::string& conf) {
  TempDir dir;
  test::write_file(dir / "sqltrack.conf", conf);
  return resolve_settings({}, {}, dir.path());
}

TEST(SampleInterval, FlagThenSettingThenTenSeconds) {
  Settings none = settings_with("");
  Settings two = settings_with("sample_interval = 2.5\n");
  EXPECT_DOUBLE_EQ(sample_interval(std::nullopt, none), 10.0);
  EXPECT_DOUBLE_EQ(sample_interval(std::nullopt, two), 2.5);
  EXPECT_DOUBLE_EQ(sample_interval(0.5, two), 0.5);
  EXPECT_DOUBLE_EQ(sample_interval(0.0, two), 0.0) << "0 turns sampling off";
  EXPECT_DOUBLE_EQ(sample_interval(std::nullopt, settings_with("sample_interval = 0\n")), 0.0);
}

TEST(SampleInterval, BadFlagIsAUsageErrorNamingIt) {
  Settings none = settings_with("");
  for (double bad : {-1.0, 0.001, 1e9, std::nan("")}) {
    try {
      sample_interval(bad, none);
      ADD_FAILURE() << "expected a UsageError for --sample " << bad;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--sample"), std::string::npos) << e.what();
    }
  }
}

TEST(SampleInterval, BadSettingIsAnErrorNamingIt) {
  // Out of range: a usage error when the settings are resolved; not a number: a ConfigError.
  for (const char* conf : {"sample_interval = -3\n", "sample_interval = often\n"}) {
    try {
      sample_interval(std::nullopt, settings_with(conf));
      ADD_FAILURE() << "expected an error for " << conf;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("sample_interval"), std::string::npos) << e.what();
    }
  }
}

// A child that sleeps until killed, as the job to sample.
struct SleepingChild {
  pid_t pid = ::fork();
  SleepingChild() {
    if (pid == 0) {
      ::setpgid(0, 0);
      while (true) ::pause();
    }
  }
  ~SleepingChild() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
};

TEST(ResourceMonitor, SamplesTheJobAndTheGpusOnTheLoop) {
  TempDir tools;
  auto smi = tools / "nvidia-smi";
  test::write_file(smi, "#!/bin/sh\necho '0, NVIDIA H100 80GB HBM3, 550.54.15, 71, 2048, 81559'\n");
  ::chmod(smi.c_str(), 0755);

  SleepingChild child;
  ASSERT_GT(child.pid, 0);
  boost::asio::io_context io;
  std::vector<ResourceSample> samples;
  std::vector<std::vector<GpuInfo>> reported;
  std::vector<std::string> warnings;
  ResourceMonitor monitor(io, std::chrono::milliseconds(20), {kNoNvml, tools.path().string()},
                          {[&](ResourceSample sample) { samples.push_back(std::move(sample)); },
                           [&](std::vector<GpuInfo> gpus) { reported.push_back(gpus); },
                           [&](const std::string& warning) { warnings.push_back(warning); },
                           {}});
  monitor.start({.root = child.pid});
  auto has_gpu_sample = [&] {
    for (const auto& sample : samples) {
      if (!sample.gpus.empty()) return true;
    }
    return false;
  };
  bool done = test::wait_until([&] {
    io.run_for(std::chrono::milliseconds(20));
    return samples.size() >= 3 && has_gpu_sample();
  });
  monitor.stop();
  ASSERT_TRUE(done) << samples.size() << " samples, none with a GPU reading";

  ASSERT_EQ(reported.size(), 1u) << "the GPUs are reported once";
  ASSERT_EQ(reported[0].size(), 1u);
  EXPECT_EQ(reported[0][0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(reported[0][0].driver, "550.54.15");
  for (const auto& sample : samples) {
    EXPECT_EQ(sample.host.processes, 1u) << "the sleeping child";
    EXPECT_GT(sample.host.rss_bytes, 0u);
    EXPECT_GT(sample.host.interval_seconds, 0.0);
    for (const auto& gpu : sample.gpus) {
      EXPECT_EQ(gpu.index, 0u);
      EXPECT_EQ(gpu.util_percent, std::optional<double>(71));
    }
  }
  EXPECT_TRUE(warnings.empty()) << warnings.front();

  // Stopped: no more samples.
  std::size_t count = samples.size();
  io.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(samples.size(), count) << "a sample came after stop()";
}

TEST(ResourceMonitor, WithoutGpuToolsNothingIsSaidAboutGpus) {
  TempDir empty;
  SleepingChild child;
  ASSERT_GT(child.pid, 0);
  boost::asio::io_context io;
  std::size_t samples = 0;
  bool gpus_reported = false;
  std::vector<std::string> warnings;
  ResourceMonitor monitor(io, std::chrono::milliseconds(20), {kNoNvml, empty.path().string()},
                          {[&](ResourceSample sample) {
                             ++samples;
                             EXPECT_TRUE(sample.gpus.empty());
                           },
                           [&](std::vector<GpuInfo>) { gpus_reported = true; },
                           [&](const std::string& warning) { warnings.push_back(warning); },
                           {}});
  monitor.start({.root = child.pid});
  ASSERT_TRUE(test::wait_until([&] {
    io.run_for(std::chrono::milliseconds(20));
    return samples >= 2;
  }));
  monitor.stop();
  EXPECT_FALSE(gpus_reported);
  EXPECT_TRUE(warnings.empty());
}

TEST(ResourceMonitor, PeriodZeroStartsNothing) {
  SleepingChild child;
  ASSERT_GT(child.pid, 0);
  boost::asio::io_context io;
  std::size_t samples = 0;
  ResourceMonitor monitor(io, std::chrono::seconds(0), {},
                          {[&](ResourceSample) { ++samples; }, {}, {}, {}});
  monitor.start({.root = child.pid});
  io.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(samples, 0u);
  EXPECT_TRUE(io.stopped()) << "period 0 left work on the loop";
}

}  // namespace
}  // namespace sqltrack
