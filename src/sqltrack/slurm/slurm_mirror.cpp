#include "sqltrack/slurm/slurm_mirror.hpp"

#include <cstring>

namespace sqltrack {
namespace {

std::string signal_label(int signal_number) {
  const char* abbrev = sigabbrev_np(signal_number);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signal_number);
}

SignalVerdict unknown_verdict(int signal_number, const std::string& why) {
  return {RunStatus::CANCELLED, false,
          signal_label(signal_number) + ": " + why + "; reason unknown"};
}

}  // namespace

SignalVerdict verdict_from_scontrol(const HelperOutput& scontrol, const SlurmJobFacts& job,
                                    int signal_number) {
  const std::string command = "scontrol show job -o " + job.job_id;
  if (!scontrol.succeeded()) {
    return unknown_verdict(signal_number,
                           "Slurm did not answer (" + command + ": " + scontrol.describe() + ")");
  }
  auto state = find_job_state(parse_scontrol_records(scontrol.out), job.job_id);
  if (!state) {
    return unknown_verdict(signal_number, command + " printed no record of job " + job.job_id);
  }
  return status_after_signal(*state, job.restart_count, signal_number);
}

struct SlurmSignalMirror::State {
  bool busy = false;
  bool asked = false;
  std::optional<SignalVerdict> verdict;
  Callback on_verdict;
};

SlurmSignalMirror::SlurmSignalMirror(boost::asio::io_context& io, SlurmJobFacts job,
                                     std::chrono::milliseconds timeout)
    : io_(io), job_(std::move(job)), timeout_(timeout), state_(std::make_shared<State>()) {}

SlurmSignalMirror::~SlurmSignalMirror() {
  // The helper's handler holds the state; it must not call into a caller that is gone.
  state_->on_verdict = nullptr;
}

bool SlurmSignalMirror::ask(int signal_number, Callback on_verdict) {
  if (state_->asked) return false;
  state_->asked = true;
  state_->busy = true;
  state_->on_verdict = std::move(on_verdict);
  async_run_helper(io_, {"scontrol", "show", "job", "-o", job_.job_id}, timeout_,
                   [state = state_, job = job_, signal_number](HelperOutput output) {
                     state->busy = false;
                     state->verdict = verdict_from_scontrol(output, job, signal_number);
                     if (state->on_verdict) state->on_verdict(*state->verdict);
                   });
  return true;
}

bool SlurmSignalMirror::busy() const noexcept {
  return state_->busy;
}

const std::optional<SignalVerdict>& SlurmSignalMirror::verdict() const noexcept {
  return state_->verdict;
}

}  // namespace sqltrack
