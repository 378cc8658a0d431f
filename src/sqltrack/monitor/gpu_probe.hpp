#pragma once
// NVIDIA GPUs as the job's node sees them: which there are, how busy, how much memory is in
// use. Through NVML, loaded at run time (never linked, so nodes without a driver run the
// same binary), else through nvidia-smi. Where neither exists, finding that out costs a
// failed dlopen and a PATH search, and says nothing.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sqltrack {

// A GPU's facts, written once per run.
struct GpuInfo {
  unsigned index = 0;
  std::string name;
  std::string driver;
  std::optional<std::uint64_t> memory_total_bytes;
};

// One look at one GPU; a value the device does not report is missing.
struct GpuReading {
  unsigned index = 0;
  std::optional<double> util_percent;
  std::optional<std::uint64_t> memory_used_bytes;
  std::chrono::system_clock::time_point time{};
};

// One look at every GPU: the facts and the readings, in the same order.
struct GpuQuery {
  std::vector<GpuInfo> gpus;
  std::vector<GpuReading> readings;
};

// The arguments given to nvidia-smi, whose output parse_nvidia_smi reads.
inline constexpr const char* kNvidiaSmiQuery =
    "--query-gpu=index,name,driver_version,utilization.gpu,memory.used,memory.total";
inline constexpr const char* kNvidiaSmiFormat = "--format=csv,noheader,nounits";

// Parses `nvidia-smi kNvidiaSmiQuery kNvidiaSmiFormat` output: one line per GPU, memory
// in MiB, "[N/A]" or "[Not Supported]" where a value is missing. Lines that are not of this
// form are skipped.
GpuQuery parse_nvidia_smi(std::string_view output, std::chrono::system_clock::time_point time);

// Where GPUs are looked up.
class GpuSource {
 public:
  virtual ~GpuSource() = default;
  // Looks at every GPU. May take a while (a driver that initializes, a process to run):
  // call it off the event loop. Throws sqltrack::Error when it fails.
  virtual GpuQuery query() = 0;
  // "NVML" or "nvidia-smi", for messages.
  virtual std::string_view name() const = 0;
};

// NVML from `library`: nullptr when the library, or one of the functions used, is missing.
// Nothing is initialized before the first query.
std::unique_ptr<GpuSource> load_nvml(const std::string& library = "libnvidia-ml.so.1");

// nvidia-smi from the directories of `search_path` (PATH's format): nullptr when none is
// there. Each query runs it once, killed after `timeout`.
std::unique_ptr<GpuSource> find_nvidia_smi(
    std::string_view search_path, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Where the wrapper looks: the NVML library, and the PATH searched for nvidia-smi.
struct GpuTools {
  std::string nvml_library = "libnvidia-ml.so.1";
  std::string search_path;
};

// NVML when its library loads, else nvidia-smi, else nullptr.
std::unique_ptr<GpuSource> find_gpu_source(const GpuTools& tools);

}  // namespace sqltrack
