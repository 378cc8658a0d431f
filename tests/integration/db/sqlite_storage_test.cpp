// A SQLite file that stops taking writes while a run writes to it: its disk fills up, it is
// deleted, it is read-only. Real wrappers on real files; the full disk is a small tmpfs the
// test mounts (the suite runs as root, as scripts/test.sh does).
#include <gtest/gtest.h>

#include <pwd.h>
#include <unistd.h>

#include <fstream>

#include "sqltrack/config/config.hpp"
#include "sqltrack/connect/connect.hpp"
#include "sqltrack/journal/journal.hpp"
#include "sqltrack/journal/journal_replay.hpp"
#include "sqltrack/metrics/sql/metric_columns.hpp"
#include "sqltrack/metrics/sql/metric_upsert.hpp"
#include "sqltrack/schema/schema.hpp"
#include "sqltrack/store/store.hpp"
#include "sqltrack/util/error.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::BackgroundProcess;
using test::CommandOptions;
using test::CommandResult;
using test::run_command;
using test::TempDir;

// A tmpfs of a given size mounted for one test; unmounted when the test ends, passed or
// failed (lazily: a file a killed process left open does not keep it).
class TmpfsMount {
 public:
  TmpfsMount(std::filesystem::path dir, const std::string& size) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    CommandResult mounted =
        run_command({"mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir_.string()});
    if (mounted.exit_code != 0) {
      throw std::runtime_error(
          "cannot mount a tmpfs at " + dir_.string() +
          " (this test needs root, as scripts/test.sh runs it): " + mounted.err);
    }
  }
  ~TmpfsMount() { run_command({"umount", "-l", dir_.string()}); }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  // Frees space the way an administrator would: a bigger file system, same files.
  void grow(const std::string& size) {
    CommandResult grown =
        run_command({"mount", "-o", "remount,size=" + size, "tmpfs", dir_.string()});
    ASSERT_EQ(grown.exit_code, 0) << grown.err;
  }

 private:
  std::filesystem::path dir_;
};

// Takes what space is left on the file system that holds `dir`.
void fill(const std::filesystem::path& dir) {
  std::ofstream filler(dir / "filler", std::ios::binary);
  const std::string block(4096, 'x');
  while (filler.write(block.data(), static_cast<std::streamsize>(block.size())) && filler.flush()) {
  }
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

class SqliteStorage : public ::testing::Test {
 protected:
  std::filesystem::path journal_dir() const { return work_ / "journals"; }

  CommandOptions options(const std::filesystem::path& database, const std::string& sync_timeout,
                         const std::filesystem::path& journals) const {
    CommandOptions o;
    o.cwd = work_.path();
    o.env["SQLTRACK_DSN_PATH"] = database.string();
    o.env["SQLTRACK_DSN_JOURNAL_DIR"] = journals.string();
    o.env["SQLTRACK_DSN_SYNC_TIMEOUT"] = sync_timeout;
    return o;
  }

  std::unique_ptr<db::Database> open(const std::filesystem::path& database) const {
    return open_database(
        resolve_settings({}, {{"SQLTRACK_DSN_PATH", database.string()}}, work_.path()));
  }

  std::string scalar(const std::filesystem::path& database, const std::string& sql) const {
    return open(database)->query(sql, {}).scalar().value_or("<NULL>");
  }

  CommandResult sync(const std::filesystem::path& database,
                     const std::filesystem::path& journals) const {
    return run_command({SQLTRACK_BIN, "sync", journals.string()}, options(database, "0", journals));
  }

  std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) const {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      files.push_back(entry.path());
    }
    return files;
  }

  TempDir work_;
};

TEST_F(SqliteStorage, FullDiskJournalsRowsAndTheStatusForSync) {
  TmpfsMount disk(work_ / "disk", "1m");
  const auto database = work_ / "disk" / "sqltrack.db";
  CommandResult run =
      run_command({SQLTRACK_RUN_BIN, "--add-columns", "--", METRIC_LINES_BIN, "fifo", "50000"},
                  options(database, "0", journal_dir()));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(count_of(run.err, "disk is full"), 1u) << run.err;
  EXPECT_NE(run.err.find("journaled in " + journal_dir().string()), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("rejected"), std::string::npos) << run.err.substr(0, 2000);
  EXPECT_EQ(run.err.find("cannot record a status change"), std::string::npos) << run.err;
  ASSERT_EQ(list_journals(journal_dir()).size(), 1u) << run.err;

  disk.grow("64m");
  CommandResult synced = sync(database, journal_dir());
  ASSERT_EQ(synced.exit_code, 0) << synced.out << synced.err;
  EXPECT_EQ(scalar(database, "SELECT count(*) FROM metrics"), "50000");
  EXPECT_EQ(scalar(database, "SELECT sum(a) FROM metrics"), "1249975000.0");
  EXPECT_EQ(scalar(database, "SELECT status || ' ' || exit_code FROM runs"), "COMPLETED 0");
  EXPECT_TRUE(list_journals(journal_dir()).empty());
}

// The journal and the reject file on the full disk too: nothing can keep the rows, and the
// wrapper says they are lost rather than kept; no empty journal is left to trouble `sync`.
TEST_F(SqliteStorage, FullDiskWithNowhereToKeepRowsSaysTheyAreLost) {
  TmpfsMount disk(work_ / "disk", "1m");
  const auto database = work_ / "disk" / "sqltrack.db";
  const auto journals = work_ / "disk" / "journals";
  CommandResult run =
      run_command({SQLTRACK_RUN_BIN, "--add-columns", "--", METRIC_LINES_BIN, "fifo", "50000"},
                  options(database, "0", journals));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("could not be written"), std::string::npos) << run.err.substr(0, 3000);
  EXPECT_NE(run.err.find("they are lost"), std::string::npos) << run.err.substr(0, 3000);
  for (const auto& file : files_in(journals)) {
    EXPECT_GT(std::filesystem::file_size(file), 0u) << file << " left empty";
  }
  disk.grow("64m");
  CommandResult synced = sync(database, journals);
  EXPECT_EQ(synced.exit_code, 0) << synced.out << synced.err;
}

TEST_F(SqliteStorage, FullDiskIsNotARowProblem) {
  TmpfsMount disk(work_ / "disk", "1m");
  const auto database = work_ / "disk" / "sqltrack.db";
  auto db = open(database);
  ensure_schema(*db, std::nullopt);
  RunStart start;
  start.experiment = "full";
  const std::int64_t run_id = RunStore(*db).start_run(start).run_id;
  db->execute("ALTER TABLE metrics ADD COLUMN note TEXT");
  fill(work_ / "disk");
  std::vector<MetricRow> rows;
  for (int i = 0; i < 2000; ++i) {
    rows.push_back(MetricRow{i, 0.0, {{"note", std::string(200, 'n')}}});
  }
  const MetricColumns columns = MetricColumns::load(*db);
  try {
    auto refused = upsert_metric_rows(*db, run_id, rows, columns);
    FAIL() << "expected the full disk to stop the batch, got " << refused.size()
           << " rows refused one by one"
           << (refused.empty() ? "" : ", the first for: " + refused.front().reason);
  } catch (const DatabaseError& e) {
    EXPECT_TRUE(e.retryable()) << e.what();
    EXPECT_NE(e.kind(), DatabaseError::Kind::query) << e.what();
  }
}

// A journal is only there with its header: one the disk has no room for leaves no empty file,
// which `sqltrack sync` could not place.
TEST_F(SqliteStorage, JournalThatCannotTakeItsHeaderLeavesNoFile) {
  TmpfsMount disk(work_ / "disk", "64k");
  const auto journals = work_ / "disk" / "journals";
  std::filesystem::create_directories(journals);
  fill(work_ / "disk");
  JournalHeader header;
  header.client_id = new_client_id();
  header.start = RunStart{};
  header.start->experiment = "full";
  try {
    JournalWriter writer(journal_path(journals, header.client_id), header);
    FAIL() << "expected the journal's header not to fit on the full disk";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("No space left"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(files_in(journals).empty()) << files_in(journals).front();
}

TEST_F(SqliteStorage, DeletedDatabaseFileIsNoticedAndTheRunJournaled) {
  const auto database = work_ / "sqltrack.db";
  const std::string job =
      "echo 'step=1 a=1' > $SQLTRACK_METRICS; until [ -e go ]; do sleep 0.05; done; "
      "echo 'step=2 a=2' > $SQLTRACK_METRICS; echo 'step=3 a=3' > $SQLTRACK_METRICS";
  BackgroundProcess run({SQLTRACK_RUN_BIN, "--add-columns", "--", "bash", "-c", job},
                        options(database, "0", journal_dir()));
  ASSERT_TRUE(test::wait_until([&] {
    try {
      return scalar(database, "SELECT count(*) FROM metrics") == "1";
    } catch (const std::exception&) {
      return false;
    }
  })) << run.err();
  open(database)->execute("VACUUM INTO '" + (work_ / "backup.db").string() + "'");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(database.string() + suffix);
  }
  test::write_file(work_ / "go", "");
  ASSERT_EQ(run.wait(), 0) << run.err();
  EXPECT_EQ(count_of(run.err(), "sqltrack-run: warning:"), 1u) << run.err();
  EXPECT_NE(run.err().find("removed or replaced"), std::string::npos) << run.err();
  ASSERT_EQ(list_journals(journal_dir()).size(), 1u) << run.err();

  // The file back from its backup: `sqltrack sync` stores what the run wrote after it went.
  std::filesystem::rename(work_ / "backup.db", database);
  CommandResult synced = sync(database, journal_dir());
  ASSERT_EQ(synced.exit_code, 0) << synced.out << synced.err;
  EXPECT_EQ(scalar(database,
                   "SELECT group_concat(step || ':' || a) FROM "
                   "(SELECT step, a FROM metrics ORDER BY step)"),
            "1:1.0,2:2.0,3:3.0");
  EXPECT_EQ(scalar(database, "SELECT status FROM runs"), "COMPLETED");
}

TEST_F(SqliteStorage, ReadOnlyDatabaseIsNotRetried) {
  ASSERT_EQ(::geteuid(), 0u) << "this test runs the wrapper as user nobody (scripts/test.sh "
                                "runs the suite as root)";
  const auto database = work_ / "sqltrack.db";
  ASSERT_EQ(run_command({SQLTRACK_BIN, "setup"}, options(database, "0", journal_dir())).exit_code,
            0);
  std::filesystem::permissions(work_.path(), std::filesystem::perms::all);
  // The user's own database, which they may only read (another user's is refused before
  // SQLite is asked); sync_timeout 600: a retried failure would outlast the wait below.
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string file = database.string() + suffix;
    if (std::filesystem::exists(file)) {
      ASSERT_EQ(::chown(file.c_str(), nobody->pw_uid, nobody->pw_gid), 0) << file;
    }
  }
  std::filesystem::permissions(database, std::filesystem::perms::owner_read |
                                             std::filesystem::perms::group_read |
                                             std::filesystem::perms::others_read);
  CommandOptions o = options(database, "600", work_ / "nobody-journals");
  BackgroundProcess run(
      {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", SQLTRACK_RUN_BIN,
       "--add-columns", "--", "bash", "-c", "echo 'step=1 a=1' > $SQLTRACK_METRICS; exit 4"},
      o);
  ASSERT_EQ(run.wait(std::chrono::seconds(60)), 4) << run.err();
  EXPECT_NE(run.err().find("readonly database"), std::string::npos) << run.err();
  EXPECT_NE(run.err().find("not retried"), std::string::npos) << run.err();
  EXPECT_EQ(list_journals(work_ / "nobody-journals").size(), 1u) << run.err();
}

TEST_F(SqliteStorage, EmptyJournalIsRemovedBySyncNotAFailure) {
  const auto database = work_ / "sqltrack.db";
  ensure_schema(*open(database));  // sync stores only into a database that exists
  std::filesystem::create_directories(journal_dir());
  test::write_file(journal_path(journal_dir(), new_client_id()), "");
  CommandResult synced = sync(database, journal_dir());
  EXPECT_EQ(synced.exit_code, 0) << synced.out << synced.err;
  EXPECT_TRUE(list_journals(journal_dir()).empty()) << synced.out;
}

}  // namespace
}  // namespace sqltrack
