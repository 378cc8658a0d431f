#include "sqltrack/wrapper/run_session.hpp"
#include "sqltrack/connect/connect.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "sqltrack/connect/database_identity.hpp"
#include "sqltrack/journal/journal.hpp"
#include "sqltrack/launcher/job_guard.hpp"
#include "sqltrack/launcher/launcher.hpp"
#include "sqltrack/metrics/metric_format.hpp"
#include "sqltrack/monitor/resource_monitor.hpp"
#include "sqltrack/schema/schema.hpp"
#include "sqltrack/slurm/slurm_env.hpp"
#include "sqltrack/slurm/slurm_mirror.hpp"
#include "sqltrack/store/run_event.hpp"
#include "sqltrack/store/store.hpp"
#include "sqltrack/util/capture.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/fault_injection.hpp"
#include "sqltrack/util/git_work_tree.hpp"
#include "sqltrack/util/output_file.hpp"
#include "sqltrack/util/text.hpp"
#include "sqltrack/wrapper/command_name.hpp"
#include "sqltrack/wrapper/metric_sources.hpp"
#include "sqltrack/wrapper/run_outcome.hpp"
#include "sqltrack/wrapper/run_writer.hpp"

namespace sqltrack {
namespace {

std::optional<std::int64_t> to_int(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  try {
    return std::stoll(*text);
  } catch (...) {
    return std::nullopt;
  }
}

// `git status` on a large work tree with a cold cache takes a while; the command waits for it.
constexpr std::chrono::milliseconds kGitStatusTimeout{2000};

// runs.git: the work tree the command starts in, which is the wrapper's own working directory.
nlohmann::json git_facts(GitCapture capture, const std::string& cwd) {
  if (capture == GitCapture::off || cwd.empty()) return nullptr;
  std::optional<GitState> state = read_git_state(cwd);
  if (!state) return nullptr;
  const bool full = capture == GitCapture::full;
  if (full) state->dirty = git_work_tree_dirty(state->work_tree, kGitStatusTimeout);
  return state->to_json(full);
}

RunStart describe_start(const WrapOptions& options, const Settings& settings,
                        const Environment& env) {
  RunStart start;
  start.experiment = experiment_name(options, env);
  start.existing_run_id = options.run_id;
  start.comment = options.comment;
  for (const auto& [key, value] : options.tags) start.tags[key] = value;
  const auto redact_patterns = split_redact_patterns(settings.get("env_redact").value_or(""));
  start.args = capture_args(options.command, redact_patterns);
  start.env = capture_environment(env, redact_patterns);
  HostFacts host = capture_host_facts();
  start.hostname = host.hostname;
  start.username = host.user;
  start.pid = host.pid;
  start.cwd = host.cwd;
  start.git = git_facts(options.capture_git, host.cwd);
  start.heartbeat_seconds = options.heartbeat_seconds;
  if (auto slurm = slurm_facts_from_env(env)) {
    start.slurm_job_id = to_int(slurm->job_id);
    start.slurm_array_job_id = to_int(slurm->array_job_id);
    start.slurm_array_task_id = to_int(slurm->array_task_id);
    start.slurm_restart_count = slurm->restart_count;
    start.slurm_job_name = slurm->job_name;
    start.slurm_cluster = slurm->cluster_name;
    start.slurm_nodelist = slurm->nodelist;
    start.slurm_partition = slurm->partition;
  }
  return start;
}

// describe_start with a new client id: the run's identity before the database has seen it.
RunStart new_run_start(const WrapOptions& options, const Settings& settings,
                       const Environment& env) {
  RunStart start = describe_start(options, settings, env);
  start.client_id = new_client_id();
  return start;
}

// The run's row, created before the command starts when the database answers. When it does
// not, the run starts in its journal and the writer creates it later (or, when retrying
// cannot help, `sqltrack sync` does); only a run that cannot be written at all (a --run-id
// that ended) is not recorded.
struct RecordingStart {
  bool recording = false;
  bool retry = true;  // worth trying the database again while the command runs
  std::unique_ptr<db::Database> db;
  std::optional<RunIds> ids;
};

RecordingStart start_recording(const ConnectDatabase& connect, const RunStart& start,
                               const std::filesystem::path& journal) {
  RecordingStart recording;
  try {
    recording.db = connect();
    fault_point("run_start");
    recording.ids = RunStore(*recording.db).start_run(start);
    recording.recording = true;
  } catch (const DatabaseError& e) {
    recording.db.reset();
    recording.recording = true;
    recording.retry = e.retryable();
    warn(std::string(e.what()) + "; the command runs, and the run is journaled in " +
         journal.string() +
         (e.retryable() ? " and stored when the database answers"
                        : ": not retried, `sqltrack sync` stores it once that is fixed"));
  } catch (const Error& e) {
    recording.db.reset();
    warn(std::string(e.what()) + "; the command runs, but this run is not recorded");
  } catch (...) {
    recording.db.reset();
    report_internal_failure("the start of the run");
  }
  return recording;
}

// What the run's journal starts with: the run (its id, or how to create it) and the database
// it belongs to, so `sqltrack sync` stores the journal into that database and no other.
JournalHeader journal_header(const RunStart& start, const RecordingStart& recording,
                             const Settings& settings, const DatabaseIdentity& target) {
  JournalHeader header;
  header.client_id = start.client_id;
  if (recording.ids) {
    header.run_id = recording.ids->run_id;
  } else {
    header.start = start;
  }
  header.database = recording.db ? recording.db->describe()
                                 : std::string(db::engine_name(settings.engine)) +
                                       " (settings from " + settings.describe_sources() + ")";
  header.target = target;
  return header;
}

// Writes through the RunWriter's thread, or nowhere when the run is not recorded.
class RunRecorder {
 public:
  explicit RunRecorder(RunWriter* writer) : writer_(writer) {}
  void record(RunEvent event) {
    if (writer_) writer_->post(std::move(event));
  }
  // Work on the event loop. A failure of the wrapper's own is said once and ends the
  // recording, never the loop: it goes on forwarding signals and waiting for the command.
  template <class Work>
  void guarded(std::string_view where, Work&& work) noexcept {
    try {
      work();
    } catch (...) {
      report_internal_failure(where);
      abandon();
    }
  }
  // A hook of the event loop, guarded the same way.
  template <class... Args>
  std::function<void(Args...)> guard(std::string_view where, std::function<void(Args...)> hook) {
    return [this, where, hook = std::move(hook)](Args... args) {
      guarded(where, [&] { hook(args...); });
    };
  }
  // After a failure of the wrapper's own (said already): what the run holds is kept, no more
  // is written to the database.
  void abandon() {
    if (writer_) writer_->abandon();
  }
  // Best effort, with the store: skipped while the database is away.
  template <class Write>
  void write(Write&& write_fn) {
    if (!writer_) return;
    writer_->post_task(
        [write_fn = std::forward<Write>(write_fn)](db::Database& db, std::int64_t run_id) {
          try {
            RunStore store(db);
            write_fn(store, run_id);
          } catch (const Error&) {
            // Samples and such: the next one comes soon.
          }
        });
  }

 private:
  RunWriter* writer_;
};

// The private directory that holds the FIFO and the spill file; removed at exit.
class PrivateDirectory {
 public:
  PrivateDirectory() {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string pattern = (base / "sqltrack-run.XXXXXX").string();
    // mkdtemp creates it with mode 0700: only the job's user can open the FIFO.
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~PrivateDirectory() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  PrivateDirectory(const PrivateDirectory&) = delete;
  PrivateDirectory& operator=(const PrivateDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct IngestSettings {
  MetricWriteOptions write;
  std::optional<std::filesystem::path> reject_dir;  // the setting; else the journal's directory
  std::filesystem::path journal_dir;
  mode_t file_mode = kPrivateFileMode;
};

// Read and checked before anything starts, so a bad value is an error, not a surprise later.
IngestSettings ingest_settings(const WrapOptions& options, const Settings& settings,
                               const Environment& env) {
  IngestSettings ingest;
  ingest.write.add_columns = options.add_columns.value_or(settings.add_columns());
  // Their ranges were checked when the settings were resolved (numeric_ranges.hpp).
  double flush = settings.get_number("flush_interval", 0.1);
  ingest.write.flush_interval =
      std::chrono::milliseconds(std::max<long>(1, std::lround(flush * 1000)));
  ingest.write.batch_rows = static_cast<std::size_t>(settings.get_number("batch_rows", 250));
  double sync_timeout = settings.get_number("sync_timeout", 30);
  ingest.write.final_retry = std::chrono::milliseconds(std::lround(sync_timeout * 1000));
  if (auto dir = settings.get("reject_dir"); dir && !dir->empty()) ingest.reject_dir = *dir;
  ingest.file_mode = settings.file_mode();
  if (auto dir = settings.get("journal_dir"); dir && !dir->empty()) {
    ingest.journal_dir = std::filesystem::absolute(*dir);
  } else {
    ingest.journal_dir = default_journal_dir(env);
  }
  return ingest;
}

// Where the run's rejected lines go: reject_dir, else next to the journals, in the user's own
// directory; the name says which run (or wrapper) of which database.
RejectFile run_reject_file(const IngestSettings& ingest, const std::string& run,
                           const DatabaseIdentity& target) {
  RejectFile file;
  const std::string name = "sqltrack-run-" + run + "-" + identity_tag(target) + ".rejects";
  file.path = (ingest.reject_dir ? *ingest.reject_dir : ingest.journal_dir) / name;
  file.mode = ingest.file_mode;
  file.private_directory = !ingest.reject_dir;
  return file;
}

// How the run ended, for the writer's last event: Slurm's verdict when it gave one.
FinishEvent finish_event(const launcher::ChildOutcome& outcome, const SlurmSignalMirror* mirror) {
  FinalStatus status = final_status(outcome);
  if (mirror && mirror->verdict() && !mirror->verdict()->user_signal) {
    status =
        FinalStatus{mirror->verdict()->status, mirror->verdict()->detail + "; " + status.detail};
  }
  FinishEvent finish{status.status, status.detail, {}};
  finish.end.time = outcome.ended;
  finish.end.exit_code = outcome.exit_code;
  finish.end.signal = outcome.term_signal;
  finish.end.core_dumped = outcome.core_dumped;
  finish.end.wall_seconds = std::chrono::duration<double>(outcome.duration).count();
  finish.end.cpu_user_seconds = outcome.user_cpu_s;
  finish.end.cpu_system_seconds = outcome.system_cpu_s;
  finish.end.max_rss_kib = outcome.max_rss_kib;
  return finish;
}

// One wrapped run: its parts in the order they are made (and unmade in reverse), each
// step of run() one member function. Callbacks the event loop calls reach the parts through
// `this`, all of which exist once the constructor has ended.
class RunSession {
 public:
  RunSession(const WrapOptions& options, const Settings& settings, const Environment& env);
  RunSession(const RunSession&) = delete;
  RunSession& operator=(const RunSession&) = delete;

  // Runs the command to its end and records it; the wrapper's exit code.
  int run();

 private:
  RecordingStart record_start();
  DatabaseIdentity database_target() const;
  Environment child_environment() const;
  std::unique_ptr<MetricReader> make_reader();
  std::unique_ptr<RunWriter> make_writer();
  ResourceMonitor::Hooks resource_hooks();
  std::unique_ptr<SlurmSignalMirror> make_mirror();
  std::string describe_origin(LineOrigin origin) const;
  void open_metric_sources(launcher::LaunchOptions& launch);
  launcher::LaunchOptions launch_options();
  void on_command_start(pid_t pid);
  void on_signal(int signal);
  void write_verdict(const SignalVerdict& verdict);
  void schedule_heartbeat();
  std::optional<RunEvent> end_event(const launcher::ChildOutcome& outcome);

  const WrapOptions& options_;
  const Settings& settings_;
  const Environment& env_;
  IngestSettings ingest_;
  RunStart start_;
  ConnectDatabase connect_;
  // Started before the database is asked, which it then does beside it; and before the
  // private directory, so that it hears goodbye once the directory is gone.
  launcher::JobGuard guard_{"/proc/self/exe"};
  RecordingStart recording_;
  Environment child_env_;
  boost::asio::io_context io_;
  PrivateDirectory private_dir_;
  DatabaseIdentity target_;
  RejectLog rejects_;
  std::unique_ptr<MetricReader> reader_;
  std::unique_ptr<RunWriter> writer_;  // null when the run is not recorded
  RunRecorder recorder_;
  MetricSources sources_;
  boost::asio::steady_timer heartbeat_;
  ResourceMonitor resources_;
  std::unique_ptr<SlurmSignalMirror> mirror_;  // inside Slurm only
  pid_t sentinel_ = -1;
};

RunSession::RunSession(const WrapOptions& options, const Settings& settings, const Environment& env)
    : options_(options),
      settings_(settings),
      env_(env),
      ingest_(ingest_settings(options, settings, env)),
      start_(new_run_start(options, settings, env)),
      connect_([&settings] {
        return open_for_writing(settings, db::OpenMode::create, db::WalOnClose::leave);
      }),
      recording_(record_start()),
      child_env_(child_environment()),
      target_(database_target()),
      rejects_(run_reject_file(ingest_,
                               recording_.ids ? std::to_string(recording_.ids->run_id)
                                              : "pid" + std::to_string(::getpid()),
                               target_)),
      reader_(make_reader()),
      writer_(make_writer()),
      recorder_(writer_.get()),
      sources_(io_, *reader_),
      heartbeat_(io_),
      resources_(io_, std::chrono::duration<double>(options.sample_seconds),
                 GpuTools{.search_path = lookup(env, "PATH").value_or("")}, resource_hooks()),
      mirror_(make_mirror()) {
  if (!private_dir_.path().empty()) guard_.remove_when_abandoned(private_dir_.path());
  if (recording_.recording) guard_.watch_environment("SQLTRACK_RUN_UUID=" + start_.client_id);
}

int RunSession::run() {
  launcher::Launcher launcher(io_, launch_options());
  launcher::ChildOutcome outcome = launcher.run();
  if (outcome.exec_errno != 0) {
    std::cerr << "sqltrack-run: error: cannot run '" << options_.command[0]
              << "': " << outcome.summary() << '\n';
  }
  std::optional<RunEvent> end = end_event(outcome);
  if (writer_) writer_->finish(std::move(end));
  rejects_.print_summary();
  return outcome.wrapper_exit_code();
}

// The run row, written now when the database answers; else the run starts in its journal,
// which is named for the run's client id.
RecordingStart RunSession::record_start() {
  ingest_.write.journal_path = journal_path(ingest_.journal_dir, start_.client_id);
  return start_recording(connect_, start_, ingest_.write.journal_path);
}

// Which database the run belongs to, as its journal and reject file name it: the server's own
// identity too when it answered.
DatabaseIdentity RunSession::database_target() const {
  DatabaseIdentity target = configured_identity(settings_, env_);
  if (recording_.db) add_server_identity(*recording_.db, target);
  return target;
}

// What the command gets besides the wrapper's environment: which run it is.
Environment RunSession::child_environment() const {
  Environment child_env = env_;
  if (recording_.recording) child_env["SQLTRACK_RUN_UUID"] = start_.client_id;
  if (recording_.ids) {
    child_env["SQLTRACK_RUN_ID"] = std::to_string(recording_.ids->run_id);
    child_env["SQLTRACK_EXPERIMENT_ID"] = std::to_string(recording_.ids->experiment_id);
  }
  child_env["SQLTRACK_EXPERIMENT"] = start_.experiment;
  child_env["SQLTRACK_METRICS"] = "/dev/null";  // --no-metrics: writes go nowhere, scripts work
  return child_env;
}

// Parsed rows go to the writer (or, when the run is not recorded, to the reject file); bad
// lines to the reject file.
std::unique_ptr<MetricReader> RunSession::make_reader() {
  return std::make_unique<MetricReader>(
      [this](PendingMetricRow row) {
        recorder_.guarded("the metric reader", [&] {
          if (writer_) {
            writer_->add(std::move(row));
          } else {
            rejects_.keep(describe_origin(row.origin), "not stored: the run is not recorded",
                          format_metric_row(row.row));
          }
        });
      },
      [this](LineOrigin origin, std::string_view reason, std::string_view line) {
        rejects_.reject(describe_origin(origin), reason, line, reader_->source_name(origin.source));
      });
}

std::unique_ptr<RunWriter> RunSession::make_writer() {
  if (!recording_.recording) return nullptr;
  JournalHeader header = journal_header(start_, recording_, settings_, target_);
  if (!private_dir_.path().empty()) ingest_.write.spill_path = private_dir_.path() / "spill";
  try {
    auto writer = std::make_unique<RunWriter>(
        connect_, std::move(recording_.db), std::move(header), ingest_.write, rejects_,
        [this](LineOrigin origin) { return describe_origin(origin); });
    if (!recording_.retry) writer->stop_retrying();
    return writer;
  } catch (const Error& e) {
    warn(std::string(e.what()) + "; the command runs, but this run is not recorded");
  } catch (...) {
    report_internal_failure("the start of the run");
  }
  return nullptr;
}

// Resource samples (--sample): taken on this loop, written by the writer's thread.
ResourceMonitor::Hooks RunSession::resource_hooks() {
  return {[this](ResourceSample sample) {
            recorder_.write([sample = std::move(sample)](RunStore& store, std::int64_t run_id) {
              insert_resource_sample(store.database(), run_id, sample);
            });
          },
          [this](std::vector<GpuInfo> gpus) {
            recorder_.write([gpus = std::move(gpus)](RunStore& store, std::int64_t run_id) {
              store_run_gpus(store.database(), run_id, gpus);
            });
          },
          [](const std::string& message) { warn(message); }, [this] { recorder_.abandon(); }};
}

// Inside Slurm, why a signal came is asked of Slurm when it arrives, and written at once:
// the wrapper may be SIGKILLed when KillWait ends, before the command exits.
std::unique_ptr<SlurmSignalMirror> RunSession::make_mirror() {
  auto slurm_job = slurm_facts_from_env(env_);
  if (!slurm_job || slurm_job->job_id.empty()) return nullptr;
  return std::make_unique<SlurmSignalMirror>(io_, *slurm_job);
}

std::string RunSession::describe_origin(LineOrigin origin) const {
  return reader_->source_name(origin.source) + " line " + std::to_string(origin.line);
}

// The FIFO, and --metrics-fd and --metrics-file when given. Without them the command runs.
void RunSession::open_metric_sources(launcher::LaunchOptions& launch) {
  if (!options_.metrics) return;
  try {
    if (private_dir_.path().empty()) throw Error("cannot create a private temporary directory");
    child_env_["SQLTRACK_METRICS"] =
        sources_.open_fifo(private_dir_.path(), "metrics", "SQLTRACK_METRICS").string();
    if (options_.metrics_fd) {
      int write_end = sources_.open_pipe("fd " + std::to_string(*options_.metrics_fd));
      launch.inherit_fds.emplace_back(write_end, *options_.metrics_fd);
      child_env_["SQLTRACK_METRICS_FD"] = std::to_string(*options_.metrics_fd);
    }
    if (options_.metrics_file) {
      sources_.follow_file(*options_.metrics_file, ingest_.write.flush_interval,
                           *options_.metrics_file);
    }
  } catch (const Error& e) {
    warn(std::string(e.what()) + "; the command runs without metrics ingestion");
  }
}

launcher::LaunchOptions RunSession::launch_options() {
  launcher::LaunchOptions launch;
  open_metric_sources(launch);
  launch.argv = options_.command;
  launch.environment = to_entries(child_env_);
  launch.helper_program = "/proc/self/exe";
  launch.guard = &guard_;
  launch.on_sentinel_start = [this](pid_t pid) { sentinel_ = pid; };
  launch.on_start =
      recorder_.guard("the start of the command",
                      std::function<void(pid_t)>([this](pid_t pid) { on_command_start(pid); }));
  launch.on_signal = recorder_.guard(
      "recording a signal", std::function<void(int)>([this](int signal) { on_signal(signal); }));
  launch.on_terminal_interrupt = [this](int signal) {
    recorder_.record(
        HistoryEvent{RunStatus::RUNNING, interrupted_at_terminal(signal), Clock::now()});
    recorder_.record(HeartbeatEvent{});
  };
  launch.on_child_exit = recorder_.guard(
      "the end of the command",
      std::function<void(const launcher::ChildOutcome&)>([this](const launcher::ChildOutcome&) {
        heartbeat_.cancel();
        resources_.stop();
      }));
  return launch;
}

void RunSession::on_command_start(pid_t pid) {
  sources_.close_child_ends();
  // From here on the writer's thread owns the connection.
  if (writer_) writer_->start();
  schedule_heartbeat();
  resources_.start({.root = pid, .adopted_children = true, .helper = sentinel_});
}

void RunSession::on_signal(int signal) {
  const bool stop = signal == SIGINT || signal == SIGTERM || signal == SIGHUP;
  // Outside Slurm only a request to stop is worth a history row; inside, also Slurm's
  // warnings before the end (--signal=B:USR1@120), not the SIGCONT that follows a scancel.
  const bool warning = mirror_ && (signal == SIGUSR1 || signal == SIGUSR2);
  if (!stop && !warning) return;
  std::string detail = std::string("SIG") + sigabbrev_np(signal) + " received and forwarded";
  if (!stop) detail += " (a warning sent with sbatch --signal, or by a user)";
  recorder_.record(HistoryEvent{RunStatus::RUNNING, detail, Clock::now()});
  recorder_.record(HeartbeatEvent{});
  if (!stop || !mirror_) return;
  mirror_->ask(signal, [this](const SignalVerdict& verdict) { write_verdict(verdict); });
}

// Slurm's reason (scancel, time limit, requeue, preemption) is written as soon as Slurm
// says it; after a user's own signal (Slurm still says RUNNING) only a history row.
void RunSession::write_verdict(const SignalVerdict& verdict) {
  if (verdict.user_signal) {
    recorder_.record(HistoryEvent{RunStatus::RUNNING, verdict.detail, Clock::now()});
  } else {
    recorder_.record(StatusEvent{verdict.status, verdict.detail, Clock::now()});
  }
}

void RunSession::schedule_heartbeat() {
  heartbeat_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options_.heartbeat_seconds)));
  heartbeat_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    recorder_.guarded("a heartbeat", [&] {
      fault_point("heartbeat");
      recorder_.record(HeartbeatEvent{});
    });
    schedule_heartbeat();
  });
}

// The writer's last event, once Slurm has answered and every line the job wrote is read.
std::optional<RunEvent> RunSession::end_event(const launcher::ChildOutcome& outcome) {
  std::optional<RunEvent> end;
  recorder_.guarded("the end of the run", [&] {
    // Slurm signals every process of the job at once: the command may die of it before the
    // wrapper's own SIGTERM is handled (then it never is). Ask then too; a no-op when a
    // signal has asked already. The answer comes within the mirror's deadline.
    if (mirror_ && (outcome.term_signal == SIGTERM || outcome.term_signal == SIGKILL)) {
      mirror_->ask(*outcome.term_signal,
                   [this](const SignalVerdict& verdict) { write_verdict(verdict); });
    }
    while (mirror_ && mirror_->busy()) {
      if (io_.stopped()) io_.restart();
      io_.run_one();
    }
    end = finish_event(outcome, mirror_.get());
    // Every line the job wrote is read and stored before the final status says it ended.
    sources_.drain();
  });
  return end;
}

}  // namespace

std::string experiment_name(const WrapOptions& options, const Environment& env) {
  if (options.experiment && !options.experiment->empty()) return *options.experiment;
  if (auto name = lookup(env, "SQLTRACK_EXPERIMENT"); name && !name->empty()) return *name;
  if (auto name = lookup(env, "SLURM_JOB_NAME"); name && !name->empty()) return *name;
  return default_experiment_name(options.command);
}

int run_wrapped(const WrapOptions& options, const Settings& settings, const Environment& env) {
  if (options.command.empty()) throw UsageError("no command given after --");
  RunSession session(options, settings, env);
  return session.run();
}

}  // namespace sqltrack
