// Inputs the fuzzers in fuzz/ found (scripts/fuzz.sh), kept as regression tests.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "sqltrack/config/config.hpp"
#include "sqltrack/journal/journal.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/redaction.hpp"
#include "sqltrack/util/timestamp.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::TempDir;
using test::write_file;

// resolve_settings promises ConfigError naming the file for any invalid config; for YAML
// whose key, or list item, is itself a list or a mapping, yaml-cpp's
// YAML::TypedBadConversion<std::string> escaped instead ("yaml-cpp: error at line 1,
// column 1: bad conversion", without the file's name). config_fuzzer found it within seconds.
void expect_config_error_naming_file(const std::string& yaml) {
  TempDir dir;
  write_file(dir / "sqltrack.yaml", yaml);
  try {
    resolve_settings({}, {}, dir.path());
    ADD_FAILURE() << "no error for sqltrack.yaml: " << yaml;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("sqltrack.yaml"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a ConfigError for sqltrack.yaml: " << yaml << "\n  " << e.what();
  }
}

TEST(FuzzFindings, YamlKeyThatIsAListIsAConfigError) {
  expect_config_error_naming_file("[a]: b\n");
}

TEST(FuzzFindings, YamlKeyThatIsAMappingIsAConfigError) {
  expect_config_error_naming_file("{a: b}: c\n");
  expect_config_error_naming_file("? host: x\n: y\n");
}

TEST(FuzzFindings, YamlListItemThatIsAListIsAConfigError) {
  expect_config_error_naming_file("env_redact: [[MY_*]]\n");
}

TEST(FuzzFindings, YamlListItemThatIsAMappingIsAConfigError) {
  expect_config_error_naming_file("env_redact:\n  - {a: b}\n");
}

// journal_reader_fuzzer: a record whose time lies outside what the clock holds (year 1013 in
// a header's start time, after one changed digit) overflowed converting it to nanoseconds,
// undefined behaviour that UBSan reported; the time came back as some other time. Such a
// record is now skipped as malformed, with its line number, and the others are read.
TEST(FuzzFindings, JournalTimeOutsideTheClockIsAMalformedRecord) {
  EXPECT_EQ(parse_timestamp("1013-12-02 07:23:19.025768+00:00"), std::nullopt);
  EXPECT_EQ(parse_timestamp("9999-01-01 00:00:00+00:00"), std::nullopt);
  EXPECT_NE(parse_timestamp("2261-12-31 23:59:59+00:00"), std::nullopt);
  EXPECT_NE(parse_timestamp("1700-01-01T00:00:00Z"), std::nullopt);

  TempDir dir;
  const std::string header =
      journal_line({{"type", "header"}, {"version", 1}, {"client_id", "c"}, {"run_id", 7}});
  const std::string past = journal_line({{"type", "heartbeat"}, {"time", "1013-12-02 07:23:19Z"}});
  const std::string now = journal_line({{"type", "heartbeat"}, {"time", "2026-12-02 07:23:19Z"}});
  write_file(dir / "run.journal", header + past + now);
  JournalContents contents = read_journal(dir / "run.journal");
  ASSERT_TRUE(contents.header.has_value());
  EXPECT_EQ(contents.records.size(), 1u) << "the record of year 1013 is skipped";
  ASSERT_EQ(contents.problems.size(), 1u);
  EXPECT_NE(contents.problems[0].find("line 2"), std::string::npos) << contents.problems[0];
}

// journal_reader_fuzzer: a run id, exit code or other whole number written as a float too large
// for its type (run_id 5.5e113) was converted anyway, which is undefined (UBSan stopped on it)
// and gave some run id. Such a header or record is malformed; a whole number in range is read.
TEST(FuzzFindings, JournalNumberOutsideItsTypeIsMalformed) {
  TempDir dir;
  const std::string finish_ok = journal_line({{"type", "finish"},
                                              {"status", "COMPLETED"},
                                              {"detail", "exit 0"},
                                              {"time", "2026-12-02 07:23:19Z"},
                                              {"exit_code", 0},
                                              {"signal", nullptr},
                                              {"core_dumped", false},
                                              {"wall_seconds", 1.0},
                                              {"cpu_user_seconds", 0.5},
                                              {"cpu_system_seconds", 0.1},
                                              {"max_rss_kib", 1024}});
  nlohmann::json huge_exit = nlohmann::json::parse(finish_ok.substr(finish_ok.find('{')));
  huge_exit["exit_code"] = 1e300;
  nlohmann::json fractional_rss = huge_exit;
  fractional_rss["exit_code"] = 0;
  fractional_rss["max_rss_kib"] = 1.5;

  write_file(
      dir / "huge.journal",
      journal_line(
          {{"type", "header"}, {"version", 1}, {"client_id", "c"}, {"run_id", 5.55556e113}}) +
          finish_ok);
  JournalContents huge = read_journal(dir / "huge.journal");
  EXPECT_FALSE(huge.header.has_value())
      << "run_id 5.55556e113 was read as run " << huge.header->run_id.value_or(0);

  write_file(dir / "records.journal",
             journal_line({{"type", "header"}, {"version", 1}, {"client_id", "c"}, {"run_id", 7}}) +
                 journal_line(huge_exit) + journal_line(fractional_rss) + finish_ok);
  JournalContents records = read_journal(dir / "records.journal");
  ASSERT_TRUE(records.header.has_value());
  EXPECT_EQ(records.header->run_id, 7);
  EXPECT_EQ(records.records.size(), 1u) << "only the finish with whole numbers in range is read";
  EXPECT_EQ(records.problems.size(), 2u);
}

// queue_file_fuzzer: a conninfo value in quotes with more after the closing quote
// (password='\n; ... password='\n" ...) was redacted up to the quote only; what followed
// read as a value of its own when the record was redacted again. Redacting is now stable:
// the value goes up to the next separator.
TEST(FuzzFindings, RedactingARecordAgainChangesNothing) {
  const std::string line =
      "mysql \"host=db password='\\n; printf \"%sr:pw6@x password=sql \"host=db "
      "password='\\n\" \"$SQLTRACK_RUN_ID\" >> ids";
  const std::string once = redact_secrets_in_value(line);
  EXPECT_EQ(redact_secrets_in_value(once), once);
  EXPECT_EQ(once, "mysql \"host=db password=<redacted> \"$SQLTRACK_RUN_ID\" >> ids");
  const std::vector<std::string> argv{"/bin/sh", "-c", line};
  EXPECT_EQ(redact_args(redact_args(argv)), redact_args(argv));
}

// queue_file_fuzzer: a stray quote inside a redacted token (HF_TOKEN=hf_x"y...) made the words
// after it read as one quoted word, so the value of a later --api-key was not seen; once the
// token was redacted (its quote with it), a second look found it. Redaction now looks again
// until it finds nothing more.
TEST(FuzzFindings, ValueOfASecretOptionAfterAStrayQuoteIsRedacted) {
  const std::string line = "export HF_TOKEN=hf_x\"yz; python t.py --api-key \"$KEY\" --lr 0.1";
  const std::string once = redact_secrets_in_value(line);
  EXPECT_EQ(once, "export HF_TOKEN=<redacted>; python t.py --api-key <redacted> --lr 0.1");
  EXPECT_EQ(redact_secrets_in_value(once), once);
}

}  // namespace
}  // namespace sqltrack
