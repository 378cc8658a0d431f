// Which files the programs write, and how: a link or a file another user put in a shared
// directory never receives what a run writes, whoever runs it (a user, or root); the files a
// run creates are its user's only. Real sqltrack-run and sqltrack processes, run as a second
// local user where the victim is not root, on real SQLite files and PostgreSQL databases.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sqltrack/connect/connect.hpp"
#include "sqltrack/journal/journal.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::LocalUser;

const std::string kBashrc = "# alice's shell\nexport PATH=$HOME/bin:$PATH\n";

struct FileFacts {
  uid_t owner = 0;
  mode_t mode = 0;
  bool link = false;
};

FileFacts facts_of(const std::filesystem::path& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    throw std::runtime_error("no file " + path.string());
  }
  return {info.st_uid, info.st_mode & 07777, S_ISLNK(info.st_mode)};
}

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
  return text;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

// The files under `dir` (recursively) that hold `text`.
std::vector<std::filesystem::path> files_holding(const std::filesystem::path& dir,
                                                 const std::string& text) {
  std::vector<std::filesystem::path> found;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && test::read_file(entry.path()).find(text) != std::string::npos) {
      found.push_back(entry.path());
    }
  }
  return found;
}

// Someone who runs the programs: a local user, or root (no user).
struct Person {
  std::optional<LocalUser> user;
  std::filesystem::path home;
  std::string name() const { return user ? user->name : "root"; }
  uid_t uid() const { return user ? user->uid : 0; }
};

class FileSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "these tests make local users and run processes as them: run "
                                  "them as root, as scripts/test.sh does";
    alice_.user = test::local_user("sqltrack-alice");
    eve_ = test::local_user("sqltrack-eve");
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
    alice_.home = make_home(alice_);
    root_.home = make_home(root_);
    // The programs, where every user may run them.
    std::filesystem::create_directory(dir_ / "bin");
    std::filesystem::copy_file(SQLTRACK_RUN_BIN, wrapper_bin_);
    std::filesystem::copy_file(SQLTRACK_BIN, cli_bin_);
  }

  std::filesystem::path make_home(const Person& person) const {
    auto home = dir_ / ("home-" + person.name());
    std::filesystem::create_directory(home);
    own(person, home);
    return home;
  }

  // Like /tmp: everyone may create files there, and remove only their own.
  std::filesystem::path shared_dir(const std::string& name) const {
    auto shared = dir_ / name;
    std::filesystem::create_directory(shared);
    std::filesystem::permissions(shared, std::filesystem::perms(01777));
    return shared;
  }

  static void own(const Person& person, const std::filesystem::path& path) {
    if (!person.user) return;
    ASSERT_EQ(::lchown(path.c_str(), person.user->uid, person.user->gid), 0) << path;
  }

  void write_as(const Person& person, const std::filesystem::path& path, const std::string& text,
                mode_t mode) const {
    test::write_file(path, text);
    std::filesystem::permissions(path, std::filesystem::perms(mode));
    own(person, path);
  }

  // Eve puts a symbolic link `link` -> `target`.
  void plant_link(const std::filesystem::path& target, const std::filesystem::path& link) const {
    CommandResult ln =
        test::run_command(test::as_user(eve_, {"ln", "-s", target.string(), link.string()}));
    ASSERT_EQ(ln.exit_code, 0) << ln.err;
  }

  // Eve puts a file everyone may write.
  void plant_file(const std::filesystem::path& path, const std::string& text) const {
    write_as(Person{eve_, {}}, path, text, 0666);
  }

  // argv run by `person` in `cwd`: HOME is theirs, the state directory the default one in it.
  CommandResult run_as(const Person& person, std::vector<std::string> argv,
                       const std::filesystem::path& cwd,
                       std::map<std::string, std::optional<std::string>> env = {}) const {
    test::CommandOptions options;
    options.cwd = cwd;
    options.env = std::move(env);
    options.env["HOME"] = person.home.string();
    options.env["XDG_STATE_HOME"] = std::nullopt;
    options.env["SQLTRACK_CONFIG_PATH"] = std::nullopt;
    if (person.user) argv = test::as_user(*person.user, std::move(argv));
    return test::run_command(argv, options);
  }

  std::vector<std::string> wrapper(const std::vector<std::string>& flags,
                                   const std::vector<std::string>& command) const {
    std::vector<std::string> argv{wrapper_bin_.string(), "--sample", "0"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }

  std::vector<std::string> cli(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{cli_bin_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  static std::filesystem::path state_dir(const Person& person) {
    return person.home / ".local" / "state" / "sqltrack";
  }

  test::TempDir dir_;
  Person alice_;
  Person root_;
  LocalUser eve_;
  std::filesystem::path wrapper_bin_ = dir_ / "bin" / "sqltrack-run";
  std::filesystem::path cli_bin_ = dir_ / "bin" / "sqltrack";
};

// A command that writes one line the wrapper rejects.
const std::vector<std::string> kBadLine = {"sh", "-c",
                                           "echo 'not a metric line' > \"$SQLTRACK_METRICS\""};

class RejectFileSafety : public FileSafety, public ::testing::WithParamInterface<db::Engine> {
 protected:
  // The database flags of `person`'s runs: SQLite ./sqltrack.db in the working directory, or
  // a PostgreSQL database of their own.
  std::vector<std::string> database_flags(const Person& person) {
    if (GetParam() == db::Engine::sqlite) return {};
    auto& db = postgres_[person.name()];
    if (!db) db = std::make_unique<test::ScratchPostgresDatabase>();
    return db->cli_flags();
  }

  // Eve links the name of `person`'s first reject file in the shared directory where they run
  // to their `victim`; then, with reject_dir there, the name of their second.
  void expect_planted_links_unused(const Person& person, const std::filesystem::path& victim) {
    const auto shared = shared_dir("shared-" + person.name());
    const std::string victim_text = test::read_file(victim);
    plant_link(victim, shared / "sqltrack-run-1.rejects");
    CommandResult first = run_as(person, wrapper(database_flags(person), kBadLine), shared);
    EXPECT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(test::read_file(victim), victim_text)
        << person.name() << "'s run wrote its rejected line into the file eve's link names";

    // The reject file is the user's own, in their private state directory.
    const auto rejects = test::find_reject_file(state_dir(person), "1");
    ASSERT_FALSE(rejects.empty()) << "no reject file in " << state_dir(person) << ": " << first.err;
    EXPECT_NE(test::read_file(rejects).find("not a metric line"), std::string::npos);
    EXPECT_EQ(facts_of(rejects).owner, person.uid());
    EXPECT_EQ(octal(facts_of(rejects).mode), "0600");
    EXPECT_EQ(octal(facts_of(state_dir(person)).mode), "0700");

    // Where the user keeps reject files in the shared directory, eve's link under the very
    // name of the next one is not followed.
    std::string next = rejects.filename().string();
    next.replace(0, std::string("sqltrack-run-1").size(), "sqltrack-run-2");
    plant_link(victim, shared / next);
    CommandResult second = run_as(person, wrapper(database_flags(person), kBadLine), shared,
                                  {{"SQLTRACK_DSN_REJECT_DIR", shared.string()}});
    EXPECT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(test::read_file(victim), victim_text) << second.err;
    EXPECT_NE(second.err.find("symbolic link"), std::string::npos) << second.err;
    EXPECT_NE(second.err.find(next), std::string::npos) << second.err;
  }

  std::map<std::string, std::unique_ptr<test::ScratchPostgresDatabase>> postgres_;
};

TEST_P(RejectFileSafety, RejectFileIsNeverALinkAnotherUserPlanted) {
  const auto bashrc = alice_.home / ".bashrc";
  write_as(alice_, bashrc, kBashrc, 0644);
  {
    SCOPED_TRACE("alice");
    expect_planted_links_unused(alice_, bashrc);
  }
  // For root, any file.
  const auto passwd = root_.home / "passwd";
  write_as(root_, passwd, "root:x:0:0:root:/root:/bin/bash\n", 0644);
  SCOPED_TRACE("root");
  expect_planted_links_unused(root_, passwd);
}

INSTANTIATE_TEST_SUITE_P(Engines, RejectFileSafety,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName{});

TEST_F(FileSafety, RejectFilesOfTwoDatabasesNeverMix) {
  // Run 1 of a SQLite file and run 1 of a PostgreSQL database, from one directory.
  const auto work = dir_ / "work";
  std::filesystem::create_directory(work);
  test::ScratchPostgresDatabase postgres;
  const std::map<std::string, std::optional<std::string>> here = {
      {"SQLTRACK_DSN_REJECT_DIR", work.string()}};
  auto line = [](const std::string& text) {
    return std::vector<std::string>{"sh", "-c", "echo '" + text + "' > \"$SQLTRACK_METRICS\""};
  };
  CommandResult sqlite = run_as(root_, wrapper({}, line("from sqlite")), work, here);
  ASSERT_EQ(sqlite.exit_code, 0) << sqlite.err;
  CommandResult pg =
      run_as(root_, wrapper(postgres.cli_flags(), line("from postgres")), work, here);
  ASSERT_EQ(pg.exit_code, 0) << pg.err;

  std::vector<std::string> texts;
  for (const auto& entry : std::filesystem::directory_iterator(work)) {
    if (entry.path().extension() == ".rejects") texts.push_back(test::read_file(entry.path()));
  }
  ASSERT_EQ(texts.size(), 2u) << "expected one reject file per database";
  for (const auto& text : texts) {
    EXPECT_EQ(count_of(text, "from "), 1u) << "a reject file holds lines of both databases:\n"
                                           << text;
  }
}

TEST_F(FileSafety, SqliteDatabaseIsNeverALinkOrAFileAnotherUserPlanted) {
  const auto shared = shared_dir("shared");
  // Eve's link under the default name, to an empty file of alice's.
  const auto notes = alice_.home / "notes.db";
  write_as(alice_, notes, "", 0600);
  plant_link(notes, shared / "sqltrack.db");
  CommandResult linked = run_as(alice_, wrapper({}, {"true"}), shared);
  EXPECT_EQ(linked.exit_code, 0) << linked.err;
  EXPECT_EQ(std::filesystem::file_size(notes), 0u) << "alice's run wrote into eve's link target";
  EXPECT_NE(linked.err.find("symbolic link"), std::string::npos) << linked.err;
  CommandResult setup = run_as(alice_, cli({"setup"}), shared);
  EXPECT_EQ(setup.exit_code, 1) << setup.err;
  EXPECT_EQ(std::filesystem::file_size(notes), 0u) << "setup wrote into eve's link target";

  // Eve's file under the name of the WAL of alice's new database: it would hold her runs.
  plant_file(shared / "team.db-wal", "");
  CommandResult wal = run_as(alice_, wrapper({}, {"true"}), shared,
                             {{"SQLTRACK_DSN_PATH", (shared / "team.db").string()}});
  EXPECT_EQ(wal.exit_code, 0) << wal.err;
  EXPECT_EQ(std::filesystem::file_size(shared / "team.db-wal"), 0u)
      << "alice's run wrote into eve's file";
  EXPECT_NE(wal.err.find("sqltrack-eve"), std::string::npos) << wal.err;

  // Eve's database, named by alice: her runs would be eve's to read and change.
  plant_file(shared / "eve.db", "");
  CommandResult others = run_as(alice_, wrapper({}, {"true"}), shared,
                                {{"SQLTRACK_DSN_PATH", (shared / "eve.db").string()}});
  EXPECT_EQ(others.exit_code, 0) << others.err;
  EXPECT_EQ(std::filesystem::file_size(shared / "eve.db"), 0u) << "alice's run went to eve";
  EXPECT_NE(others.err.find("sqltrack-eve"), std::string::npos) << others.err;

  // For root, any file.
  const auto root_file = root_.home / "empty";
  write_as(root_, root_file, "", 0600);
  plant_link(root_file, shared / "root.db");
  CommandResult as_root = run_as(root_, wrapper({}, {"true"}), shared,
                                 {{"SQLTRACK_DSN_PATH", (shared / "root.db").string()}});
  EXPECT_EQ(as_root.exit_code, 0) << as_root.err;
  EXPECT_EQ(std::filesystem::file_size(root_file), 0u) << "root's run wrote into eve's target";
}

TEST_F(FileSafety, SqliteDatabaseBehindTheUsersOwnLinkIsUsed) {
  // Alice's own link to her own database is hers to make: the run is recorded there.
  std::filesystem::create_directory(alice_.home / "data");
  own(alice_, alice_.home / "data");
  CommandResult setup = run_as(alice_, cli({"setup"}), alice_.home / "data");
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  CommandResult ln = run_as(alice_, {"ln", "-s", "data/sqltrack.db", "mine.db"}, alice_.home);
  ASSERT_EQ(ln.exit_code, 0) << ln.err;
  CommandResult run =
      run_as(alice_, wrapper({}, {"true"}), alice_.home, {{"SQLTRACK_DSN_PATH", "mine.db"}});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  CommandResult exported = run_as(alice_, cli({"export"}), alice_.home / "data");
  EXPECT_NE(exported.out.find("COMPLETED"), std::string::npos) << exported.out << exported.err;
}

TEST_F(FileSafety, SqliteDatabaseATeamSharesIsWrittenByItsMembers) {
  // Alice makes the team's database in the team's directory, for the group to write.
  const gid_t team = test::local_group("sqltrack-team");
  const auto dir = dir_ / "team";
  std::filesystem::create_directory(dir);
  ASSERT_EQ(::chown(dir.c_str(), alice_.uid(), team), 0);
  std::filesystem::permissions(dir, std::filesystem::perms(02775));
  const Person eve{eve_, make_home(Person{eve_, {}})};
  test::CommandOptions options;
  options.cwd = dir;
  options.env = {{"SQLTRACK_DSN_FILE_MODE", "0660"}, {"XDG_STATE_HOME", std::nullopt}};
  const auto run = [&](const LocalUser& user, const std::vector<gid_t>& groups) {
    options.env["HOME"] = (user.name == alice_.name() ? alice_.home : eve.home).string();
    return test::run_command(test::as_user(user, wrapper({}, {"true"}), groups), options);
  };
  CommandResult alice = run(*alice_.user, {team});
  ASSERT_EQ(alice.exit_code, 0) << alice.err;
  EXPECT_EQ(octal(facts_of(dir / "sqltrack.db").mode), "0660");

  CommandResult member = run(eve_, {team});
  EXPECT_EQ(member.exit_code, 0) << member.err;
  EXPECT_EQ(member.err, "");
  CommandResult outsider = run(eve_, {});
  EXPECT_EQ(outsider.exit_code, 0) << outsider.err;
  EXPECT_NE(outsider.err.find("belongs to sqltrack-alice"), std::string::npos) << outsider.err;
  auto db = open_database(
      resolve_settings({}, {{"SQLTRACK_DSN_PATH", (dir / "sqltrack.db").string()}}, dir),
      db::WalOnClose::leave, db::OpenMode::read_only);
  EXPECT_EQ(db->query("SELECT count(*) FROM runs").scalar(), "2");
}

TEST_F(FileSafety, OutputFileIsNeverALinkOrAFileAnotherUserPlanted) {
  const auto shared = shared_dir("shared");
  const auto bashrc = alice_.home / ".bashrc";
  write_as(alice_, bashrc, kBashrc, 0644);
  ASSERT_EQ(run_as(alice_, wrapper({"-e", "x"}, {"true"}), alice_.home).exit_code, 0);

  plant_link(bashrc, shared / "runs.csv");
  CommandResult linked =
      run_as(alice_, cli({"export", "-o", (shared / "runs.csv").string()}), alice_.home);
  EXPECT_EQ(linked.exit_code, 1) << linked.err;
  EXPECT_EQ(test::read_file(bashrc), kBashrc) << "the export went into eve's link target";
  EXPECT_NE(linked.err.find("symbolic link"), std::string::npos) << linked.err;
  plant_link(bashrc, shared / "report.html");
  CommandResult report = run_as(
      alice_, cli({"report", "-e", "x", "-o", (shared / "report.html").string()}), alice_.home);
  EXPECT_EQ(report.exit_code, 1) << report.err;
  EXPECT_EQ(test::read_file(bashrc), kBashrc) << "the report went into eve's link target";

  plant_file(shared / "eve.csv", "eve's\n");
  CommandResult others =
      run_as(alice_, cli({"export", "-o", (shared / "eve.csv").string()}), alice_.home);
  EXPECT_EQ(others.exit_code, 1) << others.err;
  EXPECT_EQ(test::read_file(shared / "eve.csv"), "eve's\n") << "alice's runs went to eve";
  EXPECT_NE(others.err.find("sqltrack-eve"), std::string::npos) << others.err;

  // A new file is alice's only; her own file is overwritten.
  CommandResult fresh = run_as(alice_, cli({"export", "-o", "runs.csv"}), alice_.home);
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(octal(facts_of(alice_.home / "runs.csv").mode), "0600");
  write_as(alice_, alice_.home / "old.csv", "old\n", 0644);
  CommandResult again = run_as(alice_, cli({"export", "-o", "old.csv"}), alice_.home);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(test::read_file(alice_.home / "old.csv").find("old\n"), std::string::npos);
  EXPECT_NE(test::read_file(alice_.home / "old.csv").find("run_id"), std::string::npos);

  // For root, any file.
  const auto root_file = root_.home / "profile";
  write_as(root_, root_file, kBashrc, 0644);
  plant_link(root_file, shared / "root.csv");
  CommandResult as_root =
      run_as(root_, cli({"export", "-o", (shared / "root.csv").string()}), alice_.home);
  EXPECT_EQ(as_root.exit_code, 1) << as_root.err;
  EXPECT_EQ(test::read_file(root_file), kBashrc) << "root's export went into eve's link target";
}

// The metric rows of `step` in the SQLite database `database`.
std::string rows_of_step(const std::filesystem::path& database, int step) {
  auto db = open_database(
      resolve_settings({}, {{"SQLTRACK_DSN_PATH", database.string()}}, database.parent_path()),
      db::WalOnClose::leave, db::OpenMode::read_only);
  return db->query("SELECT count(*) FROM metrics WHERE step = " + std::to_string(step))
      .scalar()
      .value_or("<NULL>");
}

TEST_F(FileSafety, MetricsFileIsNeverALinkOrAFileAnotherUserPlanted) {
  const auto shared = shared_dir("shared");
  // Eve's link in the shared directory to alice's private key: its lines would be rejected
  // into a reject file, and printed.
  const auto ssh = alice_.home / ".ssh";
  std::filesystem::create_directory(ssh);
  own(alice_, ssh);
  const std::string key_line = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB";
  write_as(
      alice_, ssh / "id_ed25519",
      "-----BEGIN OPENSSH PRIVATE KEY-----\n" + key_line + "\n-----END OPENSSH PRIVATE KEY-----\n",
      0600);
  plant_link(ssh / "id_ed25519", shared / "metrics.txt");
  const auto metrics_file = [](const std::filesystem::path& path) {
    return std::vector<std::string>{"--metrics-file", path.string()};
  };
  CommandResult linked =
      run_as(alice_, wrapper(metrics_file(shared / "metrics.txt"), {"true"}), alice_.home);
  EXPECT_EQ(linked.exit_code, 0) << linked.err;
  EXPECT_EQ(linked.err.find(key_line), std::string::npos) << "the key went to stderr";
  for (const auto& copy : files_holding(alice_.home, key_line)) {
    EXPECT_EQ(copy, ssh / "id_ed25519") << "alice's key was copied into " << copy;
  }
  EXPECT_NE(linked.err.find("is a symbolic link of sqltrack-eve"), std::string::npos) << linked.err;

  // Eve's own file: her rows would be recorded as alice's run's.
  plant_file(shared / "eve-metrics.txt", "step=66 progress=0.5\n");
  CommandResult others =
      run_as(alice_, wrapper(metrics_file(shared / "eve-metrics.txt"), {"true"}), alice_.home);
  EXPECT_EQ(others.exit_code, 0) << others.err;
  EXPECT_EQ(rows_of_step(alice_.home / "sqltrack.db", 66), "0") << "eve's rows were recorded";
  EXPECT_NE(others.err.find("belongs to sqltrack-eve"), std::string::npos) << others.err;

  // Alice's own file, through her own link in the shared directory, is read.
  write_as(alice_, shared / "mine.txt", "step=2 progress=0.5\n", 0644);
  CommandResult ln = run_as(alice_, {"ln", "-s", "mine.txt", "mine-link.txt"}, shared);
  ASSERT_EQ(ln.exit_code, 0) << ln.err;
  CommandResult own_link =
      run_as(alice_, wrapper(metrics_file(shared / "mine-link.txt"), {"true"}), alice_.home);
  EXPECT_EQ(own_link.exit_code, 0) << own_link.err;
  EXPECT_EQ(own_link.err, "");
  EXPECT_EQ(rows_of_step(alice_.home / "sqltrack.db", 2), "1") << own_link.err;

  // For root, any file.
  const auto root_key = root_.home / "id_ed25519";
  write_as(root_, root_key, key_line + "\n", 0600);
  plant_link(root_key, shared / "root-metrics.txt");
  CommandResult as_root =
      run_as(root_, wrapper(metrics_file(shared / "root-metrics.txt"), {"true"}), root_.home);
  EXPECT_EQ(as_root.exit_code, 0) << as_root.err;
  EXPECT_EQ(as_root.err.find(key_line), std::string::npos) << "root's key went to stderr";
  for (const auto& copy : files_holding(root_.home, key_line)) {
    EXPECT_EQ(copy, root_key) << "root's key was copied into " << copy;
  }
}

// A journal of run 1 of the SQLite database in `work` whose row the database refuses (no such
// column), as an earlier version wrote it (`sync --store-unidentified` stores it).
void write_refused_journal(const std::filesystem::path& work,
                           const std::filesystem::path& journals) {
  JournalHeader header;
  const Environment at_work = {{"SQLTRACK_DSN_PATH", (work / "sqltrack.db").string()}};
  header.client_id = *open_database(resolve_settings({}, at_work, work))
                          ->query("SELECT client_id FROM runs")
                          .scalar();
  header.run_id = 1;
  nlohmann::json old_header = journal_header_to_json(header);
  old_header.erase("target");
  old_header["version"] = 1;
  MetricRecord rows;
  rows.rows.push_back({"SQLTRACK_METRICS line 1", "step=1 progress=0 nosuch=1"});
  test::write_file(journal_path(journals, new_client_id()),
                   journal_line(old_header) + journal_line(journal_record_to_json(rows)));
}

TEST_F(FileSafety, SyncRejectFileIsNeverALinkAnotherUserPlanted) {
  const auto work = dir_ / "work";
  std::filesystem::create_directory(work);
  ASSERT_EQ(run_as(root_, wrapper({}, {"true"}), work).exit_code, 0);
  // Journals in a shared directory, and eve's link under the name sync's reject file had.
  const auto journals = shared_dir("journals");
  write_refused_journal(work, journals);
  const auto victim = root_.home / "profile";
  write_as(root_, victim, kBashrc, 0644);
  plant_link(victim, journals / "sqltrack-sync.rejects");
  const std::vector<std::string> sync = {"sync", "--store-unidentified", journals.string()};
  CommandResult first = run_as(root_, cli(sync), work);
  EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(test::read_file(victim), kBashrc) << "sync wrote into eve's link target";

  // The reject file sync made, and eve's link under its name in a shared reject_dir.
  std::filesystem::path made;
  for (const auto& entry : std::filesystem::directory_iterator(journals)) {
    if (entry.path().filename().string().starts_with("sqltrack-sync-")) made = entry.path();
  }
  ASSERT_FALSE(made.empty()) << first.out << first.err;
  EXPECT_NE(test::read_file(made).find("nosuch=1"), std::string::npos);
  EXPECT_EQ(octal(facts_of(made).mode), "0600");
  const auto rejects = shared_dir("rejects");
  plant_link(victim, rejects / made.filename());
  write_refused_journal(work, journals);
  CommandResult second =
      run_as(root_, cli(sync), work, {{"SQLTRACK_DSN_REJECT_DIR", rejects.string()}});
  EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(test::read_file(victim), kBashrc) << "sync wrote into eve's link target";
  EXPECT_NE(second.err.find("symbolic link"), std::string::npos) << second.err;
}

TEST_F(FileSafety, FilesARunCreatesAreItsUsersOnly) {
  const auto work = dir_ / "work";
  std::filesystem::create_directory(work);
  const std::map<std::string, std::optional<std::string>> here = {
      {"SQLTRACK_DSN_REJECT_DIR", work.string()}};
  std::vector<std::string> argv = {"sh", "-c", "umask 022; exec \"$@\"", "sh"};
  for (const auto& arg : wrapper({}, kBadLine)) argv.push_back(arg);
  CommandResult run = run_as(root_, argv, work, here);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const std::string name : {"sqltrack.db", "sqltrack.db-wal", "sqltrack.db-shm"}) {
    EXPECT_EQ(octal(facts_of(work / name).mode), "0600") << name;
  }
  EXPECT_EQ(octal(facts_of(test::find_reject_file(work, "1")).mode), "0600");
}

TEST_F(FileSafety, FileModeGivesTheModeOfNewFiles) {
  // A team that shares its SQLite file: exactly the mode asked for, whatever the umask.
  const auto work = dir_ / "team";
  std::filesystem::create_directory(work);
  const std::map<std::string, std::optional<std::string>> team = {
      {"SQLTRACK_DSN_REJECT_DIR", work.string()}, {"SQLTRACK_DSN_FILE_MODE", "0660"}};
  std::vector<std::string> argv = {"sh", "-c", "umask 077; exec \"$@\"", "sh"};
  for (const auto& arg : wrapper({}, kBadLine)) argv.push_back(arg);
  CommandResult run = run_as(root_, argv, work, team);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const std::string name : {"sqltrack.db", "sqltrack.db-wal", "sqltrack.db-shm"}) {
    EXPECT_EQ(octal(facts_of(work / name).mode), "0660") << name;
  }
  EXPECT_EQ(octal(facts_of(test::find_reject_file(work, "1")).mode), "0660");

  // Out of range as numbers are (exit 2); not a mode at all as a malformed number (exit 1).
  const std::pair<const char*, int> refusals[] = {{"0777", 2},  {"0666", 2},      {"0602", 2},
                                                  {"0700", 2},  {"0400", 2},      {"4600", 2},
                                                  {"0640x", 1}, {"rw-r-----", 1}, {"", 1}};
  for (const auto& [bad, code] : refusals) {
    CommandResult refused =
        run_as(root_, wrapper({}, {"touch", "ran"}), work, {{"SQLTRACK_DSN_FILE_MODE", bad}});
    EXPECT_EQ(refused.exit_code, code) << bad << ": " << refused.err;
    EXPECT_NE(refused.err.find("SQLTRACK_DSN_FILE_MODE"), std::string::npos) << refused.err;
    EXPECT_FALSE(std::filesystem::exists(work / "ran")) << bad << ": the command ran";
  }
}

TEST_F(FileSafety, SpillFileIsTheUsersOnly) {
  // The writer waits for a lock the test holds while the job writes more rows than the queue
  // keeps in memory: they spill to a file in the wrapper's private directory.
  const auto work = dir_ / "spill";
  const auto tmp = dir_ / "tmp";
  std::filesystem::create_directory(work);
  std::filesystem::create_directory(tmp);
  test::CommandOptions options;
  options.cwd = work;
  options.env = {{"TMPDIR", tmp.string()}, {"SQLTRACK_DSN_BUSY_TIMEOUT", "600"}};
  ASSERT_EQ(test::run_command({SQLTRACK_BIN, "setup"}, options).exit_code, 0);
  test::BackgroundProcess run({"sh", "-c", "umask 022; exec \"$@\"", "sh", SQLTRACK_RUN_BIN,
                               "--sample", "0", "--", "sh", "-c",
                               "touch started; until [ -e locked ]; do sleep 0.05; done; "
                               "seq 1 60000 | sed 's/^/step=/' > \"$SQLTRACK_METRICS\"; "
                               "until [ -e done ]; do sleep 0.05; done"},
                              options);
  ASSERT_TRUE(test::wait_until([&] { return std::filesystem::exists(work / "started"); },
                               std::chrono::seconds(60)))
      << run.err();
  auto lock = open_database(
      resolve_settings({}, {{"SQLTRACK_DSN_PATH", (work / "sqltrack.db").string()}}, work));
  lock->begin();
  test::write_file(work / "locked", "");
  std::filesystem::path spill;
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(tmp, ec)) {
          if (std::filesystem::exists(entry.path() / "spill")) spill = entry.path() / "spill";
        }
        return !spill.empty();
      },
      std::chrono::seconds(120)))
      << run.err();
  const mode_t mode = facts_of(spill).mode;
  lock->rollback();
  test::write_file(work / "done", "");
  ASSERT_EQ(run.wait(std::chrono::seconds(300)), 0) << run.err();
  EXPECT_EQ(octal(mode), "0600");
}

}  // namespace
}  // namespace sqltrack
