#include "support/test_support.hpp"

#include "sqltrack/connect/connect.hpp"
#include "sqltrack/util/environment.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sqltrack::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/sqltrack-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

void drain(int fd, std::string& into, bool& open) {
  char buffer[65536];
  ssize_t n = read(fd, buffer, sizeof buffer);
  if (n > 0) {
    into.append(buffer, static_cast<std::size_t>(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    open = false;
  }
}

// argv and envp for execvpe, with the strings they point into.
struct ExecArguments {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argp;
  std::vector<char*> envp;
};

// This process's environment with options.env applied on top.
ExecArguments exec_arguments(const std::vector<std::string>& argv, const CommandOptions& options) {
  Environment env = current_environment();
  for (const auto& [key, value] : options.env) {
    if (value) {
      env[key] = *value;
    } else {
      env.erase(key);
    }
  }
  ExecArguments exec{argv, to_entries(env), {}, {}};
  for (auto& arg : exec.args) exec.argp.push_back(arg.data());
  exec.argp.push_back(nullptr);
  for (auto& entry : exec.env) exec.envp.push_back(entry.data());
  exec.envp.push_back(nullptr);
  return exec;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options) {
  int out_pipe[2], err_pipe[2], in_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
      pipe2(in_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  ExecArguments exec = exec_arguments(argv, options);

  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    if (options.cwd && chdir(options.cwd->c_str()) != 0) _exit(126);
    execvpe(exec.argp[0], exec.argp.data(), exec.envp.data());
    _exit(errno == ENOENT ? 127 : 126);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!options.stdin_text.empty()) {
    const char* p = options.stdin_text.data();
    std::size_t left = options.stdin_text.size();
    while (left > 0) {
      ssize_t n = write(in_pipe[1], p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  close(in_pipe[1]);

  CommandResult result;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      drain(out_pipe[0], result.out, out_open);
    }
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      drain(err_pipe[0], result.err, err_open);
    }
  }
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string shell_command(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) line += (line.empty() ? "" : " ") + shell_quote(arg);
  return line;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << text;
}

std::string required_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string("environment variable ") + name +
                             " is not set: run the suite with scripts/test.sh, which starts "
                             "the servers and sets it");
  }
  return value;
}

LocalUser local_user(const std::string& name) {
  passwd* entry = getpwnam(name.c_str());
  if (entry == nullptr) {
    // Two tests may add it at once: the loser's "already exists" is fine.
    run_command({"/usr/sbin/useradd", "--system", "--no-create-home", "--shell",
                 "/usr/sbin/nologin", name});
    entry = getpwnam(name.c_str());
  }
  if (entry == nullptr) throw std::runtime_error("cannot create user " + name);
  return {name, entry->pw_uid, entry->pw_gid};
}

gid_t local_group(const std::string& name) {
  group* entry = getgrnam(name.c_str());
  if (entry == nullptr) {
    run_command({"/usr/sbin/groupadd", "--system", name});
    entry = getgrnam(name.c_str());
  }
  if (entry == nullptr) throw std::runtime_error("cannot create group " + name);
  return entry->gr_gid;
}

std::vector<std::string> as_user(const LocalUser& user, std::vector<std::string> argv,
                                 const std::vector<gid_t>& groups) {
  std::string others;
  for (gid_t gid : groups) others += (others.empty() ? "--groups=" : ",") + std::to_string(gid);
  if (others.empty()) others = "--clear-groups";
  argv.insert(argv.begin(), {"setpriv", "--reuid=" + std::to_string(user.uid),
                             "--regid=" + std::to_string(user.gid), others, "--"});
  return argv;
}

std::filesystem::path find_reject_file(const std::filesystem::path& dir, const std::string& run) {
  const std::string prefix = "sqltrack-run-" + run + "-";
  std::vector<std::filesystem::path> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(".rejects")) found.push_back(entry.path());
  }
  if (found.size() > 1) {
    throw std::runtime_error("more than one reject file of run " + run + " in " + dir.string());
  }
  return found.empty() ? std::filesystem::path() : found.front();
}

}  // namespace sqltrack::test

#include <atomic>

#include "sqltrack/db/postgres_database.hpp"

namespace sqltrack::test {

PostgresServer postgres_server() {
  return {required_env("SQLTRACK_TEST_PGHOST"), required_env("SQLTRACK_TEST_PGPORT"),
          required_env("SQLTRACK_TEST_PGUSER")};
}

namespace {

std::unique_ptr<db::Database> connect_server(const PostgresServer& server,
                                             const std::string& dbname) {
  return db::open_postgres({{"host", server.socket_dir},
                            {"port", server.port},
                            {"user", server.user},
                            {"dbname", dbname}});
}

}  // namespace

ScratchPostgresDatabase::ScratchPostgresDatabase() : server_(postgres_server()) {
  static std::atomic<int> counter{0};
  name_ = "test_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  auto admin = connect_server(server_, "postgres");
  admin->execute("DROP DATABASE IF EXISTS " + db::quote_identifier(name_));
  admin->execute("CREATE DATABASE " + db::quote_identifier(name_));
}

ScratchPostgresDatabase::~ScratchPostgresDatabase() {
  try {
    auto admin = connect_server(server_, "postgres");
    admin->execute("DROP DATABASE IF EXISTS " + db::quote_identifier(name_) + " WITH (FORCE)");
  } catch (...) {
    // A leftover scratch database is harmless; the server is thrown away after the suite.
  }
}

std::vector<std::string> ScratchPostgresDatabase::cli_flags() const {
  return {"-a", "127.0.0.1:" + server_.port, "-u", server_.user, "-d", name_};
}

Settings ScratchPostgresDatabase::settings() const {
  CommandLineSettings flags;
  flags.host = "127.0.0.1:" + server_.port;
  flags.user = server_.user;
  flags.database = name_;
  return resolve_settings(flags, {}, std::filesystem::temp_directory_path());
}

std::unique_ptr<db::Database> ScratchPostgresDatabase::connect() const {
  return connect_server(server_, name_);
}

EngineDatabase::EngineDatabase(db::Engine engine) : engine_(engine) {
  if (engine == db::Engine::postgres) postgres_ = std::make_unique<ScratchPostgresDatabase>();
}

std::vector<std::string> EngineDatabase::cli_flags() const {
  if (postgres_) return postgres_->cli_flags();
  return {};
}

std::vector<std::string> EngineDatabase::wrapper_argv(
    const std::vector<std::string>& flags, const std::vector<std::string>& command) const {
  std::vector<std::string> argv{SQLTRACK_RUN_BIN};
  auto connection = cli_flags();
  argv.insert(argv.end(), connection.begin(), connection.end());
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

Settings EngineDatabase::settings() const {
  if (postgres_) return postgres_->settings();
  return resolve_settings({}, {{"SQLTRACK_DSN_PATH", (dir_.path() / "sqltrack.db").string()}},
                          dir_.path());
}

std::unique_ptr<db::Database> EngineDatabase::connect() const {
  return open_database(settings());
}

}  // namespace sqltrack::test

#include <csignal>
#include <thread>

namespace sqltrack::test {

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const CommandOptions& options)
    : BackgroundProcess(argv, options, "") {}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const CommandOptions& options,
                                     const std::string& controlling_terminal) {
  ExecArguments exec = exec_arguments(argv, options);
  std::string out_path = (dir_.path() / "out").string();
  std::string err_path = (dir_.path() / "err").string();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int in = -1;
    if (!controlling_terminal.empty()) {
      setsid();
      in = open(controlling_terminal.c_str(), O_RDWR);
      ioctl(in, TIOCSCTTY, 0);
    } else {
      in = open("/dev/null", O_RDONLY);
      // A process group of its own, like a job started by a shell or slurmstepd.
      setpgid(0, 0);
    }
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (options.cwd && chdir(options.cwd->c_str()) != 0) _exit(126);
    execvpe(exec.argp[0], exec.argp.data(), exec.envp.data());
    _exit(127);
  }
}

BackgroundProcess::~BackgroundProcess() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

void BackgroundProcess::signal(int sig) const {
  kill(pid_, sig);
}

int BackgroundProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      reaped_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string BackgroundProcess::out() const {
  return read_file(dir_.path() / "out");
}
std::string BackgroundProcess::err() const {
  return read_file(dir_.path() / "err");
}

bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return predicate();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

bool process_alive(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  std::string text;
  std::getline(stat, text);
  auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

PseudoTerminal::PseudoTerminal() {
  master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master >= 0 && ::grantpt(master) == 0 && ::unlockpt(master) == 0) slave = ::ptsname(master);
}

PseudoTerminal::~PseudoTerminal() {
  if (master >= 0) ::close(master);
}

bool PseudoTerminal::type(const std::string& keys) const {
  return ::write(master, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size());
}

pid_t PseudoTerminal::foreground() const {
  return ::tcgetpgrp(master);
}

}  // namespace sqltrack::test
