// The journal file: records written are read back the same; a torn or corrupted line is
// reported and skipped while the others are read; a living writer holds the lock.
#include "sqltrack/journal/journal.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "sqltrack/util/error.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::TempDir;

RunStart sample_start() {
  RunStart start;
  start.experiment = "resnet \"50\"";
  start.comment = "line one\nline two";
  start.tags = {{"lr", "0.1"}};
  start.args = nlohmann::json::array({"python", "train.py", "--seed=1"});
  start.env = {{"HOME", "/home/x"}, {"API_TOKEN", "[redacted]"}};
  start.hostname = "node01";
  start.username = "alice";
  start.pid = 4242;
  start.cwd = "/scratch/alice";
  start.heartbeat_seconds = 15;
  start.slurm_job_id = 12;
  start.slurm_array_task_id = 3;
  start.slurm_restart_count = 1;
  start.slurm_cluster = "c1";
  start.git = {{"commit", "0123456789abcdef0123456789abcdef01234567"},
               {"branch", "main"},
               {"remote", "https://example.com/lab/models.git"}};
  start.client_id = "2c5e7d0e-6a43-4c1b-9a35-3d2c3f3b7e10";
  start.time = Clock::time_point(std::chrono::microseconds(1'795'000'000'123'456));
  return start;
}

JournalHeader sample_header() {
  JournalHeader header;
  header.client_id = "2c5e7d0e-6a43-4c1b-9a35-3d2c3f3b7e10";
  header.start = sample_start();
  header.add_columns = true;
  header.database = "PostgreSQL host=db port=5432";
  return header;
}

void write_sample(const std::filesystem::path& path) {
  JournalWriter writer(path, sample_header());
  writer.append(RunEvent{HistoryEvent{RunStatus::RUNNING, "SIGUSR1 received", Clock::now()}});
  writer.append(MetricRecord{{{"SQLTRACK_METRICS line 1", "step=1 progress=0 loss=0.5"},
                              {"SQLTRACK_METRICS line 2", "step=2 progress=0 loss=0.25"}}});
  writer.append(RunEvent{HeartbeatEvent{}});
  FinishEvent finish{RunStatus::FAILED, "exit code 3", {}};
  finish.end.exit_code = 3;
  finish.end.wall_seconds = 1.5;
  finish.end.max_rss_kib = 2048;
  finish.end.rejected_lines = 5;
  writer.append(RunEvent{finish});
}

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void write_lines(const std::filesystem::path& path, const std::vector<std::string>& lines,
                 bool final_newline = true) {
  std::string text;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    text += lines[i];
    if (i + 1 < lines.size() || final_newline) text += '\n';
  }
  test::write_file(path, text);
}

TEST(Journal, AStartWrittenBeforeRunsGitExistedHasNone) {
  nlohmann::json object = run_start_to_json(sample_start());
  EXPECT_EQ(run_start_from_json(object).git, sample_start().git);
  object.erase("git");
  EXPECT_TRUE(run_start_from_json(object).git.is_null());
}

TEST(Journal, RecordsReadBackAsWritten) {
  TempDir dir;
  auto path = journal_path(dir / "journals", "abc");
  write_sample(path);
  JournalContents contents = read_journal(path);
  EXPECT_TRUE(contents.problems.empty()) << contents.problems.front();
  ASSERT_TRUE(contents.header.has_value());
  EXPECT_EQ(contents.header->client_id, "2c5e7d0e-6a43-4c1b-9a35-3d2c3f3b7e10");
  EXPECT_TRUE(contents.header->add_columns);
  EXPECT_FALSE(contents.header->run_id.has_value());
  ASSERT_TRUE(contents.header->start.has_value());
  EXPECT_EQ(run_start_to_json(*contents.header->start), run_start_to_json(sample_start()));
  ASSERT_EQ(contents.records.size(), 4u);
  const auto* history = std::get_if<HistoryEvent>(&std::get<RunEvent>(contents.records[0]));
  ASSERT_NE(history, nullptr);
  EXPECT_EQ(history->detail, "SIGUSR1 received");
  const auto& metrics = std::get<MetricRecord>(contents.records[1]);
  ASSERT_EQ(metrics.rows.size(), 2u);
  EXPECT_EQ(metrics.rows[1].origin, "SQLTRACK_METRICS line 2");
  EXPECT_EQ(metrics.rows[1].line, "step=2 progress=0 loss=0.25");
  const auto* finish = std::get_if<FinishEvent>(&std::get<RunEvent>(contents.records[3]));
  ASSERT_NE(finish, nullptr);
  EXPECT_EQ(finish->status, RunStatus::FAILED);
  EXPECT_EQ(finish->end.exit_code, 3);
  EXPECT_EQ(finish->end.max_rss_kib, 2048);
  EXPECT_EQ(finish->end.rejected_lines, 5);
}

TEST(Journal, AnEndWrittenBeforeRejectedLinesWereCountedReadsAsNone) {
  FinishEvent finish{RunStatus::COMPLETED, "exit 0", {}};
  finish.end.rejected_lines = 7;
  auto object = run_event_to_json(finish);
  object.erase("rejected_lines");
  const RunEvent event = run_event_from_json(object);
  const auto* read = std::get_if<FinishEvent>(&event);
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->end.rejected_lines, 0);
}

TEST(Journal, FileAndDirectoryAreTheUsersOnly) {
  TempDir dir;
  auto path = journal_path(dir / "journals", "abc");
  write_sample(path);
  using std::filesystem::perms;
  EXPECT_EQ(std::filesystem::status(path).permissions() & perms::all,
            perms::owner_read | perms::owner_write);
  EXPECT_EQ(std::filesystem::status(dir / "journals").permissions() & perms::all, perms::owner_all);
}

TEST(Journal, CorruptRecordIsReportedAndTheRestRead) {
  TempDir dir;
  auto path = journal_path(dir.path(), "abc");
  write_sample(path);
  auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 5u);
  lines[2][20] = lines[2][20] == 'x' ? 'y' : 'x';  // the metrics record
  write_lines(path, lines);
  JournalContents contents = read_journal(path);
  ASSERT_EQ(contents.problems.size(), 1u);
  EXPECT_EQ(contents.problems[0],
            "line 3: checksum mismatch (a torn or corrupted record), skipped");
  ASSERT_EQ(contents.records.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<FinishEvent>(std::get<RunEvent>(contents.records[2])));
}

TEST(Journal, TornLastLineIsReportedAndTheRestRead) {
  TempDir dir;
  auto path = journal_path(dir.path(), "abc");
  write_sample(path);
  auto lines = lines_of(path);
  lines.back().resize(lines.back().size() / 2);  // the wrapper died in the middle of a write
  write_lines(path, lines, false);
  JournalContents contents = read_journal(path);
  ASSERT_EQ(contents.problems.size(), 1u);
  EXPECT_EQ(contents.problems[0], "line 5: truncated record (no end of line), skipped");
  EXPECT_EQ(contents.records.size(), 3u);
}

TEST(Journal, ReadingFromAnOffsetSkipsEarlierRecords) {
  TempDir dir;
  auto path = journal_path(dir.path(), "abc");
  std::uint64_t after_two = 0;
  {
    JournalWriter writer(path, sample_header());
    writer.append(RunEvent{HeartbeatEvent{}});
    writer.append(RunEvent{HeartbeatEvent{}});
    after_two = writer.size();
    writer.append(RunEvent{StatusEvent{RunStatus::PREEMPTED, "preempted", Clock::now()}});
  }
  JournalContents contents = read_journal(path, after_two);
  ASSERT_TRUE(contents.header.has_value());
  ASSERT_EQ(contents.records.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<StatusEvent>(std::get<RunEvent>(contents.records[0])));
  EXPECT_EQ(contents.end_offset, std::filesystem::file_size(path));
}

TEST(Journal, LivingWriterHoldsTheLock) {
  TempDir dir;
  auto path = journal_path(dir.path(), "abc");
  JournalWriter first(path, sample_header());
  try {
    JournalWriter second(path, sample_header());
    FAIL() << "expected the second writer to find the journal locked";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot lock the journal"), std::string::npos) << e.what();
  }
}

// `sqltrack sync` takes a journal whose lock it gets. A new journal must never be there
// unlocked, or it could be taken empty (and then never stored) before its wrapper locks it.
TEST(Journal, ANewJournalIsNeverThereUnlocked) {
  TempDir dir;
  for (int i = 0; i < 300; ++i) {
    const auto path = journal_path(dir.path(), "race-" + std::to_string(i));
    std::atomic<bool> stop{false};
    std::atomic<bool> taken{false};
    std::thread sync_like([&] {
      while (!stop) {
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) continue;
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) taken = true;
        ::close(fd);
      }
    });
    std::string error;
    try {
      JournalWriter writer(path, sample_header());
      stop = true;
      sync_like.join();
    } catch (const Error& e) {
      error = e.what();
      stop = true;
      sync_like.join();
    }
    ASSERT_FALSE(taken) << "journal " << i << " was locked by another process before its writer";
    ASSERT_TRUE(error.empty()) << "journal " << i << ": " << error;
  }
}

TEST(Journal, DirectoryThatCannotBeCreatedIsAClearError) {
  TempDir dir;
  test::write_file(dir / "file", "");
  try {
    JournalWriter writer(journal_path(dir / "file" / "journals", "abc"), sample_header());
    FAIL() << "expected an error for a journal directory under a regular file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create the journal directory"), std::string::npos)
        << e.what();
  }
}

TEST(Journal, DefaultDirectoryFollowsXdgStateHome) {
  EXPECT_EQ(default_journal_dir({{"XDG_STATE_HOME", "/state"}, {"HOME", "/home/a"}}),
            std::filesystem::path("/state/sqltrack"));
  EXPECT_EQ(default_journal_dir({{"HOME", "/home/a"}}),
            std::filesystem::path("/home/a/.local/state/sqltrack"));
  // A relative XDG_STATE_HOME is invalid per the spec and ignored.
  EXPECT_EQ(default_journal_dir({{"XDG_STATE_HOME", "state"}, {"HOME", "/home/a"}}),
            std::filesystem::path("/home/a/.local/state/sqltrack"));
}

TEST(Journal, ClientIdsAreUuids) {
  std::string a = new_client_id(), b = new_client_id();
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4') << a;  // version 4
  EXPECT_NE(a, b);
}

TEST(RunEventJson, EveryEventRoundTrips) {
  auto now = Clock::now();
  FinishEvent finish{RunStatus::TIMEOUT, "time limit", {}};
  finish.end.time = now;
  finish.end.signal = 15;
  finish.end.core_dumped = true;
  finish.end.cpu_user_seconds = 0.25;
  for (const RunEvent& event :
       {RunEvent{HeartbeatEvent{now}}, RunEvent{HistoryEvent{RunStatus::RUNNING, "h", now}},
        RunEvent{StatusEvent{RunStatus::CANCELLED, "scancel", now}}, RunEvent{finish}}) {
    auto json = run_event_to_json(event);
    EXPECT_EQ(run_event_to_json(run_event_from_json(json)), json) << json.dump();
  }
}

TEST(RunEventJson, UnknownTypeIsAnError) {
  EXPECT_THROW(run_event_from_json({{"type", "reboot"}}), Error);
  EXPECT_THROW(run_event_from_json({{"type", "status"}, {"status", "NAPPING"}}), Error);
}

}  // namespace
}  // namespace sqltrack
