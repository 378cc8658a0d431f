#include "sqltrack/monitor/gpu_probe.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>

#include "sqltrack/util/error.hpp"
#include "sqltrack/util/helper_process.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack {
namespace {

// A number, or nullopt for "[N/A]", "[Not Supported]" and anything else that is not one.
std::optional<double> number_field(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint64_t> mib_field(std::string_view text) {
  auto mib = number_field(text);
  if (!mib || *mib < 0) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(*mib * 1024 * 1024));
}

// NVML's C interface, declared here for the few functions used (nvml.h is not needed to
// build). Values and layouts as in nvml.h.
using NvmlReturn = int;
constexpr NvmlReturn kNvmlSuccess = 0;
using NvmlDevice = struct NvmlDeviceOpaque*;
struct NvmlUtilization {
  unsigned int gpu;
  unsigned int memory;
};
struct NvmlMemory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
constexpr unsigned int kNvmlNameBufferSize = 96;    // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned int kNvmlDriverBufferSize = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

class NvmlSource final : public GpuSource {
 public:
  static std::unique_ptr<NvmlSource> load(const std::string& library) {
    // RTLD_LOCAL: its symbols stay out of the way of everything else in the process.
    void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) return nullptr;
    auto source = std::unique_ptr<NvmlSource>(new NvmlSource(handle));
    if (!source->resolve()) return nullptr;
    return source;
  }

  ~NvmlSource() override {
    if (initialized_) shutdown_();
    ::dlclose(handle_);
  }

  GpuQuery query() override {
    if (!initialized_) {
      NvmlReturn result = init_();
      if (result != kNvmlSuccess) throw Error("nvmlInit failed: " + describe(result));
      initialized_ = true;
    }
    auto time = std::chrono::system_clock::now();
    unsigned int count = 0;
    if (NvmlReturn result = get_count_(&count); result != kNvmlSuccess) {
      throw Error("nvmlDeviceGetCount failed: " + describe(result));
    }
    std::array<char, kNvmlDriverBufferSize> driver{};
    if (get_driver_(driver.data(), kNvmlDriverBufferSize) != kNvmlSuccess) driver[0] = '\0';
    GpuQuery look;
    for (unsigned int index = 0; index < count; ++index) {
      NvmlDevice device = nullptr;
      // A GPU that cannot be opened (lost, or not this job's) is left out.
      if (get_handle_(index, &device) != kNvmlSuccess) continue;
      GpuInfo info;
      info.index = index;
      info.driver = driver.data();
      std::array<char, kNvmlNameBufferSize> name{};
      if (get_name_(device, name.data(), kNvmlNameBufferSize) == kNvmlSuccess) {
        info.name = name.data();
      }
      GpuReading reading;
      reading.index = index;
      reading.time = time;
      NvmlMemory memory{};
      if (get_memory_(device, &memory) == kNvmlSuccess) {
        info.memory_total_bytes = memory.total;
        reading.memory_used_bytes = memory.used;
      }
      NvmlUtilization utilization{};
      if (get_utilization_(device, &utilization) == kNvmlSuccess) {
        reading.util_percent = utilization.gpu;
      }
      look.gpus.push_back(std::move(info));
      look.readings.push_back(reading);
    }
    return look;
  }

  std::string_view name() const override { return "NVML"; }

 private:
  explicit NvmlSource(void* handle) : handle_(handle) {}

  template <class Function>
  bool symbol(const char* name, Function& function) {
    void* address = ::dlsym(handle_, name);
    // POSIX guarantees that a data pointer from dlsym converts to a function pointer.
    function = reinterpret_cast<Function>(address);
    return address != nullptr;
  }

  bool resolve() {
    return symbol("nvmlInit_v2", init_) && symbol("nvmlShutdown", shutdown_) &&
           symbol("nvmlErrorString", error_string_) &&
           symbol("nvmlDeviceGetCount_v2", get_count_) &&
           symbol("nvmlDeviceGetHandleByIndex_v2", get_handle_) &&
           symbol("nvmlDeviceGetUtilizationRates", get_utilization_) &&
           symbol("nvmlDeviceGetMemoryInfo", get_memory_) &&
           symbol("nvmlDeviceGetName", get_name_) &&
           symbol("nvmlSystemGetDriverVersion", get_driver_);
  }

  std::string describe(NvmlReturn result) const {
    const char* text = error_string_(result);
    return text != nullptr ? text : "error " + std::to_string(result);
  }

  void* handle_;
  bool initialized_ = false;
  NvmlReturn (*init_)() = nullptr;
  NvmlReturn (*shutdown_)() = nullptr;
  const char* (*error_string_)(NvmlReturn) = nullptr;
  NvmlReturn (*get_count_)(unsigned int*) = nullptr;
  NvmlReturn (*get_handle_)(unsigned int, NvmlDevice*) = nullptr;
  NvmlReturn (*get_utilization_)(NvmlDevice, NvmlUtilization*) = nullptr;
  NvmlReturn (*get_memory_)(NvmlDevice, NvmlMemory*) = nullptr;
  NvmlReturn (*get_name_)(NvmlDevice, char*, unsigned int) = nullptr;
  NvmlReturn (*get_driver_)(char*, unsigned int) = nullptr;
};

class NvidiaSmiSource final : public GpuSource {
 public:
  NvidiaSmiSource(std::filesystem::path executable, std::chrono::milliseconds timeout)
      : executable_(std::move(executable)), timeout_(timeout) {}

  GpuQuery query() override {
    auto time = std::chrono::system_clock::now();
    HelperOutput output =
        run_helper({executable_.string(), kNvidiaSmiQuery, kNvidiaSmiFormat}, timeout_);
    if (!output.succeeded()) throw Error("nvidia-smi failed: " + output.describe());
    return parse_nvidia_smi(output.out, time);
  }

  std::string_view name() const override { return "nvidia-smi"; }

 private:
  std::filesystem::path executable_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

GpuQuery parse_nvidia_smi(std::string_view output, std::chrono::system_clock::time_point time) {
  GpuQuery look;
  std::size_t at = 0;
  while (at < output.size()) {
    auto end = output.find('\n', at);
    if (end == std::string_view::npos) end = output.size();
    std::string_view line = output.substr(at, end - at);
    at = end + 1;
    std::vector<std::string_view> fields;
    std::size_t from = 0;
    while (true) {
      auto comma = line.find(',', from);
      fields.push_back(trim(line.substr(
          from, comma == std::string_view::npos ? std::string_view::npos : comma - from)));
      if (comma == std::string_view::npos) break;
      from = comma + 1;
    }
    if (fields.size() < 6) continue;
    unsigned index = 0;
    auto [index_end, ec] =
        std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), index);
    if (ec != std::errc() || index_end != fields[0].data() + fields[0].size()) continue;
    // The four values at the end; the name is what lies between (a comma in it is kept).
    const std::size_t n = fields.size();
    GpuInfo info;
    info.index = index;
    // The fields are views of `line`: the name runs from the second to the fifth-last.
    const char* name_begin = fields[1].data();
    const char* name_end = fields[n - 5].data() + fields[n - 5].size();
    info.name = std::string(name_begin, name_end);
    info.driver = std::string(fields[n - 4]);
    info.memory_total_bytes = mib_field(fields[n - 1]);
    GpuReading reading;
    reading.index = index;
    reading.time = time;
    reading.util_percent = number_field(fields[n - 3]);
    reading.memory_used_bytes = mib_field(fields[n - 2]);
    look.gpus.push_back(std::move(info));
    look.readings.push_back(reading);
  }
  return look;
}

std::unique_ptr<GpuSource> load_nvml(const std::string& library) {
  return NvmlSource::load(library);
}

std::unique_ptr<GpuSource> find_nvidia_smi(std::string_view search_path,
                                           std::chrono::milliseconds timeout) {
  std::size_t from = 0;
  while (from <= search_path.size()) {
    auto colon = search_path.find(':', from);
    std::string_view directory = search_path.substr(
        from, colon == std::string_view::npos ? std::string_view::npos : colon - from);
    from = colon == std::string_view::npos ? search_path.size() + 1 : colon + 1;
    // An empty entry means the working directory in a shell; not a place to run tools from.
    if (directory.empty()) continue;
    std::filesystem::path candidate = std::filesystem::path(directory) / "nvidia-smi";
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) {
      return std::make_unique<NvidiaSmiSource>(candidate, timeout);
    }
  }
  return nullptr;
}

std::unique_ptr<GpuSource> find_gpu_source(const GpuTools& tools) {
  // Where NVML loads, nvidia-smi (built on it) has nothing more to say.
  if (auto nvml = load_nvml(tools.nvml_library)) return nvml;
  return find_nvidia_smi(tools.search_path);
}

}  // namespace sqltrack
