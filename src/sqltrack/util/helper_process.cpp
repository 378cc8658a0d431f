#include "sqltrack/util/helper_process.hpp"

#include <sys/wait.h>

#include <array>
#include <boost/asio/connect_pipe.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <csignal>
#include <filesystem>
#include <memory>
#include <optional>

#include "sqltrack/util/boost_process.hpp"
// After boost_process.hpp, which includes what these need first.
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/stdio.hpp>

namespace sqltrack {
namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

std::string first_line(const std::string& text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  auto end = text.find_first_of("\r\n", begin);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

std::string seconds_text(std::chrono::milliseconds duration) {
  auto ms = duration.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

// One helper from start to callback. Shared with every pending handler, so it
// lives until the last of them (the pidfd wait) has run.
struct HelperRun : std::enable_shared_from_this<HelperRun> {
  HelperRun(asio::io_context& io, std::chrono::milliseconds deadline, HelperDone callback)
      : out_pipe(io), err_pipe(io), timer(io), timeout(deadline), done(std::move(callback)) {}

  asio::readable_pipe out_pipe;
  asio::readable_pipe err_pipe;
  asio::steady_timer timer;
  std::optional<bp::process> process;
  std::chrono::milliseconds timeout;
  HelperDone done;
  HelperOutput result;
  std::array<char, 4096> out_buffer{};
  std::array<char, 4096> err_buffer{};
  int open_streams = 2;
  bool exited = false;
  bool finished = false;

  void start(asio::io_context& io, const std::vector<std::string>& argv) {
    std::filesystem::path executable = argv.at(0);
    if (argv[0].find('/') == std::string::npos)
      executable = bp::environment::find_executable(argv[0]);
    if (executable.empty()) {
      return fail(argv[0] + ": not found in PATH");
    }
    asio::writable_pipe out_write(io), err_write(io);
    boost::system::error_code ec;
    asio::connect_pipe(out_pipe, out_write, ec);
    if (!ec) asio::connect_pipe(err_pipe, err_write, ec);
    if (ec) return fail("cannot make a pipe: " + ec.message());
    try {
      process.emplace(io, executable, std::vector<std::string>(argv.begin() + 1, argv.end()),
                      bp::process_stdio{nullptr, out_write, err_write});
    } catch (const boost::system::system_error& error) {
      return fail(argv[0] + ": " + error.code().message());
    }
    result.started = true;
    // Our copies of the write ends go, so EOF comes when the helper exits.
    out_write.close(ec);
    err_write.close(ec);
    read(out_pipe, out_buffer, result.out);
    read(err_pipe, err_buffer, result.err);
    process->async_wait([self = shared_from_this()](boost::system::error_code, int) {
      self->exited = true;
      self->maybe_finish();
    });
    timer.expires_after(timeout);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (!error) self->expire();
    });
  }

  void read(asio::readable_pipe& pipe, std::array<char, 4096>& buffer, std::string& into) {
    pipe.async_read_some(asio::buffer(buffer),
                         [self = shared_from_this(), &pipe, &buffer, &into](
                             const boost::system::error_code& ec, std::size_t n) {
                           into.append(buffer.data(), n);
                           if (!ec && !self->finished) {
                             self->read(pipe, buffer, into);
                             return;
                           }
                           --self->open_streams;
                           self->maybe_finish();
                         });
  }

  void expire() {
    if (finished) return;
    result.timed_out = true;
    result.error = "did not answer within " + seconds_text(timeout);
    // SIGKILL, not process->terminate(): that waits for the exit, blocking the loop.
    // Not reaped yet, so the pid is still this helper's.
    if (process && !exited) ::kill(process->id(), SIGKILL);
    finish();
  }

  void maybe_finish() {
    if (finished || !exited || open_streams > 0) return;
    int status = process->native_exit_code();
    if (WIFEXITED(status)) {
      result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result.term_signal = WTERMSIG(status);
    }
    finish();
  }

  void fail(std::string why) {
    result.error = std::move(why);
    // Never call back from inside async_run_helper: the caller may not be ready.
    asio::post(timer.get_executor(), [self = shared_from_this()] { self->finish(); });
  }

  void finish() {
    if (finished) return;
    finished = true;
    timer.cancel();
    boost::system::error_code ignored;
    out_pipe.close(ignored);
    err_pipe.close(ignored);
    if (done) done(std::move(result));
  }
};

}  // namespace

std::string HelperOutput::describe() const {
  if (!started) return error;
  if (timed_out) return error;
  if (term_signal != 0) return "killed by signal " + std::to_string(term_signal);
  std::string line = first_line(err);
  if (line.empty()) line = first_line(out);
  return "exit " + std::to_string(exit_code) + (line.empty() ? "" : ": " + line);
}

void async_run_helper(asio::io_context& io, std::vector<std::string> argv,
                      std::chrono::milliseconds timeout, HelperDone done) {
  auto run = std::make_shared<HelperRun>(io, timeout, std::move(done));
  if (argv.empty()) return run->fail("no helper command");
  run->start(io, argv);
}

HelperOutput run_helper(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  asio::io_context io;
  HelperOutput output;
  async_run_helper(io, std::move(argv), timeout,
                   [&](HelperOutput result) { output = std::move(result); });
  // Runs until the helper is reaped too (after a timeout, a SIGKILLed one soon is).
  io.run();
  return output;
}

}  // namespace sqltrack
