#pragma once
// Why a Slurm job is ending, asked of Slurm at the moment a signal reaches the
// wrapper: `scontrol show job -o $SLURM_JOB_ID`, run asynchronously with a
// short deadline on the wrapper's event loop, read by status_after_signal.
// When Slurm does not answer in time the verdict is CANCELLED, reason unknown.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "sqltrack/slurm/slurm_env.hpp"
#include "sqltrack/slurm/slurm_job_state.hpp"
#include "sqltrack/util/helper_process.hpp"

namespace boost::asio {
class io_context;
}

namespace sqltrack {

// The verdict from one answer of `scontrol show job -o JOB_ID` (the record whose
// JobId is job.job_id), or CANCELLED with a detail saying why Slurm's view is
// unknown (no answer, an error, no such record).
SignalVerdict verdict_from_scontrol(const HelperOutput& scontrol, const SlurmJobFacts& job,
                                    int signal_number);

class SlurmSignalMirror {
 public:
  using Callback = std::function<void(const SignalVerdict&)>;

  // io must outlive the mirror. The deadline stays well below Slurm's KillWait
  // (SIGKILL follows SIGTERM after it, 30 s by default, 5 s on the test cluster).
  SlurmSignalMirror(boost::asio::io_context& io, SlurmJobFacts job,
                    std::chrono::milliseconds timeout = std::chrono::seconds(3));
  ~SlurmSignalMirror();  // a verdict that comes later is dropped
  SlurmSignalMirror(const SlurmSignalMirror&) = delete;
  SlurmSignalMirror& operator=(const SlurmSignalMirror&) = delete;

  // Starts the query for `signal_number` and returns true; `on_verdict` is
  // called once, from a handler on io. Only the first call asks Slurm: later
  // ones (a second SIGTERM) return false and change nothing.
  bool ask(int signal_number, Callback on_verdict);

  // A query is under way: drain it before writing the final status with
  //   while (mirror.busy()) io.run_one();
  // (it ends within the timeout).
  bool busy() const noexcept;
  // The verdict once it came.
  const std::optional<SignalVerdict>& verdict() const noexcept;

 private:
  struct State;
  boost::asio::io_context& io_;
  SlurmJobFacts job_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<State> state_;
};

}  // namespace sqltrack
