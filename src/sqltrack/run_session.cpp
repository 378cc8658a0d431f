#include "sqltrack/run_session.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "sqltrack/capture.hpp"
#include "sqltrack/error.hpp"
#include "sqltrack/launcher/launcher.hpp"
#include "sqltrack/run_outcome.hpp"
#include "sqltrack/schema.hpp"
#include "sqltrack/slurm_env.hpp"
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

// The database side of a run. Every method swallows database trouble after
// one warning: from then on the run is not recorded, but the command goes on.
class RunRecorder {
 public:
  RunRecorder(const Settings& settings, const RunStart& start) {
    try {
      db_ = open_database(settings);
      ensure_schema(*db_, settings.get("schema"));
      store_ = std::make_unique<RunStore>(*db_);
      ids_ = store_->start_run(start);
    } catch (const Error& e) {
      // Also a --run-id that cannot take this run: the job's compute time matters more.
      fail(e);
    }
  }

  std::optional<RunIds> ids() const { return store_ ? std::optional(ids_) : std::nullopt; }

  template <class Write>
  void write(Write&& write_fn) {
    if (!store_) return;
    try {
      write_fn(*store_, ids_.run_id);
    } catch (const Error& e) {
      fail(e);
    }
  }

 private:
  void fail(const Error& e) {
    warn(std::string(e.what()) + "; the command runs, but this run is not recorded");
    store_.reset();
  }

  std::unique_ptr<db::Database> db_;
  std::unique_ptr<RunStore> store_;
  RunIds ids_;
};

}  // namespace

std::string experiment_name(const WrapOptions& options, const Environment& env) {
  if (options.experiment && !options.experiment->empty()) return *options.experiment;
  if (auto name = lookup(env, "SQLTRACK_EXPERIMENT"); name && !name->empty()) return *name;
  if (auto name = lookup(env, "SLURM_JOB_NAME"); name && !name->empty()) return *name;
  return std::filesystem::path(options.command.at(0)).filename().string();
}

int run_wrapped(const WrapOptions& options, const Settings& settings, const Environment& env) {
  if (options.command.empty()) throw UsageError("no command given after --");
  RunStart start = describe_start(options, settings, env);
  RunRecorder recorder(settings, start);

  Environment child_env = env;
  if (auto ids = recorder.ids()) {
    child_env["SQLTRACK_RUN_ID"] = std::to_string(ids->run_id);
    child_env["SQLTRACK_EXPERIMENT_ID"] = std::to_string(ids->experiment_id);
  }
  child_env["SQLTRACK_EXPERIMENT"] = start.experiment;

  boost::asio::io_context io;
  boost::asio::steady_timer heartbeat(io);
  auto heartbeat_period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options.heartbeat_seconds));
  std::function<void()> schedule_heartbeat = [&] {
    heartbeat.expires_after(heartbeat_period);
    heartbeat.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      recorder.write([](RunStore& store, std::int64_t run_id) { store.heartbeat(run_id); });
      schedule_heartbeat();
    });
  };

  launcher::LaunchOptions launch;
  launch.argv = options.command;
  launch.environment = to_entries(child_env);
  launch.on_start = [&](pid_t) { schedule_heartbeat(); };
  launch.on_signal = [&](int signal) {
    if (signal != SIGINT && signal != SIGTERM && signal != SIGHUP) return;
    // Outside Slurm the final status waits for the command's exit; the history
    // shows when the request to stop came.
    std::string detail = std::string("SIG") + sigabbrev_np(signal) + " received and forwarded";
    recorder.write([&](RunStore& store, std::int64_t run_id) {
      store.add_history(run_id, RunStatus::RUNNING, detail);
      store.heartbeat(run_id);
    });
  };
  launch.on_child_exit = [&](const launcher::ChildOutcome&) { heartbeat.cancel(); };

  launcher::Launcher launcher(io, std::move(launch));
  launcher::ChildOutcome outcome = launcher.run();
  if (outcome.exec_errno != 0) {
    std::cerr << "sqltrack-run: error: cannot run '" << options.command[0]
              << "': " << outcome.summary() << '\n';
  }

  FinalStatus status = final_status(outcome);
  RunEnd end;
  end.time = outcome.ended;
  end.exit_code = outcome.exit_code;
  end.signal = outcome.term_signal;
  end.core_dumped = outcome.core_dumped;
  end.wall_seconds = std::chrono::duration<double>(outcome.duration).count();
  end.cpu_user_seconds = outcome.user_cpu_s;
  end.cpu_system_seconds = outcome.system_cpu_s;
  end.max_rss_kib = outcome.max_rss_kib;
  recorder.write([&](RunStore& store, std::int64_t run_id) {
    store.finish_run(run_id, status.status, status.detail, end);
  });
  return outcome.wrapper_exit_code();
}

}  // namespace sqltrack
