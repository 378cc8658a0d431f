#include "sqltrack/read/status_watch.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <iterator>

#include "sqltrack/read/status_table.hpp"
#include "sqltrack/util/terminal_text.hpp"
#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {
namespace {

// The terminal the handlers restore; set while a full-screen watch runs.
volatile sig_atomic_t g_screen_fd = -1;
// Set by the Ctrl-Z handler: the screen was left and must be entered again before drawing.
volatile sig_atomic_t g_screen_left = 0;

void write_escape(int fd, std::string_view bytes) {
  // Best effort from a signal handler: nothing useful can be done when it fails.
  if (write(fd, bytes.data(), bytes.size()) < 0) return;
}

// SIGINT, SIGTERM, SIGHUP, SIGQUIT: give the shell its screen and cursor back, then die of the
// same signal (SA_RESETHAND restored its default action), so the exit status says why.
// SIGTSTP (Ctrl-Z): the same, and the process stops; the main loop enters again when it goes
// on (at once where the stop is discarded, in an orphaned process group).
extern "C" void leave_screen_and_reraise(int sig) {
  int saved_errno = errno;  // the main loop may be between a write and its errno check
  if (g_screen_fd >= 0) write_escape(g_screen_fd, kLeaveFullScreen);
  if (sig == SIGTSTP) g_screen_left = 1;
  raise(sig);
  errno = saved_errno;
}

constexpr int kHandledSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};

// A signal ignored by whoever started us (nohup, a background job) stays ignored.
void install_once(int sig, struct sigaction* old = nullptr) {
  struct sigaction current {};
  sigaction(sig, nullptr, &current);
  if (old) *old = current;
  if (current.sa_handler == SIG_IGN) return;
  struct sigaction action {};
  action.sa_handler = leave_screen_and_reraise;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  sigaction(sig, &action, nullptr);
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// The alternate screen with a hidden cursor for the lifetime of the object, and the
// handlers that restore them when a signal ends the process first.
class FullScreen {
 public:
  explicit FullScreen(int fd) : fd_(fd) {
    g_screen_fd = fd;
    g_screen_left = 0;
    for (std::size_t i = 0; i < std::size(kHandledSignals); ++i) {
      install_once(kHandledSignals[i], &old_actions_[i]);
    }
    write_all(fd_, kEnterFullScreen);
  }
  ~FullScreen() {
    for (std::size_t i = 0; i < std::size(kHandledSignals); ++i) {
      sigaction(kHandledSignals[i], &old_actions_[i], nullptr);
    }
    write_all(fd_, kLeaveFullScreen);
    g_screen_fd = -1;
  }
  FullScreen(const FullScreen&) = delete;
  FullScreen& operator=(const FullScreen&) = delete;

  // After Ctrl-Z: its handler left the screen and reset itself.
  void enter_again_if_left() {
    if (!g_screen_left) return;
    g_screen_left = 0;
    install_once(SIGTSTP);
    write_all(fd_, kEnterFullScreen);
  }

 private:
  int fd_;
  struct sigaction old_actions_[std::size(kHandledSignals)] = {};
};

}  // namespace

std::string watch_title(const StatusWatchOptions& options, Clock::time_point now) {
  char every[32];
  std::snprintf(every, sizeof every, "%g", std::chrono::duration<double>(options.interval).count());
  std::string title = "sqltrack-run status";
  const StatusQuery& query = options.query;
  if (query.filter.experiment) title += " -e " + printable(*query.filter.experiment);
  if (query.metric) title += " --metric " + printable(query.metric->name);
  if (query.order) {
    title += " --sort " + printable(query.order->column) + (query.order->descending ? ":desc" : "");
  }
  return title + "   every " + every + " s   " + format_local_time(now, false);
}

int watch_status(std::unique_ptr<db::Database> db,
                 const std::function<std::unique_ptr<db::Database>()>& connect,
                 const StatusWatchOptions& options, int fd) {
  const bool terminal = isatty(fd) == 1;
  // SIGWINCH (redraw for the new size) and SIGCONT (back from Ctrl-Z) are taken by
  // sigtimedwait() between refreshes: no handler, no race with the sleep.
  sigset_t wake, old_mask;
  sigemptyset(&wake);
  sigaddset(&wake, SIGWINCH);
  sigaddset(&wake, SIGCONT);
  pthread_sigmask(SIG_BLOCK, &wake, &old_mask);
  std::optional<FullScreen> screen;
  if (terminal) screen.emplace(fd);

  int status = 0;
  for (bool first = true;; first = false) {
    auto now = Clock::now();
    std::vector<std::string> lines{watch_title(options, now), ""};
    try {
      if (!db) db = connect();
      auto table = read_status_table(*db, options.query, now);
      lines.insert(lines.end(), table.begin(), table.end());
    } catch (const std::exception& e) {
      lines.push_back("error: " + printable(e.what()));
      lines.push_back("(trying again at the next refresh)");
      db.reset();
    }
    std::string frame;
    if (screen) {
      screen->enter_again_if_left();
      frame = redraw_screen(lines, terminal_size(fd).value_or(TerminalSize{}));
    } else {
      if (!first) frame += '\n';
      for (const auto& line : lines) frame += line + '\n';
    }
    if (!write_all(fd, frame)) {
      status = 1;
      break;
    }
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options.interval);
    timespec timeout{static_cast<time_t>(seconds.count()),
                     static_cast<long>((options.interval - seconds).count() * 1000000)};
    // Woken early by a resize, by SIGCONT after Ctrl-Z or by a handler (EINTR): redraw now.
    sigtimedwait(&wake, nullptr, &timeout);
  }
  screen.reset();
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return status;
}

}  // namespace sqltrack
