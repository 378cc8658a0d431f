#include "sqltrack/monitor/resource_monitor.hpp"

#include <algorithm>

#include "sqltrack/util/error.hpp"

namespace sqltrack {
namespace {

// NVML averages utilization over up to a second, and an nvidia-smi run costs a good part
// of one: more often than this tells nothing new.
constexpr auto kMinGpuPeriod = std::chrono::seconds(1);

}  // namespace

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
    try {
      sample();
    } catch (...) {
      // On the event loop, which must go on forwarding signals and waiting for the command.
      report_internal_failure("the resource sampler");
      fail();
      return;
    }
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
    if (!running_) return;  // the GPU sampler failed: sampling has stopped
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
  if (gpus_->failed()) {
    fail();
    return;
  }
  if (auto found = gpus_->take_gpus(); found && hooks_.on_gpus) hooks_.on_gpus(std::move(*found));
}

void ResourceMonitor::fail() {
  running_ = false;
  timer_.cancel();
  gpus_.reset();  // the thread has ended (or ends now): joined at once
  if (hooks_.on_failure) hooks_.on_failure();
}

}  // namespace sqltrack
