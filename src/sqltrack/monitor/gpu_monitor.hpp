#pragma once
// Looks at the GPUs every period on a thread of its own, so that a driver that takes seconds
// to initialize, or an nvidia-smi that hangs, never holds up the wrapper's event loop. The
// loop takes what was seen when it samples; taking never waits for a look.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sqltrack/monitor/gpu_probe.hpp"

namespace sqltrack {

class GpuMonitor {
 public:
  // Starts the thread, which looks for a source with `find` (loading a library, searching
  // PATH: done there, not on the caller's thread) and takes the first look at once.
  using FindSource = std::function<std::unique_ptr<GpuSource>()>;
  GpuMonitor(FindSource find, std::chrono::milliseconds period);
  GpuMonitor(std::unique_ptr<GpuSource> source, std::chrono::milliseconds period);
  // Stops the thread. One stuck in a driver call is waited for a short while, then left
  // behind (it owns what it uses), so the wrapper never hangs at the end of a job.
  ~GpuMonitor();
  GpuMonitor(const GpuMonitor&) = delete;
  GpuMonitor& operator=(const GpuMonitor&) = delete;

  // The GPUs, once: after the first look that found any. When there is no source, or the
  // first look fails or finds none, there are none and the thread ends without a word (a
  // node without a GPU).
  std::optional<std::vector<GpuInfo>> take_gpus();
  // The newest look's readings, each look once; empty when no new look is done.
  std::vector<GpuReading> take_readings();
  // A look that failed after one had succeeded, said once.
  std::optional<std::string> take_warning();
  // Asks the thread to end after the look in progress, without waiting for it.
  void request_stop();
  // Whether the thread has ended (no GPU found, or stopped).
  bool finished() const;
  // Whether it ended by a failure of the wrapper's own, which it has said on stderr.
  bool failed() const;

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the thread
  std::thread thread_;
};

}  // namespace sqltrack
