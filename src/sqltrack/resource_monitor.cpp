#include "sqltrack/resource_monitor.hpp"

#include <algorithm>

#include "sqltrack/error.hpp"

namespace sqltrack {
namespace {

constexpr double kDefaultSampleSeconds = 10;
// Below this a sample row per few milliseconds would load the database more than the job.
constexpr double kMinSampleSeconds = 0.01;
constexpr double kMaxSampleSeconds = 86400;
// NVML averages utilization over up to a second, and an nvidia-smi run costs a good part
// of one: more often than this tells nothing new.
constexpr auto kMinGpuPeriod = std::chrono::seconds(1);

bool valid_interval(double seconds) {
  return seconds == 0 || (seconds >= kMinSampleSeconds && seconds <= kMaxSampleSeconds);
}

const std::string kRange = "0 (off) or between 0.01 and 86400 seconds";

}  // namespace

double sample_interval(std::optional<double> flag, const Settings& settings) {
  if (flag) {
    if (!valid_interval(*flag)) throw UsageError("--sample must be " + kRange);
    return *flag;
  }
  double seconds = settings.get_number("sample_interval", kDefaultSampleSeconds);
  if (!valid_interval(seconds)) throw ConfigError("setting 'sample_interval' must be " + kRange);
  return seconds;
}

ResourceMonitor::ResourceMonitor(boost::asio::io_context& io, std::chrono::duration<double> period,
                                 GpuTools gpu_tools, Hooks hooks)
    : timer_(io),
      period_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(period)),
      gpu_tools_(std::move(gpu_tools)),
      hooks_(std::move(hooks)) {}

ResourceMonitor::~ResourceMonitor() {
  stop();
  gpus_.reset();
}

void ResourceMonitor::start(const ProcessTreeScope& scope) {
  if (running_ || period_ <= std::chrono::steady_clock::duration::zero()) return;
  running_ = true;
  scope_ = scope;
  // The command has just started: the first interval counts everything it used, and the
  // start costs no /proc scan.
  previous_ = ProcessTreeSnapshot{};
  previous_.taken = std::chrono::steady_clock::now();
  schedule();
}

void ResourceMonitor::stop() {
  if (!running_) return;
  running_ = false;
  timer_.cancel();
  report_gpus();
  // The thread may be in the middle of a look (an nvidia-smi run): it is waited for only
  // when the monitor goes, after the run's end is written.
  if (gpus_) gpus_->request_stop();
}

void ResourceMonitor::schedule() {
  timer_.expires_after(period_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !running_) return;
    sample();
    schedule();
  });
}

void ResourceMonitor::sample() {
  ProcessTreeSnapshot now = snapshot_process_tree(scope_);
  ResourceSample sample;
  sample.time = std::chrono::system_clock::now();
  sample.host = usage_between(previous_, now);
  previous_ = now;
  if (!gpus_looked_for_) {
    // At the first sample, not at the start: a command shorter than the interval costs
    // nothing here. The tools are looked for on the monitor's thread: without one, a failed
    // dlopen and a PATH search there (about a millisecond), and the thread ends silently.
    gpus_looked_for_ = true;
    auto gpu_period = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(period_),
                               std::chrono::milliseconds(kMinGpuPeriod));
    gpus_ = std::make_unique<GpuMonitor>([tools = gpu_tools_] { return find_gpu_source(tools); },
                                         gpu_period);
  } else if (gpus_) {
    report_gpus();
    sample.gpus = gpus_->take_readings();
    if (auto warning = gpus_->take_warning(); warning && hooks_.on_warning) {
      hooks_.on_warning(*warning);
    }
    // No GPU here: the thread has ended, and joining it takes no time.
    if (gpus_->finished()) gpus_.reset();
  }
  if (hooks_.on_sample) hooks_.on_sample(std::move(sample));
}

void ResourceMonitor::report_gpus() {
  if (!gpus_) return;
  if (auto found = gpus_->take_gpus(); found && hooks_.on_gpus) hooks_.on_gpus(std::move(*found));
}

}  // namespace sqltrack
