// Tests of what the wrapper records about a run: argv, environment with
// secrets redacted, host facts.

#include "sqltrack/capture.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include <gtest/gtest.h>

namespace sqltrack {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

std::string redacted() {
  return std::string(kRedactedMarker);
}

// ---- to_valid_utf8 ----

TEST(CaptureUtf8, ValidTextIsUnchanged) {
  for (const std::string text : {"", "plain ascii", "h\xC3\xA9llo", "\xE6\x97\xA5\xE6\x9C\xAC",
                                 "\xF0\x9F\x98\x80 emoji", "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_EQ(to_valid_utf8(text), text);
  }
}

TEST(CaptureUtf8, EachIllFormedSubpartBecomesOneReplacement) {
  struct Case {
    const char* what;
    std::string bytes;
    std::string expected;
  };
  const Case cases[] = {
      {"Latin-1 e-acute", "caf\xE9", "caf" + kFffd},
      {"stray continuation",
       "a\x80"
       "b",
       "a" + kFffd + "b"},
      {"invalid lead byte", "\xFF", kFffd},
      {"truncated 3-byte sequence",
       "\xE2\x82"
       "x",
       kFffd + "x"},
      {"truncated at the end", "ok\xF0\x9F\x98", "ok" + kFffd},
      {"overlong slash", "\xC0\xAF", kFffd + kFffd},
      {"overlong 3-byte", "\xE0\x80\xAF", kFffd + kFffd + kFffd},
      {"surrogate", "\xED\xA0\x80", kFffd + kFffd + kFffd},
      {"above U+10FFFF", "\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(to_valid_utf8(c.bytes), c.expected) << c.what;
  }
}

// ---- capture_args ----

TEST(CaptureArgs, RoundTripsThroughJsonText) {
  const std::vector<std::string> argv{
      "python",
      "train.py",
      "--name",
      "my run",
      "",
      "--json={\"a\": [1, 2]}",
      "it's",
      "tab\there",
      "new\nline",
      "back\\slash",
      "\xC3\xBCn\xC3\xAF c\xC3\xB6"
      "d\xC3\xA9 \xE2\x9C\x93",
      "  ",
  };
  nlohmann::json captured = capture_args(argv);
  ASSERT_TRUE(captured.is_array());
  auto back = nlohmann::json::parse(captured.dump()).get<std::vector<std::string>>();
  EXPECT_EQ(back, argv) << captured.dump();
}

TEST(CaptureArgs, EmptyArgvIsAnEmptyArray) {
  EXPECT_EQ(capture_args({}).dump(), "[]");
}

TEST(CaptureArgs, InvalidBytesBecomeReplacementCharacters) {
  nlohmann::json captured = capture_args({"cat", "file-\xE9.txt"});
  std::string text;
  EXPECT_NO_THROW(text = captured.dump()) << "dump() with the default strict handler";
  EXPECT_EQ(captured[1].get<std::string>(), "file-" + kFffd + ".txt");
  EXPECT_EQ(nlohmann::json::parse(text)[0], "cat");
}

// ---- patterns ----

TEST(CaptureRedactPatterns, SplitsOnCommasAndSpaces) {
  EXPECT_EQ(split_redact_patterns("AWS_*, *_KEY  MY_PIN,,\t"),
            (std::vector<std::string>{"AWS_*", "*_KEY", "MY_PIN"}));
  EXPECT_TRUE(split_redact_patterns("").empty());
  EXPECT_TRUE(split_redact_patterns(" , ").empty());
}

TEST(CaptureRedactPatterns, BuiltInNamesAreSecret) {
  for (const char* name : {"FOO_PASSWORD",
                           "PGPASSWORD",
                           "SQLTRACK_DSN_PASSWORD",
                           "db_password",
                           "LDAP_PASSWD",
                           "GPG_PASSPHRASE",
                           "SMTP_PASS",
                           "MYSQL_PWD",
                           "AWS_SECRET_ACCESS_KEY",
                           "client_secret",
                           "GITHUB_TOKEN",
                           "hf_token",
                           "HUGGING_FACE_HUB_TOKEN",
                           "WANDB_API_KEY",
                           "OPENAI_APIKEY",
                           "SSH_PRIVATE_KEY",
                           "AWS_ACCESS_KEY_ID",
                           "STRIPE_KEY",
                           "GOOGLE_APPLICATION_CREDENTIALS",
                           "TOKENIZERS_PARALLELISM"}) {
    EXPECT_TRUE(is_secret_name(name, {})) << name << " should be redacted";
  }
}

TEST(CaptureRedactPatterns, HarmlessNamesAreKept) {
  for (const char* name : {"PATH", "HOME", "USER", "PWD", "OLDPWD", "LANG", "SLURM_JOB_ID",
                           "CUDA_VISIBLE_DEVICES", "SSH_AUTH_SOCK", "COMPASS_DIR", "BYPASS_CACHE",
                           "KEYRING_BACKEND", "PYTHONHASHSEED", "OMP_NUM_THREADS"}) {
    EXPECT_FALSE(is_secret_name(name, {})) << name << " should be kept";
  }
}

TEST(CaptureRedactPatterns, ExtraWordsAndGlobsIgnoreCase) {
  const std::vector<std::string> extra{"AWS_*", "site_pin", "*_ID", "[xy]_SEED", ""};
  EXPECT_TRUE(is_secret_name("AWS_REGION", extra)) << "glob AWS_*";
  EXPECT_TRUE(is_secret_name("aws_profile", extra)) << "glob, lower-case name";
  EXPECT_TRUE(is_secret_name("MY_SITE_PIN_CODE", extra)) << "plain word means contains";
  EXPECT_TRUE(is_secret_name("TENANT_ID", extra));
  EXPECT_TRUE(is_secret_name("y_seed", extra)) << "character class";
  EXPECT_FALSE(is_secret_name("MY_AWS_REGION", extra)) << "a glob matches the whole name";
  EXPECT_FALSE(is_secret_name("ID_FILE", extra));
  EXPECT_FALSE(is_secret_name("PATH", extra)) << "an empty pattern matches nothing";
}

// ---- values ----

TEST(CaptureRedactValue, UrlPasswordIsReplaced) {
  struct Case {
    const char* value;
    const char* expected;
  };
  const Case cases[] = {
      {"postgres://alice:s3cr3t@db.example.org:5432/exp",
       "postgres://alice:<redacted>@db.example.org:5432/exp"},
      {"postgresql://u:p%40ss@h/db?sslmode=require",
       "postgresql://u:<redacted>@h/db?sslmode=require"},
      {"postgres://u:p@ss@h/db", "postgres://u:<redacted>@h/db"},
      {"postgres://u:pa/ss@h/db", "postgres://u:<redacted>@h/db"},
      {"https://u:a@one.org/simple https://v:b@two.org/simple",
       "https://u:<redacted>@one.org/simple https://v:<redacted>@two.org/simple"},
      {"--url=redis://:hunter2@cache:6379/0", "--url=redis://:<redacted>@cache:6379/0"},
  };
  for (const auto& c : cases) EXPECT_EQ(redact_secrets_in_value(c.value), c.expected);
}

TEST(CaptureRedactValue, UrlsWithoutPasswordAreKept) {
  for (const char* value :
       {"postgres://alice@db/exp", "postgres://db:5432/exp", "https://example.org/",
        "http://host:8080/x?email=a@b.org", "ssh://git@github.com/org/repo.git",
        "postgres://u:@h/db", "no url at all", "file:///tmp/x"}) {
    EXPECT_EQ(redact_secrets_in_value(value), value);
  }
}

TEST(CaptureRedactValue, SecretItemsInConninfoAndQueries) {
  EXPECT_EQ(redact_secrets_in_value("host=db user=alice password=s3cr3t dbname=exp"),
            "host=db user=alice password=<redacted> dbname=exp");
  EXPECT_EQ(redact_secrets_in_value("password='a b\\'c' dbname=x"), "password=<redacted> dbname=x");
  EXPECT_EQ(redact_secrets_in_value("https://api.example.org/v1?access_token=abc&page=2"),
            "https://api.example.org/v1?access_token=<redacted>&page=2");
  EXPECT_EQ(redact_secrets_in_value("mysql --password=pw -h db"),
            "mysql --password=<redacted> -h db");
  EXPECT_EQ(redact_secrets_in_value("pin=1234 lr=0.1", {"PIN"}), "pin=<redacted> lr=0.1");
  EXPECT_EQ(redact_secrets_in_value("lr=0.1 mypassword_hint="), "lr=0.1 mypassword_hint=");
}

// ---- capture_environment ----

TEST(CaptureEnvironment, RedactsSecretsAndKeepsTheRest) {
  const Environment env{
      {"PATH", "/usr/bin:/bin"},
      {"HOME", "/home/alice"},
      {"FOO_PASSWORD", "hunter2"},
      {"GITHUB_TOKEN", "ghp_abc"},
      {"AWS_SECRET_ACCESS_KEY", "wJalr"},
      {"aws_region", "eu-west-1"},
      {"db_password", "lower"},
      {"PGPASSWORD", "pg"},
      {"SQLTRACK_DSN_PASSWORD", "dsn"},
      {"TOKENIZERS_PARALLELISM", "false"},
      {"DATABASE_URL", "postgres://alice:s3cr3t@db/exp"},
      {"SLURM_JOB_NAME", "my job"},
      {"EMPTY", ""},
  };
  nlohmann::json captured = capture_environment(env, {"AWS_*"});
  const nlohmann::json expected{
      {"PATH", "/usr/bin:/bin"},
      {"HOME", "/home/alice"},
      {"FOO_PASSWORD", redacted()},
      {"GITHUB_TOKEN", redacted()},
      {"AWS_SECRET_ACCESS_KEY", redacted()},
      {"aws_region", redacted()},
      {"db_password", redacted()},
      {"PGPASSWORD", redacted()},
      {"SQLTRACK_DSN_PASSWORD", redacted()},
      {"TOKENIZERS_PARALLELISM", redacted()},
      {"DATABASE_URL", "postgres://alice:<redacted>@db/exp"},
      {"SLURM_JOB_NAME", "my job"},
      {"EMPTY", ""},
  };
  EXPECT_EQ(captured, expected) << "got " << captured.dump(2);
}

TEST(CaptureEnvironment, WithoutExtraPatternsOnlyBuiltInsApply) {
  nlohmann::json captured = capture_environment({{"AWS_REGION", "eu-west-1"}}, {});
  EXPECT_EQ(captured["AWS_REGION"], "eu-west-1");
}

TEST(CaptureEnvironment, InvalidUtf8NamesAndValuesAreRepaired) {
  nlohmann::json captured = capture_environment({{"LATIN1_\xE9", "caf\xE9"}}, {});
  EXPECT_NO_THROW(static_cast<void>(captured.dump()));
  EXPECT_EQ(captured["LATIN1_" + kFffd], "caf" + kFffd) << captured.dump();
}

TEST(CaptureEnvironment, CurrentEnvironmentIsCapturable) {
  ASSERT_EQ(setenv("SQLTRACK_CAPTURE_TEST_TOKEN", "ghp_secret", 1), 0);
  nlohmann::json captured = capture_environment(current_environment(), {});
  unsetenv("SQLTRACK_CAPTURE_TEST_TOKEN");
  EXPECT_TRUE(captured.contains("PATH"));
  EXPECT_EQ(captured["SQLTRACK_CAPTURE_TEST_TOKEN"], redacted());
  EXPECT_EQ(captured.dump().find("ghp_secret"), std::string::npos);
}

// ---- capture_host_facts ----

TEST(CaptureHostFacts, DescribesThisProcess) {
  HostFacts facts = capture_host_facts();
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  EXPECT_EQ(facts.hostname, host);
  EXPECT_EQ(facts.pid, static_cast<long>(getpid()));
  EXPECT_EQ(facts.ppid, static_cast<long>(getppid()));
  EXPECT_EQ(facts.cwd, std::filesystem::current_path().string());
  EXPECT_EQ(facts.uid, static_cast<unsigned>(getuid()));
  EXPECT_EQ(facts.gid, static_cast<unsigned>(getgid()));
  EXPECT_EQ(facts.os.rfind("Linux ", 0), 0u) << "os: " << facts.os;
  EXPECT_FALSE(facts.machine.empty());
  if (getuid() == 0) {
    EXPECT_EQ(facts.user, "root");
  }

  nlohmann::json json = facts.to_json();
  for (const char* key :
       {"hostname", "pid", "ppid", "cwd", "uid", "gid", "user", "os", "machine"}) {
    EXPECT_TRUE(json.contains(key)) << "missing " << key << " in " << json.dump();
  }
  EXPECT_EQ(json["pid"], facts.pid);
}

TEST(CaptureHostFacts, UidWithoutPasswdEntryGivesNoUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to take a uid that has no passwd entry";
  EXPECT_EXIT(
      {
        if (setgid(54321) != 0 || setuid(54321) != 0) std::_Exit(2);
        HostFacts facts = capture_host_facts();
        nlohmann::json json = facts.to_json();
        std::cerr << "uid=" << facts.uid << " user=" << json["user"].dump() << std::endl;
        std::_Exit(facts.uid == 54321 && facts.user.empty() && json["user"].is_null() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "uid=54321 user=null");
}

TEST(CaptureHostFacts, RemovedWorkingDirectoryGivesEmptyCwd) {
  EXPECT_EXIT(
      {
        char dir_template[] = "/tmp/sqltrack-capture-XXXXXX";
        char* dir = mkdtemp(dir_template);
        if (dir == nullptr || chdir(dir) != 0 || rmdir(dir) != 0) std::_Exit(2);
        HostFacts facts = capture_host_facts();
        std::cerr << "cwd=[" << facts.cwd << "]" << std::endl;
        std::_Exit(facts.cwd.empty() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "cwd=\\[\\]");
}

}  // namespace
}  // namespace sqltrack
