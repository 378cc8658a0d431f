// The traffic of N wrapped jobs from one process: each job starts a run, hands one metric line
// of 8 float columns to its RunWriter every --interval seconds, heartbeats, and ends with a
// final status, through the same run start, writer thread, metric store and journal as
// sqltrack-run. Prints per-second progress, then as its last line one JSON object: rows sent
// and stored (counted in the database afterwards), the time from a line's hand-off to its
// commit (p50/p99/max), and the server's CPU, WAL and connections where it can see them.
//
//   swarm --jobs N --seconds S [--interval S] [connection flags as sqltrack-run's]

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "sqltrack/config/config.hpp"
#include "sqltrack/connect/connect.hpp"
#include "sqltrack/connect/database_identity.hpp"
#include "sqltrack/db/postgres_database.hpp"
#include "sqltrack/journal/journal.hpp"
#include "sqltrack/metrics/reject_log.hpp"
#include "sqltrack/metrics/sql/metric_columns.hpp"
#include "sqltrack/store/store.hpp"
#include "sqltrack/util/environment.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/wrapper/run_writer.hpp"

namespace po = boost::program_options;
using namespace sqltrack;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr int kColumns = 8;

struct SwarmOptions {
  int jobs = 100;
  double seconds = 60;
  double interval = 1;
  double heartbeat = 30;
  double ramp = -1;  // seconds over which jobs start; default: a tenth of the run, at most 10
  int starters = 16;
  double final_retry = 120;
  std::filesystem::path journal_dir;
  bool own_journal_dir = false;  // made by swarm: removed when every job's rows are stored
  bool check = false;
  bool plain_copy = false;  // the baseline: each flush a plain COPY into metrics, no merging
  CommandLineSettings connection;
};

// Hand-off times of the lines a job's writer has not committed yet, and the latencies of
// those it has (rows are stored in the order they were handed over).
class LatencyLog {
 public:
  void handed() {
    std::lock_guard lock(mutex_);
    waiting_.push_back(SteadyClock::now());
  }
  void stored(std::uint64_t rows) {
    auto now = SteadyClock::now();
    std::lock_guard lock(mutex_);
    for (; rows > 0 && !waiting_.empty(); --rows) {
      latencies_ms_.push_back(
          std::chrono::duration<double, std::milli>(now - waiting_.front()).count());
      waiting_.pop_front();
    }
  }
  std::vector<double> take() {
    std::lock_guard lock(mutex_);
    return std::move(latencies_ms_);
  }

 private:
  std::mutex mutex_;
  std::deque<SteadyClock::time_point> waiting_;
  std::vector<double> latencies_ms_;
};

// Where a job's lines go: the wrapper's RunWriter, or the plain COPY baseline.
class JobSink {
 public:
  virtual ~JobSink() = default;
  virtual void add(MetricRow row) = 0;
  virtual void heartbeat() = 0;
  virtual bool finish() = 0;  // true when everything is stored
};

class WrapperSink : public JobSink {
 public:
  WrapperSink(std::unique_ptr<RejectLog> rejects, std::unique_ptr<RunWriter> writer)
      : rejects_(std::move(rejects)), writer_(std::move(writer)) {}
  void add(MetricRow row) override {
    writer_->add(PendingMetricRow{std::move(row), LineOrigin{0, ++lines_}});
  }
  void heartbeat() override { writer_->post(HeartbeatEvent{}); }
  bool finish() override {
    FinishEvent end;
    end.status = RunStatus::COMPLETED;
    end.end.exit_code = 0;
    const bool stored = writer_->finish(end).all_stored;
    writer_.reset();  // its connection closes, as at a wrapper's exit: a waiting job may take it
    return stored;
  }

 private:
  std::unique_ptr<RejectLog> rejects_;
  std::unique_ptr<RunWriter> writer_;
  std::uint64_t lines_ = 0;
};

// The baseline: the same rows, batched the same way (every 100 ms), each batch one plain COPY
// into metrics on the job's own connection: no staging table, no merging, no journal.
class PlainCopySink : public JobSink {
 public:
  PlainCopySink(std::unique_ptr<db::Database> db, std::int64_t run_id, LatencyLog& latency)
      : db_(std::move(db)), run_id_(run_id), latency_(latency), thread_([this] { write(); }) {}
  ~PlainCopySink() override { stop(); }
  void add(MetricRow row) override {
    std::lock_guard lock(mutex_);
    queued_.push_back(std::move(row));
  }
  void heartbeat() override {}
  bool finish() override {
    stop();
    db_.reset();
    return queued_.empty() && failed_ == 0;
  }

 private:
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }
  void write() {
    for (bool last = false; !last;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::vector<MetricRow> rows;
      {
        std::lock_guard lock(mutex_);
        last = stopping_;
        rows.swap(queued_);
      }
      if (rows.empty()) continue;
      try {
        db_->copy_from(copy_sql(), copy_data(rows));
        latency_.stored(rows.size());
      } catch (const Error&) {
        failed_ += rows.size();
      }
    }
  }
  static std::string copy_sql() {
    std::string sql = "COPY metrics (run_id, step, progress";
    for (int c = 0; c < kColumns; ++c) sql += ", m" + std::to_string(c);
    return sql + ") FROM STDIN";
  }
  std::string copy_data(const std::vector<MetricRow>& rows) const {
    std::string data;
    for (const auto& row : rows) {
      data += std::to_string(run_id_) + '\t' + std::to_string(row.step) + "\t0";
      for (const auto& [name, value] : row.values) {
        data += '\t' + db::postgres_text(db::Value(std::get<double>(value)));
      }
      data += '\n';
    }
    return data;
  }

  std::unique_ptr<db::Database> db_;
  std::int64_t run_id_;
  LatencyLog& latency_;
  std::mutex mutex_;
  std::vector<MetricRow> queued_;
  bool stopping_ = false;
  std::uint64_t failed_ = 0;
  std::thread thread_;
};

struct Job {
  int index = 0;
  RunStart start;
  LatencyLog latency;
  std::unique_ptr<JobSink> sink;
  std::atomic<bool> started = false;
  std::atomic<bool> failed = false;  // could not start (the baseline, without a journal)
  std::int64_t step = 0;
  std::uint64_t rows_sent = 0;
  bool all_stored = true;
};

std::optional<SwarmOptions> parse_options(int argc, char** argv) {
  SwarmOptions options;
  po::options_description flags("swarm: the traffic of N wrapped jobs from one process");
  flags.add_options()("help,h", "this help")("jobs", po::value(&options.jobs)->default_value(100),
                                             "simulated jobs")(
      "seconds", po::value(&options.seconds)->default_value(60), "how long each job runs")(
      "interval", po::value(&options.interval)->default_value(1),
      "seconds between a job's metric lines")(
      "heartbeat", po::value(&options.heartbeat)->default_value(30), "seconds between heartbeats")(
      "ramp", po::value(&options.ramp), "seconds over which the jobs start (default S/10, <= 10)")(
      "starters", po::value(&options.starters)->default_value(16),
      "threads that start runs, as that many wrappers starting at once")(
      "final-retry", po::value(&options.final_retry)->default_value(120),
      "seconds a job's end waits for an absent database before its journal is left")(
      "journal-dir", po::value<std::string>(), "where journals go (default: a new temporary one)")(
      "check", "exit 1 when a line sent is not in the database (the test command's smoke run)")(
      "path", po::value<std::string>()->default_value("wrapper"),
      "wrapper: the wrapper's writer; plain-copy: the baseline, each job's rows by a plain COPY "
      "every 100 ms on a connection of its own (PostgreSQL only, no journal)");
  flags.add(cli::connection_options());
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, flags), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << flags;
    return std::nullopt;
  }
  if (options.jobs < 1 || options.seconds <= 0 || options.interval <= 0 || options.starters < 1) {
    throw UsageError("--jobs and --starters must be at least 1, --seconds and --interval above 0");
  }
  if (options.ramp < 0) options.ramp = std::min(10.0, options.seconds / 10);
  if (vm.count("journal-dir")) options.journal_dir = vm["journal-dir"].as<std::string>();
  options.check = vm.count("check") > 0;
  const auto path = vm["path"].as<std::string>();
  if (path != "wrapper" && path != "plain-copy") {
    throw UsageError("--path is wrapper or plain-copy, got '" + path + "'");
  }
  options.plain_copy = path == "plain-copy";
  options.connection = cli::connection_flags(vm);
  return options;
}

// The server's CPU seconds so far, from /proc: every live postgres process's own time, and
// the postmaster's reaped children (backends that have ended). Nothing when no postgres
// process is visible (a server elsewhere).
std::optional<double> postgres_cpu_seconds() {
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::map<pid_t, pid_t> parent;
  std::map<pid_t, std::array<double, 4>> times;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;
    auto open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    if (stat.substr(open + 1, close - open - 1) != "postgres") continue;
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f(std::istream_iterator<std::string>(fields), {});
    if (f.size() < 15) continue;
    pid_t pid = std::stoi(name);
    parent[pid] = std::stoi(f[1]);
    times[pid] = {std::stod(f[11]), std::stod(f[12]), std::stod(f[13]), std::stod(f[14])};
  }
  if (times.empty()) return std::nullopt;
  double total = 0;
  for (const auto& [pid, t] : times) {
    total += t[0] + t[1];
    if (!parent.count(parent[pid]) && !times.count(parent[pid])) total += t[2] + t[3];
  }
  return total / ticks;
}

// What the server says about itself; empty for SQLite or when it does not answer.
struct ServerProbe {
  std::unique_ptr<db::Database> db;

  std::optional<std::int64_t> number(std::string_view sql) {
    if (!db) return std::nullopt;
    try {
      auto value = db->query(sql).scalar();
      if (value) return std::stoll(*value);
    } catch (const Error&) {
    }
    return std::nullopt;
  }
  std::optional<std::int64_t> wal_bytes() {
    return number("select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint");
  }
  std::optional<std::int64_t> client_connections() {
    return number(
        "select count(*) from pg_stat_activity "
        "where backend_type = 'client backend' and pid <> pg_backend_pid()");
  }
};

ServerProbe open_probe(const Settings& settings) {
  ServerProbe probe;
  if (settings.engine != db::Engine::postgres) return probe;
  probe.db = open_database(settings);
  return probe;
}

RunStart job_run_start(const std::string& experiment, int index) {
  RunStart start;
  start.experiment = experiment;
  start.client_id = new_client_id();
  start.args = nlohmann::json::array({"swarm", "job", index});
  start.hostname = "swarm";
  start.username = "swarm";
  start.pid = ::getpid();
  start.cwd = std::filesystem::current_path().string();
  start.tags["swarm_job"] = std::to_string(index);
  return start;
}

// The metric columns the jobs write, made before they start (the wrapper's add_columns
// would have the first jobs race to add them).
void ensure_metric_columns(const Settings& settings) {
  auto db = open_for_writing(settings);
  auto columns = MetricColumns::load(*db);
  for (int c = 0; c < kColumns; ++c) {
    std::string name = "m" + std::to_string(c);
    if (!columns.find(name)) add_metric_column(*db, name, MetricValue{0.5});
  }
}

class Swarm {
 public:
  Swarm(SwarmOptions options, Settings settings, DatabaseIdentity target)
      : options_(std::move(options)), settings_(std::move(settings)), target_(std::move(target)) {
    experiment_ = "swarm-" + std::to_string(::getpid()) + "-" +
                  std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    for (int i = 0; i < options_.jobs; ++i) {
      jobs_.push_back(std::make_unique<Job>());
      jobs_.back()->index = i;
    }
  }

  nlohmann::ordered_json run();

 private:
  void start_job(Job& job);
  std::unique_ptr<JobSink> wrapper_sink(Job& job, const ConnectDatabase& connect,
                                        std::unique_ptr<db::Database> db, JournalHeader header);
  void start_all(SteadyClock::time_point begin);
  void generate(SteadyClock::time_point begin);
  void finish_all();
  std::uint64_t sent() const;
  std::int64_t rows_stored();
  nlohmann::ordered_json summary(double wall_seconds, std::int64_t stored);

  SwarmOptions options_;
  Settings settings_;
  DatabaseIdentity target_;
  std::string experiment_;
  std::vector<std::unique_ptr<Job>> jobs_;
  std::atomic<std::int64_t> connections_max_ = 0;
  std::mutex failure_mutex_;
  std::string start_failure_;  // the first job that could not start, and why
};

void Swarm::start_job(Job& job) {
  job.start = job_run_start(experiment_, job.index);
  ConnectDatabase connect = [this] {
    return open_for_writing(settings_, db::OpenMode::create, db::WalOnClose::leave);
  };
  JournalHeader header;
  header.client_id = job.start.client_id;
  header.target = target_;
  header.database = db::engine_name(settings_.engine);
  std::unique_ptr<db::Database> db;
  try {
    db = connect();
    header.run_id = RunStore(*db).start_run(job.start).run_id;
  } catch (const DatabaseError& e) {
    if (options_.plain_copy) throw;  // the baseline has no journal to fall back on
    db.reset();  // as the wrapper: the run starts in its journal and is created later
    header.start = job.start;
  }
  if (options_.plain_copy) {
    job.sink = std::make_unique<PlainCopySink>(std::move(db), *header.run_id, job.latency);
  } else {
    job.sink = wrapper_sink(job, connect, std::move(db), std::move(header));
  }
  job.started = true;
}

std::unique_ptr<JobSink> Swarm::wrapper_sink(Job& job, const ConnectDatabase& connect,
                                             std::unique_ptr<db::Database> db,
                                             JournalHeader header) {
  MetricWriteOptions write;
  write.final_retry = std::chrono::milliseconds(static_cast<long>(options_.final_retry * 1000));
  write.journal_path = options_.journal_dir / (job.start.client_id + ".journal");
  write.on_stored = [&job](std::uint64_t rows) { job.latency.stored(rows); };
  auto rejects = std::make_unique<RejectLog>(
      RejectFile{options_.journal_dir / (job.start.client_id + ".rejects"), 0600, false}, 3);
  auto writer = std::make_unique<RunWriter>(
      connect, std::move(db), std::move(header), write, *rejects,
      [](LineOrigin origin) { return "swarm line " + std::to_string(origin.line); });
  writer->start();
  return std::make_unique<WrapperSink>(std::move(rejects), std::move(writer));
}

// Jobs start spread over the ramp, by a few threads at once (wrappers starting together).
void Swarm::start_all(SteadyClock::time_point begin) {
  std::atomic<int> next = 0;
  std::vector<std::thread> starters;
  for (int t = 0; t < options_.starters; ++t) {
    starters.emplace_back([&] {
      for (int i = next++; i < options_.jobs; i = next++) {
        auto due = begin + std::chrono::duration_cast<SteadyClock::duration>(
                               std::chrono::duration<double>(options_.ramp * i / options_.jobs));
        std::this_thread::sleep_until(due);
        try {
          start_job(*jobs_[i]);
        } catch (const std::exception& e) {
          std::lock_guard lock(failure_mutex_);
          if (start_failure_.empty()) start_failure_ = e.what();
          jobs_[i]->failed = true;
        }
      }
    });
  }
  for (auto& thread : starters) thread.join();
}

MetricRow job_line(std::int64_t step) {
  MetricRow row;
  row.step = step;
  for (int c = 0; c < kColumns; ++c) {
    row.values.emplace_back("m" + std::to_string(c), MetricValue{1.0 / (step + c + 1)});
  }
  return row;
}

// One line per job every interval, from the job's start until its run time is over; a
// heartbeat every `heartbeat` seconds, as the wrapper's timer would post it.
void Swarm::generate(SteadyClock::time_point begin) {
  using Due = std::pair<SteadyClock::time_point, int>;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due;
  auto seconds = [](double s) {
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
  };
  for (int i = 0; i < options_.jobs; ++i) {
    due.emplace(begin + seconds(options_.ramp * i / options_.jobs + options_.interval), i);
  }
  const auto lines_per_heartbeat =
      std::max<std::int64_t>(1, std::llround(options_.heartbeat / options_.interval));
  const auto lines_per_job =
      std::max<std::int64_t>(1, std::llround(options_.seconds / options_.interval));
  auto next_report = begin + std::chrono::seconds(10);
  while (!due.empty()) {
    auto [when, index] = due.top();
    due.pop();
    std::this_thread::sleep_until(when);
    Job& job = *jobs_[index];
    if (job.failed) continue;
    if (!job.started) {  // its start is slower than the ramp: the line waits for it
      due.emplace(SteadyClock::now() + std::chrono::milliseconds(10), index);
      continue;
    }
    job.latency.handed();
    job.sink->add(job_line(job.step));
    ++job.step;
    ++job.rows_sent;
    if (job.step % lines_per_heartbeat == 0) job.sink->heartbeat();
    if (job.step < lines_per_job) due.emplace(when + seconds(options_.interval), index);
    if (SteadyClock::now() >= next_report) {
      next_report += std::chrono::seconds(10);
      std::cout
          << "swarm: "
          << std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - begin).count()
          << " s, lines handed over so far: " << sent() << std::endl;
    }
  }
}

// Every job ends with its final status, each on a thread of its own as wrappers end on their
// own: a job still waiting for the database must not hold up another's end (whose connection,
// closed then, is the one the waiting job may get).
void Swarm::finish_all() {
  std::vector<std::thread> finishers;
  finishers.reserve(jobs_.size());
  for (auto& job : jobs_) {
    finishers.emplace_back([&job = *job] {
      if (job.sink) job.all_stored = job.sink->finish();
    });
  }
  for (auto& thread : finishers) thread.join();
}

std::uint64_t Swarm::sent() const {
  std::uint64_t total = 0;
  for (const auto& job : jobs_) total += job->rows_sent;
  return total;
}

// Counted in the database, not taken from the writers' word.
std::int64_t Swarm::rows_stored() {
  auto db = open_for_reading(settings_);
  std::vector<db::Value> params{experiment_};
  auto count = db->query(
                     "select count(*) from metrics m join runs r on r.id = m.run_id "
                     "join experiments e on e.id = r.experiment_id where e.name = $1",
                     params)
                   .scalar();
  return count ? std::stoll(*count) : 0;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto at = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, at == 0 ? 0 : at - 1)];
}

// The server's WAL position and CPU time, on a connection of its own that is closed again (so
// it is not counted among the jobs' connections). Only a server this process can see has
// CPU time; a SQLite database has neither.
struct ServerSnapshot {
  std::optional<double> wal;
  std::optional<double> cpu;
  bool postgres = false;
};

ServerSnapshot server_snapshot(const Settings& settings) {
  ServerProbe probe = open_probe(settings);
  if (!probe.db) return {};
  std::optional<double> wal;
  if (auto bytes = probe.wal_bytes()) wal = static_cast<double>(*bytes);
  return {wal, postgres_cpu_seconds(), true};
}

nlohmann::ordered_json per_row(std::optional<double> before, std::optional<double> after,
                               double scale, std::int64_t stored) {
  if (!before || !after || stored <= 0) return nlohmann::ordered_json();
  return (*after - *before) * scale / static_cast<double>(stored);
}

nlohmann::ordered_json Swarm::run() {
  const ServerSnapshot before = server_snapshot(settings_);
  std::atomic<bool> running = true;
  std::thread watch([&] {
    ServerProbe own = open_probe(settings_);
    while (running) {
      if (auto n = own.client_connections()) {
        connections_max_ = std::max<std::int64_t>(connections_max_, *n);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  auto begin = SteadyClock::now();
  std::thread starting([&] { start_all(begin); });
  generate(begin);
  starting.join();
  finish_all();
  double wall = std::chrono::duration<double>(SteadyClock::now() - begin).count();
  running = false;
  watch.join();
  if (!start_failure_.empty()) throw Error("a job could not start: " + start_failure_);
  auto stored = rows_stored();
  nlohmann::ordered_json result = summary(wall, stored);
  const ServerSnapshot after = server_snapshot(settings_);
  result["server_cpu_s_per_1k_rows"] = per_row(before.cpu, after.cpu, 1000, stored);
  result["wal_bytes_per_row"] = per_row(before.wal, after.wal, 1, stored);
  result["server_connections_max"] =
      before.postgres ? nlohmann::ordered_json(connections_max_.load()) : nlohmann::ordered_json();
  return result;
}

nlohmann::ordered_json Swarm::summary(double wall_seconds, std::int64_t stored) {
  std::vector<double> latencies;
  std::size_t journaled = 0;
  for (auto& job : jobs_) {
    auto own = job->latency.take();
    latencies.insert(latencies.end(), own.begin(), own.end());
    if (!job->all_stored) ++journaled;
  }
  std::sort(latencies.begin(), latencies.end());
  const auto total = static_cast<std::int64_t>(sent());
  nlohmann::ordered_json result = {{"jobs", options_.jobs},
                                   {"seconds", options_.seconds},
                                   {"rows_sent", total},
                                   {"rows_stored", stored},
                                   {"lost", total - stored},
                                   {"p50_ms", percentile(latencies, 0.50)},
                                   {"p99_ms", percentile(latencies, 0.99)},
                                   {"max_ms", latencies.empty() ? 0.0 : latencies.back()},
                                   {"rows_per_s", stored / wall_seconds}};
  if (journaled > 0) result["jobs_left_in_journal"] = journaled;
  result["path"] = options_.plain_copy ? "plain-copy" : "wrapper";
  return result;
}

std::filesystem::path make_journal_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "sqltrack-swarm.XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw Error("cannot make a journal directory in " + pattern);
  return pattern;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    auto options = parse_options(argc, argv);
    if (!options) return 0;
    if (options->journal_dir.empty()) {
      options->journal_dir = make_journal_dir();
      options->own_journal_dir = true;
    }
    Environment env = current_environment();
    Settings settings = resolve_settings(options->connection, env);
    DatabaseIdentity target = configured_identity(settings, env);
    ensure_metric_columns(settings);
    std::cout << "swarm: " << options->jobs << " jobs for " << options->seconds
              << " s, a line every " << options->interval << " s, on "
              << db::engine_name(settings.engine) << " (journals in "
              << options->journal_dir.string() << ")" << std::endl;
    Swarm swarm(*options, settings, target);
    auto result = swarm.run();
    bool all_stored = !result.contains("jobs_left_in_journal");
    if (options->own_journal_dir && all_stored) std::filesystem::remove_all(options->journal_dir);
    std::cout << result.dump() << std::endl;
    if (options->check && result["lost"].get<std::int64_t>() != 0) {
      std::cerr << "swarm: " << result["lost"] << " of " << result["rows_sent"]
                << " lines sent are not in the database\n";
      return 1;
    }
    return 0;
  } catch (const UsageError& e) {
    std::cerr << "swarm: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const po::error& e) {
    std::cerr << "swarm: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "swarm: " << e.what() << '\n';
    return 1;
  }
}
