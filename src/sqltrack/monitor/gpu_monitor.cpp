#include "sqltrack/monitor/gpu_monitor.hpp"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <utility>

#include "sqltrack/util/error.hpp"
#include "sqltrack/util/fault_injection.hpp"

namespace sqltrack {
namespace {

// How long the end of a job waits for a look in progress before leaving the thread behind.
constexpr auto kStopWait = std::chrono::seconds(2);

}  // namespace

struct GpuMonitor::State {
  FindSource find;
  std::unique_ptr<GpuSource> source;
  std::chrono::milliseconds period{};

  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  bool finished = false;
  bool succeeded_once = false;
  bool warned = false;
  std::optional<std::vector<GpuInfo>> gpus;  // not yet taken
  std::vector<GpuReading> readings;          // not yet taken
  std::optional<std::string> warning;        // not yet taken

  bool failed = false;  // a failure of the wrapper's own ended the thread

  // The thread's body. Nothing may escape it: an exception leaving a thread ends the process,
  // and with it the job.
  void watch() noexcept {
    try {
      watch_until_stopped();
    } catch (...) {
      report_internal_failure("the GPU sampler");
      std::lock_guard lock(mutex);
      failed = true;
    }
    std::lock_guard lock(mutex);
    finished = true;
    wake.notify_all();
  }

  // The source is touched only here.
  void watch_until_stopped() {
    fault_point("sampler");
    if (find) source = find();
    std::unique_lock lock(mutex);
    while (source && !stopping) {
      lock.unlock();
      std::optional<GpuQuery> look;
      std::string failure;
      try {
        look = source->query();
      } catch (const std::exception& error) {
        failure = error.what();
      }
      lock.lock();
      if (!succeeded_once) {
        // No driver, no GPU, or nothing this job may see: nothing to watch, nothing to say.
        if (!look || look->gpus.empty()) break;
        succeeded_once = true;
        gpus = look->gpus;
      }
      if (look) {
        readings = std::move(look->readings);
      } else if (!warned) {
        warned = true;
        warning = std::string(source->name()) + ": " + failure +
                  "; GPU samples are missing until it answers again";
      }
      wake.wait_for(lock, period, [this] { return stopping; });
    }
  }
};

GpuMonitor::GpuMonitor(FindSource find, std::chrono::milliseconds period)
    : state_(std::make_shared<State>()) {
  state_->find = std::move(find);
  state_->period = period;
  thread_ = std::thread([state = state_] { state->watch(); });
}

GpuMonitor::GpuMonitor(std::unique_ptr<GpuSource> source, std::chrono::milliseconds period)
    : GpuMonitor([source = std::make_shared<std::unique_ptr<GpuSource>>(
                      std::move(source))] { return std::move(*source); },
                 period) {}

GpuMonitor::~GpuMonitor() {
  bool finished = false;
  {
    std::unique_lock lock(state_->mutex);
    state_->stopping = true;
    state_->wake.notify_all();
    finished = state_->wake.wait_for(lock, kStopWait, [this] { return state_->finished; });
  }
  // A thread left behind holds the state, so nothing it uses goes away under it.
  if (finished) {
    thread_.join();
  } else {
    thread_.detach();
  }
}

std::optional<std::vector<GpuInfo>> GpuMonitor::take_gpus() {
  std::lock_guard lock(state_->mutex);
  return std::exchange(state_->gpus, std::nullopt);
}

std::vector<GpuReading> GpuMonitor::take_readings() {
  std::lock_guard lock(state_->mutex);
  return std::exchange(state_->readings, {});
}

std::optional<std::string> GpuMonitor::take_warning() {
  std::lock_guard lock(state_->mutex);
  return std::exchange(state_->warning, std::nullopt);
}

void GpuMonitor::request_stop() {
  std::lock_guard lock(state_->mutex);
  state_->stopping = true;
  state_->wake.notify_all();
}

bool GpuMonitor::failed() const {
  std::lock_guard lock(state_->mutex);
  return state_->failed;
}

bool GpuMonitor::finished() const {
  std::lock_guard lock(state_->mutex);
  return state_->finished;
}

}  // namespace sqltrack
