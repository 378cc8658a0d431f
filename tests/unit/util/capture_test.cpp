// Tests of what the wrapper records about a run: argv, environment with
// secrets redacted, host facts.

#include "sqltrack/util/capture.hpp"

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

TEST(CaptureUtf8, EscapeForTerminalWritesControlsAndBadBytesAsHex) {
  EXPECT_EQ(escape_for_terminal("plain h\xC3\xA9llo \\n"), "plain h\xC3\xA9llo \\n");
  EXPECT_EQ(escape_for_terminal("\x1b[2J\x07\t\x7f"), "\\x1b[2J\\x07\\x09\\x7f");
  EXPECT_EQ(escape_for_terminal("c1 \xC2\x9B x"), "c1 \\xc2\\x9b x");
  EXPECT_EQ(escape_for_terminal("caf\xE9 \xF0\x9F"), "caf\\xe9 \\xf0\\x9f");
  EXPECT_TRUE(is_valid_utf8("h\xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("caf\xE9"));
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));
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

// ---- argv: the same rule as the environment ----

// What the record keeps of an argument list: secrets replaced, near-misses kept as they are.
struct ArgvCase {
  const char* what;
  std::vector<std::string> argv;
  std::vector<std::string> recorded;
};

std::vector<std::string> recorded_args(const std::vector<std::string>& argv) {
  return capture_args(argv).get<std::vector<std::string>>();
}

const std::string kGithubToken = "ghp_" + std::string(36, 'A') + "1";

TEST(CaptureArgsRedaction, SecretsInArgvAreRedacted) {
  const std::string r = redacted();
  const ArgvCase cases[] = {
      {"option then value", {"train.py", "--password", "hunter2"}, {"train.py", "--password", r}},
      {"option=value", {"train.py", "--token=abc"}, {"train.py", "--token=" + r}},
      {"URL password", {"postgres://u:pw@h/db"}, {"postgres://u:" + r + "@h/db"}},
      {"https URL password", {"https://user:pw5@x"}, {"https://user:" + r + "@x"}},
      {"password= item", {"password=hunter4"}, {"password=" + r}},
      {"api key", {"--api-key", "k1", "--lr", "0.1"}, {"--api-key", r, "--lr", "0.1"}},
      {"api_key=", {"--api_key=k1"}, {"--api_key=" + r}},
      {"camelCase", {"--apiKey", "k1", "--authToken", "t"}, {"--apiKey", r, "--authToken", r}},
      {"private key", {"--private-key", "pk"}, {"--private-key", r}},
      {"access key", {"--aws-access-key-id", "id"}, {"--aws-access-key-id", r}},
      {"secret", {"--client-secret", "s"}, {"--client-secret", r}},
      {"passwd, one dash", {"-passwd", "p"}, {"-passwd", r}},
      {"credential", {"--credentials=c"}, {"--credentials=" + r}},
      {"hf token", {"--hf-token", "x"}, {"--hf-token", r}},
      {"cookie", {"--cookie", "sid=1"}, {"--cookie", r}},
      {"session", {"--session", "abc"}, {"--session", r}},
      {"a PAT", {"--github-pat", "x"}, {"--github-pat", r}},
      {"auth", {"--npm-auth", "x"}, {"--npm-auth", r}},
      {"a value with spaces", {"--password", "a b c"}, {"--password", r}},
      {"conninfo",
       {"psql", "host=db password=pw dbname=x"},
       {"psql", "host=db password=" + r + " dbname=x"}},
      {"docker -e", {"-e", "API_KEY=k"}, {"-e", "API_KEY=" + r}},
      {"a shell line",
       {"sh", "-c", "python t.py --password 'hunter 2' --lr 0.1"},
       {"sh", "-c", "python t.py --password " + r + " --lr 0.1"}},
      {"bearer header",
       {"curl", "-H", "Authorization: Bearer abcdef123456"},
       {"curl", "-H", "Authorization: Bearer " + r}},
      {"basic header", {"Basic dXNlcjpwYXNzd29yZA=="}, {"Basic " + r}},
      {"webhook",
       {"https://hooks.slack.com/services/T000/B000/XXXXXXXX"},
       {"https://hooks.slack.com/" + r}},
      {"github token", {kGithubToken}, {r}},
      {"token as URL user",
       {"https://" + kGithubToken + "@github.com/o/r.git"},
       {"https://" + r + "@github.com/o/r.git"}},
      {"fine-grained github", {"github_pat_11ABCDEFG0123456789_abcdefghijklmnop"}, {r}},
      {"gitlab", {"--url=x", "glpat-abcdefghij0123456789"}, {"--url=x", r}},
      {"slack bot", {"xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx"}, {r}},
      {"openai", {"OPENAI=sk-proj-abc123def456ghi789jkl012"}, {"OPENAI=" + r}},
      {"aws key id", {"AKIAIOSFODNN7EXAMPLE"}, {r}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(recorded_args(c.argv), c.recorded) << c.what;
  }
}

TEST(CaptureArgsRedaction, NearMissesStayReadable) {
  const std::vector<std::vector<std::string>> kept = {
      {"--task-key", "vision"},
      {"--tokenizer", "bpe"},
      {"--max-tokens", "512"},
      {"--num-tokens=4096"},
      {"--token-dropout", "0.1"},
      {"--keyframes", "10"},
      {"pip", "install", "sk-learn"},
      {"--model", "sk-learn-compat"},
      {"--sort-key", "loss", "--cache-key=abc"},
      {"--password-file", "/run/secrets/db"},
      {"--session-name", "run1"},
      {"--comment", "Basic training"},
      {"--passes", "3"},
      {"https://huggingface.co/bert-base-uncased"},
      {"python", "train.py", "--lr", "0.1", "trainer.max_tokens=100"},
  };
  for (const auto& argv : kept) {
    EXPECT_EQ(recorded_args(argv), argv) << nlohmann::json(argv).dump();
  }
}

TEST(CaptureEnvironmentRedaction, CredentialValuesAndNamesWhateverTheRule) {
  const Environment env{
      {"AUTH_HEADER", "Bearer abcdef0123456789"},
      {"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T000/B000/XXXXXXXX"},
      {"SOME_SETTING", kGithubToken},
      {"MY_COOKIE", "sid=1"},
      {"SESSION", "abc"},
      {"GITHUB_PAT", "x"},
      {"NPM_AUTH", "x"},
      {"EXTRA_ARGS", "--token abc --lr 0.1"},
  };
  const nlohmann::json expected{
      {"AUTH_HEADER", "Bearer <redacted>"},
      {"SLACK_WEBHOOK_URL", "https://hooks.slack.com/<redacted>"},
      {"SOME_SETTING", redacted()},
      {"MY_COOKIE", redacted()},
      {"SESSION", redacted()},
      {"GITHUB_PAT", redacted()},
      {"NPM_AUTH", redacted()},
      {"EXTRA_ARGS", "--token <redacted> --lr 0.1"},
  };
  nlohmann::json captured = capture_environment(env, {});
  EXPECT_EQ(captured, expected) << "got " << captured.dump(2);
}

TEST(CaptureEnvironmentRedaction, NearMissesStayReadable) {
  const Environment env{
      {"SLURM_JOB_ID", "4242"},
      {"SLURM_JOB_NAME", "resnet"},
      {"SLURM_SUBMIT_DIR", "/home/alice/exp"},
      {"SLURM_STEP_TASKS_PER_NODE", "4"},
      {"CUDA_VISIBLE_DEVICES", "0,1"},
      {"PYTHONPATH", "/opt/lib:/home/alice/src"},
      {"TOKENIZERS_PARALLELISM", "false"},
      {"XDG_SESSION_TYPE", "tty"},
      {"SSH_AUTH_SOCK", "/tmp/ssh-x/agent.1"},
      {"MODEL", "sk-learn"},
      {"HF_ENDPOINT", "https://huggingface.co"},
  };
  nlohmann::json captured = capture_environment(env, {});
  EXPECT_EQ(captured, nlohmann::json(env)) << "got " << captured.dump(2);
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
                           "GITHUB_PAT",
                           "NPM_AUTH",
                           "MY_COOKIE",
                           "SESSION",
                           "AWS_SESSION_TOKEN"}) {
    EXPECT_TRUE(is_secret_name(name, {})) << name << " should be redacted";
  }
}

TEST(CaptureRedactPatterns, HarmlessNamesAreKept) {
  for (const char* name :
       {"PATH", "HOME", "USER", "PWD", "OLDPWD", "LANG", "SLURM_JOB_ID", "CUDA_VISIBLE_DEVICES",
        "SSH_AUTH_SOCK", "COMPASS_DIR", "BYPASS_CACHE", "KEYRING_BACKEND", "PYTHONHASHSEED",
        "OMP_NUM_THREADS", "TOKENIZERS_PARALLELISM", "PYTHONPATH", "SSH_KEY_PATH"}) {
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
      {"TOKENIZERS_PARALLELISM", "false"},
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
