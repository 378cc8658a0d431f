// GPUs through nvidia-smi (a fake one: there is no GPU here) and NVML's absence.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "sqltrack/monitor/gpu_monitor.hpp"
#include "sqltrack/monitor/gpu_probe.hpp"
#include "sqltrack/util/error.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::TempDir;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr const char* kNoNvml = "libsqltrack-test-no-such-nvml.so.1";

const std::string kTwoGpus =
    "0, NVIDIA A100-SXM4-40GB, 535.104.05, 37, 1234, 40960\n"
    "1, Tesla K80, 535.104.05, [N/A], [Not Supported], 11441\n";

// An nvidia-smi that answers `output` when asked exactly what the probe asks, and fails
// with exit 9 otherwise.
void write_fake_nvidia_smi(const TempDir& dir, const std::string& output) {
  auto path = dir / "nvidia-smi";
  test::write_file(path, std::string("#!/bin/sh\n") + "if [ \"$1\" = '" + kNvidiaSmiQuery +
                             "' ] && [ \"$2\" = '" + kNvidiaSmiFormat +
                             "' ] && [ $# -eq 2 ]; then\n" + "cat <<'EOF'\n" + output +
                             "EOF\nexit 0\nfi\n" +
                             "echo \"unexpected arguments: $*\" >&2\nexit 9\n");
  ::chmod(path.c_str(), 0755);
}

TEST(ParseNvidiaSmi, TwoGpusWithMissingValues) {
  auto time = std::chrono::system_clock::now();
  GpuQuery look = parse_nvidia_smi(kTwoGpus, time);
  ASSERT_EQ(look.gpus.size(), 2u);
  ASSERT_EQ(look.readings.size(), 2u);

  EXPECT_EQ(look.gpus[0].index, 0u);
  EXPECT_EQ(look.gpus[0].name, "NVIDIA A100-SXM4-40GB");
  EXPECT_EQ(look.gpus[0].driver, "535.104.05");
  EXPECT_EQ(look.gpus[0].memory_total_bytes, std::optional<std::uint64_t>(40960 * kMiB));
  EXPECT_EQ(look.readings[0].index, 0u);
  EXPECT_EQ(look.readings[0].util_percent, std::optional<double>(37));
  EXPECT_EQ(look.readings[0].memory_used_bytes, std::optional<std::uint64_t>(1234 * kMiB));
  EXPECT_EQ(look.readings[0].time, time);

  EXPECT_EQ(look.gpus[1].index, 1u);
  EXPECT_EQ(look.gpus[1].name, "Tesla K80");
  EXPECT_EQ(look.gpus[1].memory_total_bytes, std::optional<std::uint64_t>(11441 * kMiB));
  EXPECT_FALSE(look.readings[1].util_percent.has_value()) << "[N/A] is no value";
  EXPECT_FALSE(look.readings[1].memory_used_bytes.has_value()) << "[Not Supported] is no value";
}

TEST(ParseNvidiaSmi, ACommaInTheNameIsKept) {
  GpuQuery look =
      parse_nvidia_smi("3, Odd, Name GPU, 550.54, 0, 0, 8192\n", std::chrono::system_clock::now());
  ASSERT_EQ(look.gpus.size(), 1u);
  EXPECT_EQ(look.gpus[0].index, 3u);
  EXPECT_EQ(look.gpus[0].name, "Odd, Name GPU");
  EXPECT_EQ(look.gpus[0].driver, "550.54");
  EXPECT_EQ(look.readings[0].util_percent, std::optional<double>(0));
}

TEST(ParseNvidiaSmi, LinesThatAreNotGpusAreSkipped) {
  auto now = std::chrono::system_clock::now();
  EXPECT_TRUE(parse_nvidia_smi("", now).gpus.empty());
  EXPECT_TRUE(parse_nvidia_smi("NVIDIA-SMI has failed because it couldn't communicate with "
                               "the NVIDIA driver. Make sure that the latest NVIDIA driver is "
                               "installed and running.\n",
                               now)
                  .gpus.empty());
  GpuQuery look = parse_nvidia_smi("\nNo devices were found\n0, T4, 535.1, 5, 100, 15360\r\n", now);
  ASSERT_EQ(look.gpus.size(), 1u) << "the GPU line among the others";
  EXPECT_EQ(look.gpus[0].name, "T4");
  EXPECT_EQ(look.gpus[0].memory_total_bytes, std::optional<std::uint64_t>(15360 * kMiB))
      << "a CR at the end of the line is not part of the value";
}

TEST(Nvml, AMissingLibraryIsNoSource) {
  EXPECT_EQ(load_nvml(kNoNvml), nullptr);
}

TEST(Nvml, ALibraryWithoutNvmlFunctionsIsNoSource) {
  // Present on every glibc system, and without a single NVML function.
  EXPECT_EQ(load_nvml("libm.so.6"), nullptr);
}

TEST(NvidiaSmi, NotInThePathIsNoSource) {
  TempDir empty;
  EXPECT_EQ(find_nvidia_smi(empty.path().string()), nullptr);
  EXPECT_EQ(find_nvidia_smi(""), nullptr);
  EXPECT_EQ(find_gpu_source({kNoNvml, empty.path().string()}), nullptr)
      << "neither NVML nor nvidia-smi: no GPU source";
}

TEST(NvidiaSmi, ANonExecutableFileIsNotATool) {
  TempDir dir;
  test::write_file(dir / "nvidia-smi", "not a program\n");
  ::chmod((dir / "nvidia-smi").c_str(), 0644);
  EXPECT_EQ(find_nvidia_smi(dir.path().string()), nullptr);
}

TEST(NvidiaSmi, AFakeOnThePathIsRunAndRead) {
  TempDir empty;
  TempDir dir;
  write_fake_nvidia_smi(dir, kTwoGpus);
  auto source = find_gpu_source({kNoNvml, empty.path().string() + ":" + dir.path().string()});
  ASSERT_NE(source, nullptr) << "nvidia-smi in the second PATH entry was not found";
  EXPECT_EQ(source->name(), "nvidia-smi");
  GpuQuery look = source->query();
  ASSERT_EQ(look.gpus.size(), 2u);
  EXPECT_EQ(look.gpus[0].name, "NVIDIA A100-SXM4-40GB");
  EXPECT_EQ(look.gpus[1].name, "Tesla K80");
  EXPECT_EQ(look.readings[0].util_percent, std::optional<double>(37));
  EXPECT_FALSE(look.readings[1].util_percent.has_value());
}

TEST(NvidiaSmi, AFailingRunThrowsWithItsMessage) {
  TempDir dir;
  auto path = dir / "nvidia-smi";
  test::write_file(path,
                   "#!/bin/sh\necho 'Failed to initialize NVML: Driver/library version "
                   "mismatch' >&2\nexit 18\n");
  ::chmod(path.c_str(), 0755);
  auto source = find_nvidia_smi(dir.path().string());
  ASSERT_NE(source, nullptr);
  try {
    source->query();
    FAIL() << "expected sqltrack::Error from a failing nvidia-smi";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exit 18: Failed to initialize NVML"), std::string::npos)
        << e.what();
  }
}

TEST(GpuMonitor, ReportsTheGpusOnceAndTheReadings) {
  TempDir dir;
  write_fake_nvidia_smi(dir, kTwoGpus);
  GpuMonitor monitor(find_nvidia_smi(dir.path().string()), std::chrono::milliseconds(50));
  std::optional<std::vector<GpuInfo>> gpus;
  ASSERT_TRUE(test::wait_until([&] {
    gpus = monitor.take_gpus();
    return gpus.has_value();
  })) << "the GPUs were never reported";
  ASSERT_EQ(gpus->size(), 2u);
  EXPECT_EQ((*gpus)[1].name, "Tesla K80");
  EXPECT_FALSE(monitor.take_gpus().has_value()) << "the GPUs are reported once";

  std::vector<GpuReading> readings;
  ASSERT_TRUE(test::wait_until([&] {
    readings = monitor.take_readings();
    return !readings.empty();
  }));
  ASSERT_EQ(readings.size(), 2u);
  EXPECT_EQ(readings[0].memory_used_bytes, std::optional<std::uint64_t>(1234 * kMiB));
  EXPECT_FALSE(monitor.take_warning().has_value());
}

TEST(GpuMonitor, ANodeWithoutGpusEndsSilently) {
  TempDir dir;
  auto path = dir / "nvidia-smi";
  // What nvidia-smi says on a node with the tool but no driver or GPU.
  test::write_file(path,
                   "#!/bin/sh\necho 'NVIDIA-SMI has failed because it couldn'\"'\"'t "
                   "communicate with the NVIDIA driver.'\nexit 9\n");
  ::chmod(path.c_str(), 0755);
  GpuMonitor monitor(find_nvidia_smi(dir.path().string()), std::chrono::milliseconds(50));
  ASSERT_TRUE(test::wait_until([&] { return monitor.finished(); }))
      << "the monitor kept looking at a node without GPUs";
  EXPECT_FALSE(monitor.take_gpus().has_value());
  EXPECT_TRUE(monitor.take_readings().empty());
  EXPECT_FALSE(monitor.take_warning().has_value()) << "no GPU is nothing to warn about";
}

TEST(GpuMonitor, AFailureAfterSuccessIsWarnedOnce) {
  TempDir dir;
  auto path = dir / "nvidia-smi";
  auto count = dir / "count";
  // Answers once, then fails.
  test::write_file(path, "#!/bin/sh\nif [ -e '" + count.string() +
                             "' ]; then echo 'GPU is lost' >&2; exit 15; fi\n" + "touch '" +
                             count.string() + "'\n" + "echo '0, T4, 535.1, 5, 100, 15360'\n");
  ::chmod(path.c_str(), 0755);
  GpuMonitor monitor(find_nvidia_smi(dir.path().string()), std::chrono::milliseconds(20));
  std::optional<std::string> warning;
  ASSERT_TRUE(test::wait_until([&] {
    warning = monitor.take_warning();
    return warning.has_value();
  })) << "no warning after nvidia-smi started failing";
  EXPECT_NE(warning->find("GPU is lost"), std::string::npos) << *warning;
  EXPECT_NE(warning->find("nvidia-smi"), std::string::npos) << *warning;
  EXPECT_TRUE(monitor.take_gpus().has_value()) << "the first look found a GPU";
  EXPECT_FALSE(monitor.take_warning().has_value()) << "the warning is given once";
}

}  // namespace
}  // namespace sqltrack
