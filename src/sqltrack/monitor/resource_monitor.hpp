#pragma once
// Resource sampling of a running job (sqltrack-run --sample), on the wrapper's event loop:
// every period, a snapshot of the job's process tree from /proc (a few milliseconds) and the
// newest look at the GPUs, which a GpuMonitor takes on a thread of its own. Nothing here
// waits: the loop goes on forwarding signals and reading metrics as before.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "sqltrack/monitor/gpu_monitor.hpp"
#include "sqltrack/monitor/process_tree_sampler.hpp"
#include "sqltrack/monitor/resource_store.hpp"

namespace sqltrack {

class ResourceMonitor {
 public:
  struct Hooks {
    std::function<void(ResourceSample)> on_sample;
    // Once, when GPUs are found: looked for from the first sample on, on a thread (the first
    // look can take seconds: a driver that starts).
    std::function<void(std::vector<GpuInfo>)> on_gpus;
    std::function<void(const std::string&)> on_warning;
    // Sampling met a failure of the wrapper's own (said on stderr) and has stopped.
    std::function<void()> on_failure;
  };

  // `period` 0: start() does nothing, not even look for GPUs.
  ResourceMonitor(boost::asio::io_context& io, std::chrono::duration<double> period,
                  GpuTools gpu_tools, Hooks hooks);
  ~ResourceMonitor();
  ResourceMonitor(const ResourceMonitor&) = delete;
  ResourceMonitor& operator=(const ResourceMonitor&) = delete;

  // Starts the timer; the first sample covers the time since this call. Call once the
  // command runs.
  void start(const ProcessTreeScope& scope);
  // Stops the timer and the GPU monitor; GPUs found since the last sample are still
  // reported. Safe to call more than once.
  void stop();

 private:
  void schedule();
  void sample();
  void report_gpus();
  void fail();

  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::duration period_;
  GpuTools gpu_tools_;
  Hooks hooks_;
  ProcessTreeScope scope_;
  ProcessTreeSnapshot previous_;
  std::unique_ptr<GpuMonitor> gpus_;
  bool gpus_looked_for_ = false;
  bool running_ = false;
};

}  // namespace sqltrack
