// Nothing lost when the database is away: a throwaway PostgreSQL server of the test's own is
// stopped and started around real wrappers, and what arrives is counted row by row.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <thread>

#include "sqltrack/config/config.hpp"
#include "sqltrack/connect/connect.hpp"
#include "sqltrack/journal/journal.hpp"
#include "sqltrack/journal/journal_replay.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::BackgroundProcess;
using test::CommandOptions;
using test::CommandResult;
using test::run_command;
using test::TempDir;

std::string env_value(const std::string& text, const std::string& name) {
  auto at = text.find(name + "=");
  if (at == std::string::npos) return {};
  at += name.size() + 1;
  return text.substr(at, text.find_first_of(" \n", at) - at);
}

// Whether a listener could not bind this loopback port now (a server, or a client's own end
// of a connection, holds it).
bool port_in_use(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool taken = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0;
  ::close(fd);
  return taken;
}

// A free TCP port on loopback, picked from a range that depends on this process, so parallel
// test processes do not reach for the same one. The ranges lie below the kernel's ephemeral
// ports (32768 and up): a client's connection could take one of those between this check and
// the server's bind.
std::string free_port(int base) {
  static int next = 0;
  int port = base + (::getpid() % 4000) * 2 + next++;
  while (port_in_use(port)) ++port;
  return std::to_string(port);
}

// A PostgreSQL server of one test's own, which the test may stop and start.
class ThrowawayPostgres {
 public:
  explicit ThrowawayPostgres(int max_connections = 100) : max_connections_(max_connections) {
    // A port of this process's own: tests running in parallel stop and restart their servers,
    // and a port freed by one must not be taken by another's server meanwhile.
    port_ = free_port(20000);
    CommandResult started = start_script({{"SQLTRACK_TEST_PGPORT", port_}});
    if (started.exit_code != 0) {
      throw std::runtime_error("start-postgres.sh failed: " + started.err);
    }
    bindir_ = env_value(started.out, "SQLTRACK_PG_BINDIR");
  }
  ~ThrowawayPostgres() {
    run_command({"bash", SQLTRACK_SOURCE_DIR "/scripts/stop-postgres.sh", dir_.path().string()});
  }
  ThrowawayPostgres(const ThrowawayPostgres&) = delete;
  ThrowawayPostgres& operator=(const ThrowawayPostgres&) = delete;

  // mode: fast (clients are disconnected, transactions rolled back) or immediate (a crash).
  void stop(const std::string& mode) {
    std::vector<std::string> argv{
        bindir_ + "/pg_ctl", "-D", (dir_ / "data").string(), "-m", mode, "-w", "stop"};
    if (::geteuid() == 0) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
    CommandResult stopped = run_command(argv);
    ASSERT_EQ(stopped.exit_code, 0) << "pg_ctl stop -m " << mode << ": " << stopped.err;
  }

  void start() {
    CommandResult started = start_script({{"SQLTRACK_TEST_PGPORT", port_}});
    ASSERT_EQ(started.exit_code, 0) << "start-postgres.sh: " << started.err;
  }

  const std::string& port() const noexcept { return port_; }
  std::string socket_dir() const { return (dir_ / "socket").string(); }

  std::vector<std::string> flags(const std::string& user = "postgres") const {
    return {"-a", "127.0.0.1:" + port_, "-u", user, "-d", "postgres"};
  }

  std::unique_ptr<db::Database> connect() const {
    CommandLineSettings settings;
    settings.host = "127.0.0.1:" + port_;
    settings.user = "postgres";
    settings.database = "postgres";
    return open_database(resolve_settings(settings, {}, dir_.path()));
  }

  std::string scalar(const std::string& sql) const {
    return connect()->query(sql, {}).scalar().value_or("<NULL>");
  }

 private:
  CommandResult start_script(std::map<std::string, std::optional<std::string>> env) {
    CommandOptions options;
    options.env = std::move(env);
    options.env["SQLTRACK_TEST_PG_MAX_CONNECTIONS"] = std::to_string(max_connections_);
    options.env["SQLTRACK_TEST_PG_FSYNC"] = "off";
    return run_command(
        {"bash", SQLTRACK_SOURCE_DIR "/scripts/start-postgres.sh", dir_.path().string()}, options);
  }

  int max_connections_;
  TempDir dir_;
  std::string port_;
  std::string bindir_;
};

// Figures for the record (not asserted: the machine is shared and timings are noisy).
void report(const std::string& what, std::chrono::steady_clock::time_point since) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  since)
                .count();
  std::cout << "[ figures  ] " << what << ": " << ms << " ms\n";
}

class Resilience : public ::testing::Test {
 protected:
  std::filesystem::path journal_dir() const { return work_ / "journals"; }

  CommandOptions options(const std::string& sync_timeout) const {
    CommandOptions o;
    o.cwd = work_.path();
    o.env["SQLTRACK_DSN_JOURNAL_DIR"] = journal_dir().string();
    o.env["SQLTRACK_DSN_SYNC_TIMEOUT"] = sync_timeout;
    return o;
  }

  std::vector<std::string> wrapper(const std::vector<std::string>& command,
                                   const std::vector<std::string>& flags = {
                                       "--add-columns"}) const {
    std::vector<std::string> argv{SQLTRACK_RUN_BIN};
    for (const auto& f : pg_.flags()) argv.push_back(f);
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }

  CommandResult sync() const {
    std::vector<std::string> argv{SQLTRACK_BIN, "sync", journal_dir().string()};
    for (const auto& f : pg_.flags()) argv.push_back(f);
    return run_command(argv, options("0"));
  }

  std::size_t journal_count() const { return list_journals(journal_dir()).size(); }

  // Rows of the one journal so far.
  std::size_t journaled_rows() const {
    auto journals = list_journals(journal_dir());
    if (journals.empty()) return 0;
    std::size_t rows = 0;
    for (const auto& record : read_journal(journals.front()).records) {
      if (auto* metrics = std::get_if<MetricRecord>(&record)) rows += metrics->rows.size();
    }
    return rows;
  }

  // Expects exactly the rows step = a = 0..count-1 of metric_lines, each once.
  void expect_metric_rows(long count) const {
    EXPECT_EQ(pg_.scalar("SELECT count(*) FROM metrics"), std::to_string(count));
    EXPECT_EQ(pg_.scalar("SELECT count(DISTINCT step) FROM metrics"), std::to_string(count));
    EXPECT_EQ(pg_.scalar("SELECT sum(a) FROM metrics"), std::to_string(count * (count - 1) / 2));
    EXPECT_EQ(pg_.scalar("SELECT count(*) FROM metrics WHERE a <> step OR b <> a / 2.0 OR "
                         "tag <> 's' || step"),
              "0");
  }

  ThrowawayPostgres pg_;
  TempDir work_;
};

TEST_F(Resilience, DatabaseDownAtStartIsStoredBySync) {
  pg_.stop("fast");
  CommandResult run =
      run_command(wrapper({METRIC_LINES_BIN, "fifo", "50000"}, {"--add-columns", "-e", "outage"}),
                  options("0"));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("journaled in " + journal_dir().string()), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("`sqltrack sync` stores it"), std::string::npos) << run.err;
  ASSERT_EQ(journal_count(), 1u);
  EXPECT_EQ(journaled_rows(), 50000u);

  pg_.start();
  auto back = std::chrono::steady_clock::now();
  CommandResult synced = sync();
  report("sqltrack sync of 50000 journaled rows", back);
  ASSERT_EQ(synced.exit_code, 0) << synced.out << synced.err;
  EXPECT_NE(synced.out.find("50000 metric rows"), std::string::npos) << synced.out;
  EXPECT_NE(synced.out.find("1 journal stored"), std::string::npos) << synced.out;
  EXPECT_EQ(pg_.scalar("SELECT count(*) FROM runs"), "1");
  EXPECT_EQ(pg_.scalar("SELECT status || ' ' || exit_code FROM runs"), "COMPLETED 0");
  EXPECT_EQ(pg_.scalar("SELECT name FROM experiments e JOIN runs r ON r.experiment_id = e.id"),
            "outage");
  EXPECT_EQ(pg_.scalar("SELECT string_agg(status || ':' || detail, ', ' ORDER BY time, id) "
                       "FROM run_status_history"),
            "RUNNING:started, COMPLETED:exited with code 0");
  EXPECT_NE(pg_.scalar("SELECT client_id FROM runs"), "<NULL>");
  expect_metric_rows(50000);
  EXPECT_EQ(journal_count(), 0u) << "a stored journal is removed";

  CommandResult again = sync();
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("nothing to do"), std::string::npos) << again.out;
}

TEST_F(Resilience, DatabaseBackDuringTheRunIsCaughtUpByTheWrapper) {
  pg_.stop("fast");
  const std::string job = std::string(METRIC_LINES_BIN) + " fifo 20000 && sleep 2";
  BackgroundProcess run(wrapper({"bash", "-c", job}), options("60"));
  ASSERT_TRUE(test::wait_until([&] { return journaled_rows() == 20000; }))
      << "journaled rows: " << journaled_rows();
  pg_.start();
  auto back = std::chrono::steady_clock::now();
  test::wait_until([&] { return journal_count() == 0; }, std::chrono::seconds(60));
  report("20000 journaled rows and the run stored after the database returned", back);
  ASSERT_EQ(run.wait(std::chrono::seconds(90)), 0) << run.err();
  EXPECT_NE(run.err().find("the database answers"), std::string::npos) << run.err();
  EXPECT_EQ(pg_.scalar("SELECT status FROM runs"), "COMPLETED");
  expect_metric_rows(20000);
  EXPECT_EQ(journal_count(), 0u) << "everything stored: no journal left";
}

// A crash (not a shutdown) between two rows: the row written while the server is down goes to
// the journal and is stored when it is back, never to the reject file. Over TCP and over the
// Unix socket (where libpq reports the closed connection before it marks it bad).
class ServerCrash : public Resilience, public ::testing::WithParamInterface<std::string> {};

TEST_P(ServerCrash, RowWrittenWhileTheServerIsDownIsJournaledAndStored) {
  const std::string job =
      "echo 'step=1 a=1' > $SQLTRACK_METRICS; until [ -e go2 ]; do sleep 0.05; done; "
      "echo 'step=2 a=2' > $SQLTRACK_METRICS; until [ -e go3 ]; do sleep 0.05; done; "
      "echo 'step=3 a=3' > $SQLTRACK_METRICS";
  std::vector<std::string> argv{SQLTRACK_RUN_BIN, "-u", "postgres", "-d", "postgres"};
  CommandOptions o = options("60");
  if (GetParam() == "socket") {
    argv.insert(argv.end(), {"-a", pg_.socket_dir()});
    o.env["SQLTRACK_DSN_PORT"] = pg_.port();
  } else {
    argv.insert(argv.end(), {"-a", "127.0.0.1:" + pg_.port()});
  }
  argv.insert(argv.end(), {"--add-columns", "--", "bash", "-c", job});
  BackgroundProcess run(argv, o);
  ASSERT_TRUE(test::wait_until([&] {
    try {
      return pg_.scalar("SELECT count(*) FROM metrics") == "1";
    } catch (const std::exception&) {
      return false;
    }
  })) << run.err();
  pg_.stop("immediate");
  test::write_file(work_ / "go2", "");
  // Journaled (as it should be) or rejected (the row lost): the wrapper says which.
  ASSERT_TRUE(test::wait_until([&] {
    return run.err().find("cannot write to the database now") != std::string::npos ||
           run.err().find("rejected") != std::string::npos;
  })) << run.err();
  pg_.start();
  test::write_file(work_ / "go3", "");
  ASSERT_EQ(run.wait(std::chrono::seconds(90)), 0) << run.err();
  EXPECT_EQ(run.err().find("rejected"), std::string::npos) << run.err();
  EXPECT_EQ(run.err().find("not stored"), std::string::npos) << run.err();
  EXPECT_EQ(pg_.scalar("SELECT string_agg(step || ':' || a, ',' ORDER BY step) FROM metrics"),
            "1:1,2:2,3:3")
      << run.err();
  EXPECT_EQ(pg_.scalar("SELECT status FROM runs"), "COMPLETED") << run.err();
  EXPECT_EQ(journal_count(), 0u) << run.err();
}

INSTANTIATE_TEST_SUITE_P(Transports, ServerCrash, ::testing::Values("tcp", "socket"));

class RestartMidRun : public Resilience, public ::testing::WithParamInterface<std::string> {};

TEST_P(RestartMidRun, NoRowLostOrDuplicated) {
  // Three parts of 10 000 lines: before the outage, during it, after it. The job waits for the
  // test between the parts, so the outage really falls in the middle of the run.
  auto part = [](int from, const std::string& done, const std::string& go) {
    return "for ((i = " + std::to_string(from) + "; i < " + std::to_string(from + 10000) +
           "; i++)); do echo \"step=$i a=$i b=$((i / 2)).$((i % 2 * 5)) tag=\\\"s$i\\\"\"; "
           "done > $SQLTRACK_METRICS; touch " +
           done + "; while [ ! -e " + go + " ]; do sleep 0.05; done; ";
  };
  const std::string job =
      part(0, "part1", "down") + part(10000, "part2", "up") + part(20000, "part3", "part3");
  BackgroundProcess run(wrapper({"bash", "-c", job}), options("60"));
  auto exists = [&](const char* name) { return std::filesystem::exists(work_ / name); };
  auto stored = [&] {
    try {
      return std::stol(pg_.scalar("SELECT count(*) FROM metrics"));
    } catch (const std::exception&) {
      return -1L;
    }
  };
  ASSERT_TRUE(test::wait_until([&] { return exists("part1") && stored() == 10000; },
                               std::chrono::seconds(60)))
      << "the first part was not stored: " << stored() << " rows; " << run.err();
  pg_.stop(GetParam());
  test::write_file(work_ / "down", "");
  // The second part reaches the wrapper while the server is down: it must be journaled.
  ASSERT_TRUE(test::wait_until([&] { return exists("part2") && journaled_rows() == 10000; },
                               std::chrono::seconds(60)))
      << "expected the 10000 lines written during the outage in the journal, found "
      << journaled_rows() << "; " << run.err();
  EXPECT_NE(run.err().find("cannot write to the database now"), std::string::npos) << run.err();
  pg_.start();
  auto back = std::chrono::steady_clock::now();
  test::write_file(work_ / "up", "");
  test::wait_until([&] { return run.err().find("answers again") != std::string::npos; },
                   std::chrono::seconds(60));
  report("caught up after the database returned (" + GetParam() + ")", back);
  ASSERT_EQ(run.wait(std::chrono::seconds(90)), 0) << run.err();
  EXPECT_NE(run.err().find("answers again"), std::string::npos) << run.err();
  EXPECT_EQ(run.err().find("rejected"), std::string::npos) << run.err();
  EXPECT_EQ(pg_.scalar("SELECT status FROM runs"), "COMPLETED") << run.err();
  expect_metric_rows(30000);
  EXPECT_EQ(journal_count(), 0u) << run.err();
}

INSTANTIATE_TEST_SUITE_P(ShutdownModes, RestartMidRun, ::testing::Values("fast", "immediate"));

TEST_F(Resilience, KilledWrapperLeavesAJournalThatSyncStores) {
  pg_.stop("fast");
  const std::string job = std::string(METRIC_LINES_BIN) + " fifo 5000 && sleep 60";
  BackgroundProcess run(wrapper({"bash", "-c", job}), options("60"));
  ASSERT_TRUE(test::wait_until([&] { return journaled_rows() == 5000; }))
      << "journaled rows: " << journaled_rows();
  run.signal(SIGKILL);
  EXPECT_EQ(run.wait(), 128 + SIGKILL);
  pg_.start();
  CommandResult synced = sync();
  ASSERT_EQ(synced.exit_code, 0) << synced.out << synced.err;
  // The wrapper never saw the end: the run stays RUNNING (slurm-sync or status --stale tell).
  EXPECT_EQ(pg_.scalar("SELECT status FROM runs"), "RUNNING");
  expect_metric_rows(5000);
}

TEST_F(Resilience, JournalOfALivingWrapperIsLeftAlone) {
  pg_.stop("fast");
  BackgroundProcess run(wrapper({"sleep", "60"}), options("0"));
  ASSERT_TRUE(test::wait_until([&] { return journal_count() == 1; }));
  pg_.start();
  CommandResult synced = sync();
  EXPECT_EQ(synced.exit_code, 0) << synced.out << synced.err;
  EXPECT_NE(synced.out.find("left alone: its wrapper is still running"), std::string::npos)
      << synced.out;
  run.signal(SIGTERM);
  run.wait();
}

TEST_F(Resilience, SyncTwiceStoresOnceAndSkipsACorruptRecord) {
  pg_.stop("fast");
  CommandResult run = run_command(wrapper({METRIC_LINES_BIN, "fifo", "3000"}), options("0"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto journals = list_journals(journal_dir());
  ASSERT_EQ(journals.size(), 1u);
  const std::string original = test::read_file(journals[0]);
  pg_.start();
  ASSERT_EQ(sync().exit_code, 0);
  const std::string history = pg_.scalar("SELECT count(*) FROM run_status_history");

  test::write_file(journals[0], original);  // the same journal once more
  CommandResult second = sync();
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(pg_.scalar("SELECT count(*) FROM runs"), "1");
  EXPECT_EQ(pg_.scalar("SELECT count(*) FROM run_status_history"), history);
  expect_metric_rows(3000);

  // A record damaged on disk: reported, the others stored.
  pg_.connect()->execute("DELETE FROM runs");
  std::string damaged = original;
  auto second_line = damaged.find('\n') + 1;
  damaged[second_line + 30] ^= 0x01;
  test::write_file(journals[0], damaged);
  CommandResult third = sync();
  EXPECT_EQ(third.exit_code, 0) << third.out << third.err;
  EXPECT_NE(third.out.find("line 2: checksum mismatch"), std::string::npos) << third.out;
  EXPECT_EQ(pg_.scalar("SELECT status FROM runs"), "COMPLETED");
}

// A SQLite database in a directory of its own, opened by its absolute path.
std::unique_ptr<db::Database> sqlite_in(const std::filesystem::path& dir) {
  return open_database(
      resolve_settings({}, {{"SQLTRACK_DSN_PATH", (dir / "sqltrack.db").string()}}, dir));
}

std::string sqlite_scalar(const std::filesystem::path& dir, const std::string& sql) {
  return sqlite_in(dir)->query(sql, {}).scalar().value_or("<NULL>");
}

TEST_F(Resilience, SyncStoresAJournalOnlyIntoTheDatabaseItBelongsTo) {
  // The run reaches PostgreSQL (run 1 there), which goes away before the command's rows come.
  const std::string job =
      "while [ ! -e go ]; do sleep 0.1; done; exec " + std::string(METRIC_LINES_BIN) + " fifo 100";
  BackgroundProcess run(wrapper({"bash", "-c", job}), options("0"));
  ASSERT_TRUE(test::wait_until([&] {
    try {
      return pg_.scalar("SELECT count(*) FROM runs") == "1";
    } catch (const std::exception&) {
      return false;
    }
  })) << run.err();
  pg_.stop("fast");
  test::write_file(work_ / "go", "");
  ASSERT_EQ(run.wait(), 0) << run.err();
  ASSERT_EQ(journal_count(), 1u) << run.err();

  // Another directory whose ./sqltrack.db has a run 1 of its own.
  TempDir elsewhere;
  CommandOptions local;
  local.cwd = elsewhere.path();
  local.env["SQLTRACK_DSN_JOURNAL_DIR"] = (elsewhere / "journals").string();
  CommandResult local_run = run_command(
      {SQLTRACK_RUN_BIN, "-e", "local", "--add-columns", "--", METRIC_LINES_BIN, "fifo", "10"},
      local);
  ASSERT_EQ(local_run.exit_code, 0) << local_run.err;
  const std::string sql =
      "SELECT count(*) || ' ' || sum(a) || ' ' || min(r.status) FROM metrics "
      "JOIN runs r ON r.id = run_id";
  const std::string local_rows = sqlite_scalar(elsewhere.path(), sql);
  ASSERT_EQ(local_rows, "10 45.0 COMPLETED");  // a column added from a number is REAL

  CommandResult wrong = run_command({SQLTRACK_BIN, "sync", journal_dir().string()}, local);
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out << wrong.err;
  EXPECT_NE(wrong.out.find("belongs to PostgreSQL"), std::string::npos) << wrong.out;
  EXPECT_NE(wrong.out.find("port=" + pg_.port()), std::string::npos) << wrong.out;
  EXPECT_EQ(sqlite_scalar(elsewhere.path(), sql), local_rows) << "the SQLite run was changed";
  EXPECT_EQ(sqlite_scalar(elsewhere.path(), "SELECT count(*) FROM runs"), "1");
  EXPECT_EQ(journal_count(), 1u) << "a journal not stored is kept";

  // A directory without a database: sync creates none.
  TempDir empty;
  local.cwd = empty.path();
  CommandResult nowhere = run_command({SQLTRACK_BIN, "sync", journal_dir().string()}, local);
  EXPECT_EQ(nowhere.exit_code, 1) << nowhere.out << nowhere.err;
  EXPECT_NE(nowhere.out.find("belongs to PostgreSQL"), std::string::npos) << nowhere.out;
  EXPECT_NE(nowhere.err.find("no database at"), std::string::npos) << nowhere.err;
  EXPECT_FALSE(std::filesystem::exists(empty / "sqltrack.db"));
  EXPECT_EQ(journal_count(), 1u);

  pg_.start();
  CommandResult right = sync();
  ASSERT_EQ(right.exit_code, 0) << right.out << right.err;
  EXPECT_NE(right.out.find("1 journal stored"), std::string::npos) << right.out;
  EXPECT_EQ(pg_.scalar("SELECT status FROM runs"), "COMPLETED");
  expect_metric_rows(100);
  EXPECT_EQ(journal_count(), 0u);
}

// A journal as the previous version wrote it: its header does not say which database it
// belongs to.
void write_unbound_journal(const std::filesystem::path& dir, const std::string& client_id,
                           std::int64_t run_id, std::int64_t step) {
  JournalHeader header;
  header.client_id = client_id;
  header.run_id = run_id;
  header.database = "SQLite sqltrack.db";
  nlohmann::json old_header = journal_header_to_json(header);
  old_header.erase("target");
  old_header["version"] = 1;
  MetricRecord rows;
  rows.rows.push_back({"SQLTRACK_METRICS line 1", "step=" + std::to_string(step) + " progress=0"});
  std::filesystem::create_directories(dir);
  test::write_file(journal_path(dir, client_id),
                   journal_line(old_header) + journal_line(journal_record_to_json(rows)));
}

TEST(SyncUnboundJournals, AreStoredOnlyWhenAskedAndOnlyIntoTheRunOfTheirClientId) {
  TempDir work;
  CommandOptions local;
  local.cwd = work.path();
  local.env["SQLTRACK_DSN_JOURNAL_DIR"] = (work / "journals").string();
  ASSERT_EQ(run_command({SQLTRACK_RUN_BIN, "-e", "local", "--", "true"}, local).exit_code, 0);
  const std::string client_id = sqlite_scalar(work.path(), "SELECT client_id FROM runs");
  // One journal of this run, one of a run of another database that also had the number 1.
  write_unbound_journal(work / "journals", client_id, 1, 7);
  write_unbound_journal(work / "journals", new_client_id(), 1, 5);

  CommandResult plain = run_command({SQLTRACK_BIN, "sync"}, local);
  EXPECT_EQ(plain.exit_code, 1) << plain.out << plain.err;
  EXPECT_NE(plain.out.find("--store-unidentified"), std::string::npos) << plain.out;
  EXPECT_EQ(sqlite_scalar(work.path(), "SELECT count(*) FROM metrics"), "0");
  EXPECT_EQ(list_journals(work / "journals").size(), 2u);

  CommandResult asked = run_command({SQLTRACK_BIN, "sync", "--store-unidentified"}, local);
  EXPECT_EQ(asked.exit_code, 1) << asked.out << asked.err;
  EXPECT_NE(asked.out.find("no run with client id"), std::string::npos) << asked.out;
  EXPECT_NE(asked.out.find("1 journal stored"), std::string::npos) << asked.out;
  EXPECT_EQ(sqlite_scalar(work.path(), "SELECT group_concat(step) FROM metrics"), "7");
  EXPECT_EQ(list_journals(work / "journals").size(), 1u);
}

TEST_F(Resilience, UnwritableJournalDirectoryWarnsAndTheCommandRuns) {
  pg_.stop("fast");
  test::write_file(work_ / "file", "");
  CommandOptions o = options("0");
  o.env["SQLTRACK_DSN_JOURNAL_DIR"] = (work_ / "file" / "journals").string();
  CommandResult run = run_command(
      wrapper({"bash", "-c", "echo out; echo 'step=1 a=1' > $SQLTRACK_METRICS; exit 3"}), o);
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_EQ(run.out, "out\n");
  EXPECT_NE(run.err.find("cannot create the journal directory"), std::string::npos) << run.err;
  // The row is not lost without a trace: it is in the reject file.
  EXPECT_NE(run.err.find("not stored"), std::string::npos) << run.err;
}

TEST_F(Resilience, WrongPasswordIsNotRetriedAndTheRunIsJournaled) {
  CommandOptions o = options("600");
  o.env["PGPASSWORD"] = "wrong";
  std::vector<std::string> argv{SQLTRACK_RUN_BIN};
  for (const auto& f : pg_.flags("secured")) argv.push_back(f);
  argv.insert(argv.end(), {"--", "true"});
  // With sync_timeout 600 a retried failure would outlast the test's own deadline.
  BackgroundProcess run(argv, o);
  ASSERT_EQ(run.wait(std::chrono::seconds(60)), 0) << run.err();
  EXPECT_NE(run.err().find("password authentication failed"), std::string::npos) << run.err();
  EXPECT_EQ(run.err().find("correct horse"), std::string::npos);
  EXPECT_EQ(journal_count(), 1u);
}

// A wrapper built with AddressSanitizer takes ~90 MB: 200 at once would need 18 GB. The
// sanitizer build keeps the ratio (10 wrappers per connection) with fewer of both.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kCrowd = 40;
constexpr int kCrowdConnections = 4;
#else
constexpr int kCrowd = 200;
constexpr int kCrowdConnections = 20;
#endif

TEST(ManyWrappers, TwoHundredWrappersShareTwentyConnections) {
  ThrowawayPostgres pg(kCrowdConnections);
  TempDir work;
  CommandOptions o;
  o.cwd = work.path();
  o.env["SQLTRACK_DSN_JOURNAL_DIR"] = (work / "journals").string();
  o.env["SQLTRACK_DSN_SYNC_TIMEOUT"] = "300";
  test::write_file(work / "columns.sql",
                   "ALTER TABLE metrics ADD COLUMN a BIGINT;\n"
                   "ALTER TABLE metrics ADD COLUMN b DOUBLE PRECISION;\n"
                   "ALTER TABLE metrics ADD COLUMN tag TEXT;\n");
  std::vector<std::string> setup{SQLTRACK_BIN, "setup", (work / "columns.sql").string()};
  for (const auto& f : pg.flags()) setup.push_back(f);
  ASSERT_EQ(run_command(setup, o).exit_code, 0);

  auto begin = std::chrono::steady_clock::now();
  // Every command waits until all have started, so all wrappers live at once: kCrowdConnections
  // hold the server's connections, the others meet "too many clients", journal and retry.
  const std::string job = "touch ready.$$; while [ ! -e go ]; do sleep 0.5; done; exec " +
                          std::string(METRIC_LINES_BIN) + " fifo 1000";
  std::vector<std::unique_ptr<BackgroundProcess>> runs;
  for (int i = 0; i < kCrowd; ++i) {
    std::vector<std::string> argv{SQLTRACK_RUN_BIN};
    for (const auto& f : pg.flags()) argv.push_back(f);
    argv.insert(argv.end(), {"-e", "crowd", "--", "bash", "-c", job});
    runs.push_back(std::make_unique<BackgroundProcess>(argv, o));
  }
  auto ready = [&] {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(work.path())) {
      if (entry.path().filename().string().starts_with("ready.")) ++count;
    }
    return count;
  };
  ASSERT_TRUE(test::wait_until([&] { return ready() == kCrowd; }, std::chrono::seconds(300)))
      << ready() << " of " << kCrowd << " commands started";
  report(std::to_string(kCrowd) + " wrappers started, each command waiting", begin);
  test::write_file(work / "go", "");
  int failed = 0;
  int journaled = 0;
  std::string first_error;
  for (auto& run : runs) {
    int code = run->wait(std::chrono::seconds(600));
    if (run->err().find("journaled in") != std::string::npos) ++journaled;
    if (code != 0) {
      ++failed;
      if (first_error.empty()) first_error = "exit " + std::to_string(code) + ": " + run->err();
    }
  }
  report(std::to_string(kCrowd) + " wrappers x 1000 rows against max_connections=" +
             std::to_string(kCrowdConnections) + ", all ended",
         begin);
  EXPECT_EQ(failed, 0) << first_error;
  EXPECT_GE(journaled, kCrowd - kCrowdConnections) << "wrappers that found no free connection";
  EXPECT_EQ(pg.scalar("SELECT count(*) FROM runs WHERE status = 'COMPLETED'"),
            std::to_string(kCrowd));
  EXPECT_EQ(pg.scalar("SELECT count(*) FROM metrics"), std::to_string(kCrowd * 1000));
  EXPECT_EQ(pg.scalar("SELECT count(*) FROM (SELECT run_id FROM metrics GROUP BY run_id "
                      "HAVING count(*) = 1000 AND sum(a) = 499500) AS complete"),
            std::to_string(kCrowd));
  EXPECT_TRUE(list_journals(work / "journals").empty());
  std::cout << "[ figures  ] wrappers that met a full server and journaled at first: " << journaled
            << " of " << kCrowd << "\n";
}

// PgBouncer in transaction pooling mode in front of a server: many clients, a few server
// connections. PgBouncer refuses to run as root; as root it runs as user postgres.
class PgBouncer {
 public:
  PgBouncer(const std::string& server_port, int pool_size) {
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::all);
    port_ = free_port(12000);
    test::write_file(dir_ / "userlist.txt", "\"postgres\" \"\"\n");
    test::write_file(dir_ / "pgbouncer.ini",
                     "[databases]\n"
                     "postgres = host=127.0.0.1 port=" +
                         server_port +
                         " dbname=postgres\n"
                         "[pgbouncer]\n"
                         "listen_addr = 127.0.0.1\n"
                         "listen_port = " +
                         port_ +
                         "\n"
                         "unix_socket_dir =\n"
                         "auth_type = trust\n"
                         "auth_file = " +
                         (dir_ / "userlist.txt").string() +
                         "\n"
                         "pool_mode = transaction\n"
                         "default_pool_size = " +
                         std::to_string(pool_size) +
                         "\n"
                         "max_client_conn = 1000\n"
                         "logfile = " +
                         (dir_ / "pgbouncer.log").string() +
                         "\n"
                         "pidfile = " +
                         (dir_ / "pgbouncer.pid").string() + "\n");
    std::vector<std::string> argv{"/usr/sbin/pgbouncer", "-d", (dir_ / "pgbouncer.ini").string()};
    if (::geteuid() == 0) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
    CommandResult started = run_command(argv);
    if (started.exit_code != 0) {
      throw std::runtime_error("pgbouncer did not start: " + started.err + started.out);
    }
    test::wait_until([&] { return port_in_use(std::stoi(port_)); });
  }
  ~PgBouncer() {
    std::string pid = test::read_file(dir_ / "pgbouncer.pid");
    if (!pid.empty()) ::kill(std::stoi(pid), SIGTERM);
  }
  PgBouncer(const PgBouncer&) = delete;
  PgBouncer& operator=(const PgBouncer&) = delete;

  std::vector<std::string> flags() const {
    return {"-a", "127.0.0.1:" + port_, "-u", "postgres", "-d", "postgres"};
  }
  std::string log() const { return test::read_file(dir_ / "pgbouncer.log"); }

 private:
  TempDir dir_;
  std::string port_;
};

TEST(PgBouncerTransactionPooling, TwentyWrappersThroughTwoServerConnections) {
  ThrowawayPostgres pg;
  PgBouncer bouncer(pg.port(), 2);
  TempDir work;
  CommandOptions o;
  o.cwd = work.path();
  o.env["SQLTRACK_DSN_JOURNAL_DIR"] = (work / "journals").string();
  constexpr int kWrappers = 20;
  std::vector<std::unique_ptr<BackgroundProcess>> runs;
  for (int i = 0; i < kWrappers; ++i) {
    std::vector<std::string> argv{SQLTRACK_RUN_BIN};
    for (const auto& f : bouncer.flags()) argv.push_back(f);
    argv.insert(argv.end(), {"--add-columns", "-e", "pooled", "--tag", "i=" + std::to_string(i),
                             "--", "bash", "-c", std::string(METRIC_LINES_BIN) + " fifo 2000"});
    runs.push_back(std::make_unique<BackgroundProcess>(argv, o));
  }
  for (auto& run : runs) {
    EXPECT_EQ(run->wait(std::chrono::seconds(120)), 0) << run->err();
    EXPECT_EQ(run->err().find("warning"), std::string::npos) << run->err();
  }
  EXPECT_EQ(pg.scalar("SELECT count(*) FROM runs WHERE status = 'COMPLETED'"),
            std::to_string(kWrappers));
  EXPECT_EQ(pg.scalar("SELECT count(*) FROM metrics"), std::to_string(kWrappers * 2000));
  EXPECT_EQ(pg.scalar("SELECT count(*) FROM run_status_history WHERE detail = 'started'"),
            std::to_string(kWrappers));
  EXPECT_EQ(pg.scalar("SELECT count(*) FROM experiments"), "1");
  // The wrappers' work went over the pool's two server connections.
  EXPECT_LE(std::stoi(pg.scalar("SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                                "'client backend' AND pid <> pg_backend_pid()")),
            2);
}

}  // namespace
}  // namespace sqltrack
