#include "sqltrack/run_session.hpp"

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

#include "sqltrack/capture.hpp"
#include "sqltrack/error.hpp"
#include "sqltrack/journal.hpp"
#include "sqltrack/launcher/launcher.hpp"
#include "sqltrack/metric_format.hpp"
#include "sqltrack/metric_sources.hpp"
#include "sqltrack/resource_monitor.hpp"
#include "sqltrack/run_event.hpp"
#include "sqltrack/run_outcome.hpp"
#include "sqltrack/run_writer.hpp"
#include "sqltrack/schema.hpp"
#include "sqltrack/slurm_env.hpp"
#include "sqltrack/slurm_mirror.hpp"
#include "sqltrack/store.hpp"

namespace sqltrack {
namespace {

void warn(const std::string& message) {
  std::string line = message;
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  std::cerr << "sqltrack-run: warning: " << line << '\n';
}

std::optional<std::int64_t> to_int(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  try {
    return std::stoll(*text);
  } catch (...) {
    return std::nullopt;
  }
}

RunStart describe_start(const WrapOptions& options, const Settings& settings,
                        const Environment& env) {
  RunStart start;
  start.experiment = experiment_name(options, env);
  start.existing_run_id = options.run_id;
  start.comment = options.comment;
  for (const auto& [key, value] : options.tags) start.tags[key] = value;
  start.args = capture_args(options.command);
  start.env =
      capture_environment(env, split_redact_patterns(settings.get("env_redact").value_or("")));
  HostFacts host = capture_host_facts();
  start.hostname = host.hostname;
  start.username = host.user;
  start.pid = host.pid;
  start.cwd = host.cwd;
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

// The run's row, created before the command starts when the database answers. When it does
// not, the run starts in its journal and the writer creates it later; only a run that cannot
// be written at all (a --run-id that ended) is not recorded.
struct RecordingStart {
  bool recording = false;
  std::unique_ptr<db::Database> db;
  std::optional<RunIds> ids;
};

RecordingStart start_recording(const ConnectDatabase& connect, const RunStart& start,
                               const std::filesystem::path& journal) {
  RecordingStart recording;
  try {
    recording.db = connect();
    recording.ids = RunStore(*recording.db).start_run(start);
    recording.recording = true;
  } catch (const DatabaseError& e) {
    recording.db.reset();
    recording.recording = true;
    warn(std::string(e.what()) + "; the command runs, and the run is journaled in " +
         journal.string() + " and stored when the database answers" +
         (e.retryable() ? "" : " (after the problem is fixed, `sqltrack sync` stores it)"));
  } catch (const Error& e) {
    recording.db.reset();
    warn(std::string(e.what()) + "; the command runs, but this run is not recorded");
  }
  return recording;
}

// Writes through the RunWriter's thread, or nowhere when the run is not recorded.
class RunRecorder {
 public:
  explicit RunRecorder(RunWriter* writer) : writer_(writer) {}
  void record(RunEvent event) {
    if (writer_) writer_->post(std::move(event));
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
  std::filesystem::path reject_dir;
  std::filesystem::path journal_dir;
};

// Read and checked before anything starts, so a bad value is an error, not a surprise later.
IngestSettings ingest_settings(const WrapOptions& options, const Settings& settings,
                               const Environment& env) {
  IngestSettings ingest;
  ingest.write.add_columns = options.add_columns || settings.get_bool("add_columns", false);
  double flush = settings.get_number("flush_interval", 0.1);
  if (!(flush > 0 && flush <= 3600)) {
    throw ConfigError("setting 'flush_interval' must be between 0 and 3600 seconds");
  }
  ingest.write.flush_interval =
      std::chrono::milliseconds(std::max<long>(1, std::lround(flush * 1000)));
  double rows = settings.get_number("batch_rows", 250);
  if (!(rows >= 1 && rows <= 100000)) {
    throw ConfigError("setting 'batch_rows' must be between 1 and 100000");
  }
  ingest.write.batch_rows = static_cast<std::size_t>(rows);
  double sync_timeout = settings.get_number("sync_timeout", 30);
  if (!(sync_timeout >= 0 && sync_timeout <= 86400)) {
    throw ConfigError("setting 'sync_timeout' must be between 0 and 86400 seconds");
  }
  ingest.write.final_retry = std::chrono::milliseconds(std::lround(sync_timeout * 1000));
  if (auto dir = settings.get("reject_dir"); dir && !dir->empty()) {
    ingest.reject_dir = *dir;
  } else if (settings.engine == db::Engine::sqlite) {
    // Next to the database, where its user looks.
    ingest.reject_dir = std::filesystem::absolute(settings.sqlite_path()).parent_path();
  } else {
    ingest.reject_dir = std::filesystem::current_path();
  }
  if (auto dir = settings.get("journal_dir"); dir && !dir->empty()) {
    ingest.journal_dir = std::filesystem::absolute(*dir);
  } else {
    ingest.journal_dir = default_journal_dir(env);
  }
  return ingest;
}

}  // namespace

std::string experiment_name(const WrapOptions& options, const Environment& env) {
  if (options.experiment && !options.experiment->empty()) return *options.experiment;
  if (auto name = lookup(env, "SQLTRACK_EXPERIMENT"); name && !name->empty()) return *name;
  if (auto name = lookup(env, "SLURM_JOB_NAME"); name && !name->empty()) return *name;
  return std::filesystem::path(options.command.at(0)).filename().string();
}

int run_wrapped(const WrapOptions& options, const Settings& settings, const Environment& env) {
  if (options.command.empty()) throw UsageError("no command given after --");
  if (options.metrics_fd && *options.metrics_fd < 3) {
    throw UsageError("--metrics-fd must be 3 or more (0, 1 and 2 are the command's own)");
  }
  IngestSettings ingest = ingest_settings(options, settings, env);
  RunStart start = describe_start(options, settings, env);
  start.client_id = new_client_id();
  ingest.write.journal_path = journal_path(ingest.journal_dir, start.client_id);
  ConnectDatabase connect = [&settings] {
    auto db = open_database(settings, db::WalOnClose::leave);
    ensure_schema(*db, settings.get("schema"));
    return db;
  };
  RecordingStart recording = start_recording(connect, start, ingest.write.journal_path);

  Environment child_env = env;
  if (recording.recording) child_env["SQLTRACK_RUN_UUID"] = start.client_id;
  if (recording.ids) {
    child_env["SQLTRACK_RUN_ID"] = std::to_string(recording.ids->run_id);
    child_env["SQLTRACK_EXPERIMENT_ID"] = std::to_string(recording.ids->experiment_id);
  }
  child_env["SQLTRACK_EXPERIMENT"] = start.experiment;

  boost::asio::io_context io;
  PrivateDirectory private_dir;
  const auto& ids = recording.ids;
  RejectLog rejects(ingest.reject_dir /
                    ("sqltrack-run-" +
                     (ids ? std::to_string(ids->run_id) : "pid" + std::to_string(::getpid())) +
                     ".rejects"));
  std::unique_ptr<MetricReader> reader;
  std::unique_ptr<RunWriter> writer;
  auto describe_origin = [&](LineOrigin origin) {
    return reader->source_name(origin.source) + " line " + std::to_string(origin.line);
  };
  if (recording.recording) {
    JournalHeader header;
    header.client_id = start.client_id;
    if (ids) {
      header.run_id = ids->run_id;
    } else {
      header.start = start;
    }
    header.database = recording.db ? recording.db->describe()
                                   : std::string(db::engine_name(settings.engine)) +
                                         " (settings from " + settings.describe_sources() + ")";
    if (!private_dir.path().empty()) ingest.write.spill_path = private_dir.path() / "spill";
    try {
      writer = std::make_unique<RunWriter>(connect, std::move(recording.db), std::move(header),
                                           ingest.write, rejects, describe_origin);
    } catch (const Error& e) {
      warn(std::string(e.what()) + "; the command runs, but this run is not recorded");
    }
  }
  RunRecorder recorder(writer.get());
  reader = std::make_unique<MetricReader>(
      [&](PendingMetricRow row) {
        if (writer) {
          writer->add(std::move(row));
        } else {
          rejects.keep(describe_origin(row.origin), "not stored: the run is not recorded",
                       format_metric_row(row.row));
        }
      },
      [&](LineOrigin origin, std::string_view reason, std::string_view line) {
        rejects.reject(describe_origin(origin), reason, line);
      });
  MetricSources sources(io, *reader);

  launcher::LaunchOptions launch;
  child_env["SQLTRACK_METRICS"] = "/dev/null";  // --no-metrics: writes go nowhere, scripts work
  if (options.metrics) {
    try {
      if (private_dir.path().empty()) throw Error("cannot create a private temporary directory");
      child_env["SQLTRACK_METRICS"] =
          sources.open_fifo(private_dir.path(), "metrics", "SQLTRACK_METRICS").string();
      if (options.metrics_fd) {
        int write_end = sources.open_pipe("fd " + std::to_string(*options.metrics_fd));
        launch.inherit_fds.emplace_back(write_end, *options.metrics_fd);
        child_env["SQLTRACK_METRICS_FD"] = std::to_string(*options.metrics_fd);
      }
      if (options.metrics_file) {
        sources.follow_file(*options.metrics_file, ingest.write.flush_interval,
                            *options.metrics_file);
      }
    } catch (const Error& e) {
      warn(std::string(e.what()) + "; the command runs without metrics ingestion");
    }
  }

  boost::asio::steady_timer heartbeat(io);
  auto heartbeat_period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options.heartbeat_seconds));
  std::function<void()> schedule_heartbeat = [&] {
    heartbeat.expires_after(heartbeat_period);
    heartbeat.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      recorder.record(HeartbeatEvent{});
      schedule_heartbeat();
    });
  };

  // Resource samples (--sample): taken on this loop, written by the writer's thread.
  ResourceMonitor resources(
      io, std::chrono::duration<double>(options.sample_seconds),
      GpuTools{.search_path = lookup(env, "PATH").value_or("")},
      {[&recorder](ResourceSample sample) {
         recorder.write([sample = std::move(sample)](RunStore& store, std::int64_t run_id) {
           insert_resource_sample(store.database(), run_id, sample);
         });
       },
       [&recorder](std::vector<GpuInfo> gpus) {
         recorder.write([gpus = std::move(gpus)](RunStore& store, std::int64_t run_id) {
           store_run_gpus(store.database(), run_id, gpus);
         });
       },
       [](const std::string& message) { warn(message); }});

  // Inside Slurm, why a signal came is asked of Slurm when it arrives, and written at once:
  // the wrapper may be SIGKILLed when KillWait ends, before the command exits.
  std::unique_ptr<SlurmSignalMirror> mirror;
  auto slurm_job = slurm_facts_from_env(env);
  if (slurm_job && !slurm_job->job_id.empty()) {
    mirror = std::make_unique<SlurmSignalMirror>(io, *slurm_job);
  }

  launch.argv = options.command;
  launch.environment = to_entries(child_env);
  launch.on_start = [&](pid_t pid) {
    sources.close_child_ends();
    // From here on the writer's thread owns the connection.
    if (writer) writer->start();
    schedule_heartbeat();
    resources.start({.root = pid, .adopted_children = true});
  };
  // Slurm's reason (scancel, time limit, requeue, preemption) is written as soon as Slurm
  // says it; after a user's own signal (Slurm still says RUNNING) only a history row.
  auto write_verdict = [&recorder](const SignalVerdict& verdict) {
    if (verdict.user_signal) {
      recorder.record(HistoryEvent{RunStatus::RUNNING, verdict.detail, Clock::now()});
    } else {
      recorder.record(StatusEvent{verdict.status, verdict.detail, Clock::now()});
    }
  };
  launch.on_signal = [&](int signal) {
    const bool stop = signal == SIGINT || signal == SIGTERM || signal == SIGHUP;
    // Outside Slurm only a request to stop is worth a history row; inside, also Slurm's
    // warnings before the end (--signal=B:USR1@120), not the SIGCONT that follows a scancel.
    const bool warning = mirror && (signal == SIGUSR1 || signal == SIGUSR2);
    if (!stop && !warning) return;
    std::string detail = std::string("SIG") + sigabbrev_np(signal) + " received and forwarded";
    if (!stop) detail += " (a warning sent with sbatch --signal, or by a user)";
    recorder.record(HistoryEvent{RunStatus::RUNNING, detail, Clock::now()});
    recorder.record(HeartbeatEvent{});
    if (!stop || !mirror) return;
    mirror->ask(signal, write_verdict);
  };
  launch.on_child_exit = [&](const launcher::ChildOutcome&) {
    heartbeat.cancel();
    resources.stop();
  };

  launcher::Launcher launcher(io, std::move(launch));
  launcher::ChildOutcome outcome = launcher.run();
  if (outcome.exec_errno != 0) {
    std::cerr << "sqltrack-run: error: cannot run '" << options.command[0]
              << "': " << outcome.summary() << '\n';
  }

  // Slurm signals every process of the job at once: the command may die of it before the
  // wrapper's own SIGTERM is handled (then it never is). Ask then too; a no-op when a
  // signal has asked already. The answer comes within the mirror's deadline.
  if (mirror && (outcome.term_signal == SIGTERM || outcome.term_signal == SIGKILL)) {
    mirror->ask(*outcome.term_signal, write_verdict);
  }
  while (mirror && mirror->busy()) {
    if (io.stopped()) io.restart();
    io.run_one();
  }

  // Every line the job wrote is read and stored before the final status says it ended.
  sources.drain();

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
  if (writer) writer->finish(std::move(finish));
  rejects.print_summary();
  return outcome.wrapper_exit_code();
}

}  // namespace sqltrack
