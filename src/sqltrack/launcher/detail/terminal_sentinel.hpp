#pragma once
// The terminal sentinel: how the wrapper learns of Ctrl-C and Ctrl-\ typed at its terminal.
//
// While the command runs, its process group has the terminal (it reads the terminal and
// gets each key's signal once, from the terminal itself), so the terminal's SIGINT and
// SIGQUIT go to that group and never to the wrapper, which is in another. The sentinel is
// a small process in the command's group: it receives them too, tells one typed at the
// terminal (si_code SI_KERNEL) from one the wrapper forwarded (SI_USER), and writes each
// typed one as a byte (the signal number) to a pipe the wrapper reads. It ignores every
// other signal the group may get. Internal to the launcher.

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sqltrack/launcher/detail/posix.hpp"

namespace sqltrack::launcher::detail {

class TerminalSentinel : public std::enable_shared_from_this<TerminalSentinel> {
 public:
  using Report = std::function<void(int signal)>;

  explicit TerminalSentinel(boost::asio::io_context& io) : reports_(io) {}

  // Starts `program --terminal-sentinel SIGNALS` in process group `pgid`, watching
  // `signals` (SIGINT, SIGQUIT); `report` is called on the loop for each one typed. False,
  // with nothing started, when it cannot start (the group is gone, no program).
  bool start(const std::string& program, pid_t pgid, const std::vector<int>& signals,
             Report report);
  // Asks the sentinel to leave, reports what it still saw (it saw a key before the
  // command's exit was handled), and reaps it; SIGKILL when it has not left within a second.
  void stop();
  pid_t pid() const noexcept { return pid_; }
  // Someone else reaped it (it died on its own): nothing left to wait for.
  void reaped() noexcept { pid_ = -1; }

 private:
  void wait_for_reports();
  // Reads what the pipe holds without waiting; false at its end.
  bool read_reports();

  boost::asio::posix::stream_descriptor reports_;
  UniqueFd control_;  // the sentinel's stdin: closing it asks it to leave
  pid_t pid_ = -1;
  bool stopped_ = false;
  Report report_;
};

// The sentinel's side: `signals` as "2,3". Returns its exit status.
int run_terminal_sentinel(std::string_view signals);

}  // namespace sqltrack::launcher::detail
