// What a run's record and the programs' messages keep of secrets, and which config files are
// trusted, through the real executables on real SQLite and PostgreSQL databases.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::EngineDatabase;

// The secrets of the command line below; none may reach the record, an export or a report.
const std::vector<std::string> kSecrets = {"hunter2", "--token=abc", ":pw@", "pw5", "hunter4"};

// A command that writes the argv it really got to argv.txt, one argument a line.
std::vector<std::string> command_with_secrets() {
  return {"sh",
          "-c",
          "printf '%s\\n' \"$@\" > argv.txt",
          "train.py",
          "--password",
          "hunter2",
          "--token=abc",
          "postgres://u:pw@h/db",
          "https://user:pw5@x",
          "password=hunter4"};
}

const char* kRealArgv =
    "--password\nhunter2\n--token=abc\npostgres://u:pw@h/db\nhttps://"
    "user:pw5@x\npassword=hunter4\n";

class SecurityTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  test::CommandOptions in_db_dir() const {
    test::CommandOptions options;
    options.cwd = db_.cwd();
    return options;
  }

  CommandResult sqltrack(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{SQLTRACK_BIN};
    auto connection = db_.cli_flags();
    argv.insert(argv.end(), connection.begin(), connection.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_command(argv, in_db_dir());
  }

  CommandResult wrapper(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{SQLTRACK_RUN_BIN};
    auto connection = db_.cli_flags();
    argv.insert(argv.end(), connection.begin(), connection.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_command(argv, in_db_dir());
  }

  std::string scalar(const std::string& sql) const {
    return db_.connect()->query(sql, {}).scalar().value_or("<NULL>");
  }

  static void expect_no_secret(const std::string& text, const std::string& where) {
    for (const auto& secret : kSecrets) {
      EXPECT_EQ(text.find(secret), std::string::npos) << where << " holds '" << secret << "':\n"
                                                      << text;
    }
  }

  EngineDatabase db_{GetParam()};
};

TEST_P(SecurityTest, SecretsInArgvStayOutOfTheRecordExportAndReport) {
  CommandResult run = test::run_command(
      db_.wrapper_argv({"-e", "secrets", "--no-metrics", "--sample", "0"}, command_with_secrets()),
      in_db_dir());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(test::read_file(db_.cwd() / "argv.txt"), kRealArgv) << "the command's own argv";

  const auto args = nlohmann::json::parse(scalar("SELECT args FROM runs"));
  const nlohmann::json expected = {"sh",
                                   "-c",
                                   "printf '%s\\n' \"$@\" > argv.txt",
                                   "train.py",
                                   "--password",
                                   "<redacted>",
                                   "--token=<redacted>",
                                   "postgres://u:<redacted>@h/db",
                                   "https://user:<redacted>@x",
                                   "password=<redacted>"};
  EXPECT_EQ(args, expected);

  CommandResult exported = sqltrack({"export", "-e", "secrets", "--format", "json"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.out.find("<redacted>"), std::string::npos) << exported.out;
  expect_no_secret(exported.out, "the export");
  CommandResult report = sqltrack({"report", "-e", "secrets", "-o", "report.html"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  expect_no_secret(test::read_file(db_.cwd() / "report.html"), "the report");
}

TEST_P(SecurityTest, EnqueuedCommandRunsWithItsSecretsAndIsRecordedWithout) {
  std::vector<std::string> enqueue{"enqueue", "-e", "q", "--"};
  for (const auto& arg : command_with_secrets()) enqueue.push_back(arg);
  CommandResult queued = sqltrack(enqueue);
  ASSERT_EQ(queued.exit_code, 0) << queued.err;
  test::write_file(db_.cwd() / "grid.txt", "printf '%s\\n' --password hunter2 > line.txt\n");
  CommandResult from_file = sqltrack({"enqueue", "-e", "q", "--from-file", "grid.txt"});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;

  auto conn = db_.connect();
  auto pending = conn->query("SELECT args FROM runs ORDER BY id", {});
  ASSERT_EQ(pending.size(), 2u);
  expect_no_secret(*pending.rows[0][0], "the queued run's args");
  EXPECT_EQ(nlohmann::json::parse(*pending.rows[1][0]),
            nlohmann::json({"/bin/sh", "-c", "printf '%s\\n' --password <redacted> > line.txt"}));

  EXPECT_NE(queued.err.find("1 command holds secrets"), std::string::npos) << queued.err;
  EXPECT_EQ(scalar("SELECT count(*) FROM queued_commands"), "2") << "the real commands wait";

  CommandResult worker = wrapper({"--next", "--loop", "-e", "q", "--no-metrics", "--sample", "0"});
  ASSERT_EQ(worker.exit_code, 0) << worker.err;
  expect_no_secret(worker.err, "the worker's messages");
  EXPECT_EQ(test::read_file(db_.cwd() / "argv.txt"), kRealArgv) << "the queued command's argv";
  EXPECT_EQ(test::read_file(db_.cwd() / "line.txt"), "--password\nhunter2\n");
  auto ended = conn->query("SELECT status, args FROM runs ORDER BY id", {});
  ASSERT_EQ(ended.size(), 2u);
  for (const auto& row : ended.rows) {
    EXPECT_EQ(*row[0], "COMPLETED");
    expect_no_secret(*row[1], "the run's args after it ran");
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM queued_commands"), "0") << "kept after the runs ended";
  CommandResult exported = sqltrack({"export", "-e", "q", "--format", "json"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  expect_no_secret(exported.out, "the export");
}

// Runs `sqltrack ARGS` in `dir` with `env` on top of this environment.
CommandResult sqltrack_in(const std::filesystem::path& dir, const std::vector<std::string>& args,
                          std::map<std::string, std::optional<std::string>> env = {}) {
  std::vector<std::string> argv{SQLTRACK_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  test::CommandOptions options;
  options.cwd = dir;
  options.env = std::move(env);
  return test::run_command(argv, options);
}

TEST(SecurityMessages, DatabaseUriConnectsAndItsPasswordIsNeverShown) {
  test::ScratchPostgresDatabase db;
  const auto server = test::postgres_server();
  test::TempDir dir;
  const std::string at = "@127.0.0.1:" + server.port + "/";
  const std::string good = "postgresql://" + server.user + ":SECRET" + at + db.name();
  CommandResult setup = sqltrack_in(dir.path(), {"-d", good, "setup"});
  EXPECT_EQ(setup.exit_code, 0) << setup.err;
  EXPECT_EQ(setup.out.find("SECRET"), std::string::npos) << setup.out;

  const std::string bad = "postgresql://nobody:SECRET" + at + "no_such_db";
  CommandResult flag = sqltrack_in(dir.path(), {"-d", bad, "setup"});
  EXPECT_EQ(flag.exit_code, 1) << flag.err;
  EXPECT_EQ(flag.err.find("SECRET"), std::string::npos) << flag.err;
  CommandResult env = sqltrack_in(dir.path(), {"setup"}, {{"SQLTRACK_DSN_DBNAME", bad}});
  EXPECT_EQ(env.exit_code, 1) << env.err;
  EXPECT_EQ(env.err.find("SECRET"), std::string::npos) << env.err;
  test::CommandOptions in_dir;
  in_dir.cwd = dir.path();
  CommandResult wrapped =
      test::run_command({SQLTRACK_RUN_BIN, "-d", bad, "--sample", "0", "--", "true"}, in_dir);
  EXPECT_EQ(wrapped.exit_code, 0) << wrapped.err;
  EXPECT_NE(wrapped.err.find("no_such_db"), std::string::npos) << wrapped.err;
  EXPECT_EQ(wrapped.err.find("SECRET"), std::string::npos) << wrapped.err;

  test::write_file(dir / "sqltrack.conf", "dbname = " + good + "\n");
  CommandResult file = sqltrack_in(dir.path(), {"setup"});
  EXPECT_EQ(file.exit_code, 0) << file.err;
  test::write_file(dir / "sqltrack.conf", "dbname = " + db.name() + "\npassword hunter2\n");
  CommandResult typo = sqltrack_in(dir.path(), {"setup"});
  EXPECT_EQ(typo.exit_code, 1) << typo.err;
  EXPECT_NE(typo.err.find("line 2"), std::string::npos) << typo.err;
  EXPECT_EQ(typo.err.find("hunter2"), std::string::npos) << typo.err;
}

// ---- which config files are trusted ----

class ConfigTrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "these tests make a second user and run processes as it: run "
                                "them as root, as scripts/test.sh does";
    eve_ = test::local_user("sqltrack-eve");
    // Like /tmp: everyone may create files, and only in their own name.
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
    std::filesystem::create_directory(shared_);
    std::filesystem::permissions(shared_, std::filesystem::perms(01777));
  }

  CommandResult as_eve(std::vector<std::string> argv, const std::filesystem::path& cwd) const {
    test::CommandOptions options;
    options.cwd = cwd;
    return test::run_command(test::as_user(eve_, std::move(argv)), options);
  }

  test::TempDir dir_;
  std::filesystem::path shared_ = dir_ / "shared";
  test::LocalUser eve_;
};

TEST_F(ConfigTrustTest, ConfigPlantedByAnotherUserIsRefused) {
  const auto loot = dir_ / "loot";
  std::filesystem::create_directory(loot);
  ASSERT_EQ(chown(loot.c_str(), eve_.uid, eve_.gid), 0);
  for (const std::string name : {"sqltrack.conf", "sqltrack.yaml"}) {
    SCOPED_TRACE(name);
    const std::string line = name.ends_with(".yaml") ? "path: %s\\n" : "path = %s\\n";
    CommandResult planted = as_eve(
        {"sh", "-c", "printf '" + line + "' \"$1\" > " + name, "sh", (loot / "loot.db").string()},
        shared_);
    ASSERT_EQ(planted.exit_code, 0) << planted.err;

    test::CommandOptions alice;
    alice.cwd = shared_;
    alice.env = {{"HF_TOKEN", "hf_secret"}, {"SQLTRACK_CONFIG_PATH", std::nullopt}};
    CommandResult run = test::run_command(
        {SQLTRACK_RUN_BIN, "-e", "mine", "--sample", "0", "--", "sh", "-c", "true"}, alice);
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_NE(run.err.find("'./" + name + "'"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("sqltrack-eve"), std::string::npos) << run.err;
    CommandResult setup = sqltrack_in(shared_, {"setup"});
    EXPECT_EQ(setup.exit_code, 1) << setup.err;
    EXPECT_FALSE(std::filesystem::exists(loot / "loot.db")) << "the run went to the other user";
    std::filesystem::remove(shared_ / name);
  }
}

TEST_F(ConfigTrustTest, ConfigWritableByGroupOrOthersIsRefused) {
  const auto conf = dir_ / "sqltrack.conf";
  test::write_file(conf, "path = mine.db\n");
  for (const auto& [mode, who] : {std::pair{0664, "group"}, std::pair{0646, "others"}}) {
    std::filesystem::permissions(conf, std::filesystem::perms(mode));
    CommandResult setup = sqltrack_in(dir_.path(), {"setup"});
    EXPECT_EQ(setup.exit_code, 1) << setup.err;
    EXPECT_NE(setup.err.find("writable by " + std::string(who)), std::string::npos) << setup.err;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "mine.db"));
  }
  std::filesystem::permissions(conf, std::filesystem::perms(0644));
  CommandResult setup = sqltrack_in(dir_.path(), {"setup"});
  EXPECT_EQ(setup.exit_code, 0) << setup.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "mine.db"));
}

TEST_F(ConfigTrustTest, ConfigOwnedByRootIsTrustedByOtherUsers) {
  const auto bin = dir_ / "sqltrack";
  std::filesystem::copy_file(SQLTRACK_BIN, bin);
  std::filesystem::permissions(bin, std::filesystem::perms(0755));
  const auto eve_dir = shared_ / "eve";
  ASSERT_EQ(as_eve({"mkdir", eve_dir.string()}, shared_).exit_code, 0);
  const auto conf = dir_ / "site.conf";
  test::write_file(conf, "path = " + (eve_dir / "eve.db").string() + "\n");
  std::filesystem::permissions(conf, std::filesystem::perms(0644));
  CommandResult setup = as_eve({bin.string(), "-c", conf.string(), "setup"}, eve_dir);
  EXPECT_EQ(setup.exit_code, 0) << setup.err;
  EXPECT_TRUE(std::filesystem::exists(eve_dir / "eve.db"));
}

TEST(ConfigTrust, PasswordInAConfigOthersCanReadIsWarnedAbout) {
  test::ScratchPostgresDatabase db;
  const auto server = test::postgres_server();
  test::TempDir dir;
  const auto conf = dir / "sqltrack.conf";
  test::write_file(conf, "host = 127.0.0.1\nport = " + server.port + "\nuser = " + server.user +
                             "\ndbname = " + db.name() + "\npassword = pw_unused\n");
  std::filesystem::permissions(conf, std::filesystem::perms(0644));
  CommandResult readable = sqltrack_in(dir.path(), {"setup"});
  EXPECT_EQ(readable.exit_code, 0) << readable.err;
  EXPECT_NE(readable.err.find("warning"), std::string::npos) << readable.err;
  EXPECT_NE(readable.err.find("'./sqltrack.conf'"), std::string::npos) << readable.err;
  EXPECT_NE(readable.err.find("chmod 600"), std::string::npos) << readable.err;
  EXPECT_EQ(readable.err.find("pw_unused"), std::string::npos) << readable.err;
  std::filesystem::permissions(conf, std::filesystem::perms(0600));
  CommandResult private_file = sqltrack_in(dir.path(), {"setup"});
  EXPECT_EQ(private_file.exit_code, 0) << private_file.err;
  EXPECT_EQ(private_file.err.find("warning"), std::string::npos) << private_file.err;
}

// ---- input that cannot be used as it is ----

TEST(SecurityInput, ConfigPathThatIsADirectoryIsAnError) {
  test::TempDir dir;
  std::filesystem::create_directory(dir / "somedir");
  CommandResult flag = sqltrack_in(dir.path(), {"-c", "somedir/", "setup"});
  EXPECT_EQ(flag.exit_code, 1) << flag.err;
  EXPECT_NE(flag.err.find("is a directory"), std::string::npos) << flag.err;
  std::filesystem::create_directory(dir / "sqltrack.conf");
  CommandResult found = sqltrack_in(dir.path(), {"setup"});
  EXPECT_EQ(found.exit_code, 1) << found.err;
  EXPECT_NE(found.err.find("is a directory"), std::string::npos) << found.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "sqltrack.db")) << "fell back to the default";
}

TEST(SecurityInput, QueueFileThatCannotBeStoredAsItIsIsRefused) {
  test::TempDir dir;
  std::filesystem::create_directory(dir / "somedir");
  test::write_file(dir / "nul.txt", std::string("echo a\necho b\0c\n", 16));
  test::write_file(dir / "latin1.txt", "echo ok\necho caf\xE9\n");
  test::write_file(dir / "long.txt", "echo " + std::string(64 * 1024, 'x') + "\n");
  std::string big;
  const std::string comment = "# " + std::string(1022, '-') + "\n";
  while (big.size() <= (std::size_t{64} << 20)) big += comment;
  test::write_file(dir / "big.txt", big);
  const std::pair<const char*, const char*> cases[] = {
      {"somedir", "is a directory"},     {"nul.txt", "line 2"},
      {"latin1.txt", "line 2"},          {"long.txt", "longer than 64 KiB"},
      {"big.txt", "larger than 64 MiB"},
  };
  for (const auto& [file, expected] : cases) {
    CommandResult enqueue = sqltrack_in(dir.path(), {"enqueue", "-e", "q", "--from-file", file});
    EXPECT_EQ(enqueue.exit_code, 1) << file << ": " << enqueue.err;
    EXPECT_NE(enqueue.err.find(expected), std::string::npos) << file << ": " << enqueue.err;
  }
  CommandResult argument = sqltrack_in(dir.path(), {"enqueue", "-e", "q", "--", "echo", "caf\xE9"});
  EXPECT_EQ(argument.exit_code, 1) << argument.err;
  EXPECT_NE(argument.err.find("argument 2"), std::string::npos) << argument.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "sqltrack.db")) << "something was enqueued";
}

TEST(SecurityInput, DevZeroIsRefusedAsAConfigFileAndAQueueFile) {
  test::TempDir dir;
  test::CommandOptions in_dir;
  in_dir.cwd = dir.path();
  for (const auto& args :
       {std::vector<std::string>{"-c", "/dev/zero", "setup"},
        std::vector<std::string>{"enqueue", "-e", "q", "--from-file", "/dev/zero"}}) {
    std::vector<std::string> argv{SQLTRACK_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    test::BackgroundProcess process(argv, in_dir);
    EXPECT_EQ(process.wait(std::chrono::seconds(60)), 1) << process.err();
    EXPECT_NE(process.err().find("'/dev/zero'"), std::string::npos) << process.err();
    EXPECT_NE(process.err().find("not a regular file"), std::string::npos) << process.err();
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, SecurityTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName{});

}  // namespace
}  // namespace sqltrack
