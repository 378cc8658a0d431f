// The writer thread of sqltrack-run on its own, against a real SQLite file (or a PostgreSQL
// port where no server listens): how it wakes for rows and how it stops.
#include "sqltrack/wrapper/run_writer.hpp"
#include "sqltrack/connect/connect.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include "sqltrack/config/config.hpp"
#include "sqltrack/db/postgres_database.hpp"
#include "sqltrack/schema/schema.hpp"
#include "sqltrack/store/store.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::TempDir;

std::string origin_name(LineOrigin origin) {
  return "line " + std::to_string(origin.line);
}

PendingMetricRow row_of_step(std::int64_t step) {
  PendingMetricRow row;
  row.origin = {0, static_cast<std::uint64_t>(step) + 1};
  row.row.step = step;
  row.row.values = {{"n", step}};
  return row;
}

// Runs `body` in a child process, so that a deadlock there cannot hang the test: its exit
// status, or -1 when it has not ended within `timeout` (it is killed then).
int run_in_child(const std::function<int()>& body, std::chrono::seconds timeout) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int code = 3;
    try {
      code = body();
    } catch (const std::exception& e) {
      std::cerr << "exception: " << e.what() << '\n';
    }
    std::cerr.flush();
    ::_exit(code);
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(RunWriter, EachRowAddedWakesTheWriterWithoutWaitingForTheFlushInterval) {
  TempDir dir;
  Settings settings =
      resolve_settings({}, {{"SQLTRACK_DSN_PATH", (dir / "sqltrack.db").string()}}, dir.path());
  ConnectDatabase connect = [&] {
    auto db = open_database(settings);
    ensure_schema(*db, std::nullopt);
    return db;
  };
  auto db = connect();
  db->execute("ALTER TABLE metrics ADD COLUMN n INTEGER");
  RunStart start;
  start.experiment = "wakeup";
  JournalHeader header;
  header.client_id = new_client_id();
  header.run_id = RunStore(*db).start_run(start).run_id;
  MetricWriteOptions options;
  options.batch_rows = 1;  // every row is a batch: each add() wakes the writer
  options.flush_interval = std::chrono::hours(1);
  options.journal_path = dir / "run.journal";
  RejectLog rejects({dir / "rejects"});
  RunWriter writer(connect, std::move(db), header, options, rejects, origin_name);
  writer.start();
  // The next row comes the moment the last is written, while the writer heads back to its
  // wait, a little later each time (the spin below) to cover the way there: a wakeup it
  // misses leaves the row for the flush interval, an hour.
  std::atomic<std::uint64_t> spun = 0;
  for (std::int64_t step = 0; step < 5000; ++step) {
    for (std::int64_t spin = 0; spin < (step % 100) * 20; ++spin) ++spun;
    writer.add(row_of_step(step));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (writer.rows_written() < static_cast<std::uint64_t>(step + 1) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_EQ(writer.rows_written(), static_cast<std::uint64_t>(step + 1))
        << "row " << step << " was not written within 20 s: the writer missed its wakeup";
  }
  EXPECT_TRUE(writer.finish(std::nullopt).all_stored);
}

TEST(RunWriter, FinishFromTwoThreadsReturnsInBoth) {
  TempDir dir;
  int status = run_in_child(
      [&] {
        // A port with no server: the database is away, and the writer keeps trying for
        // final_retry after finish() is called.
        ConnectDatabase connect = [] {
          return db::open_postgres({{"host", "127.0.0.1"}, {"port", "1"}, {"dbname", "x"}});
        };
        JournalHeader header;
        header.client_id = new_client_id();
        header.start = RunStart{};
        header.start->experiment = "away";
        MetricWriteOptions options;
        options.final_retry = std::chrono::seconds(3);
        options.journal_path = dir / "run.journal";
        RejectLog rejects({dir / "rejects"});
        RunWriter writer(connect, nullptr, header, options, rejects, origin_name);
        writer.start();
        writer.add(row_of_step(1));
        RunWriterOutcome first;
        // Whichever comes second finds the thread still trying (for 3 s).
        std::thread other([&] {
          first = writer.finish(FinishEvent{RunStatus::COMPLETED, "", {}});
        });
        RunWriterOutcome second = writer.finish(std::nullopt);
        other.join();
        if (first.all_stored || second.all_stored || first.journal != second.journal) {
          std::cerr << "the two calls disagree on where the run is\n";
          return 1;
        }
        return 0;
      },
      std::chrono::seconds(60));
  EXPECT_EQ(status, 0) << (status == -1 ? "finish() from two threads did not return within 60 s"
                                        : "the child failed");
}

}  // namespace
}  // namespace sqltrack
