// scripts/check-layering.sh: the tree as it is passes, and each kind of broken rule is named
// with its file and line. The script runs on a copy of src/ with one line added.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kScript = fs::path(SQLTRACK_SOURCE_DIR) / "scripts" / "check-layering.sh";

// A copy of the library's sources with `line` appended to `file` (relative to src/).
class SourceCopy {
 public:
  SourceCopy() {
    fs::copy(fs::path(SQLTRACK_SOURCE_DIR) / "src", dir_.path() / "src",
             fs::copy_options::recursive);
  }
  // Returns the line number the added line has.
  int append(const std::string& file, const std::string& line) {
    fs::path path = dir_.path() / "src" / file;
    int lines = 0;
    if (fs::exists(path)) {
      std::ifstream in(path);
      for (std::string text; std::getline(in, text);) ++lines;
    }
    std::ofstream(path, std::ios::app) << line << '\n';
    return lines + 1;
  }
  sqltrack::test::CommandResult check() const {
    return sqltrack::test::run_command({kScript.string(), (dir_.path() / "src").string()});
  }
  std::string where(const std::string& file, int line) const {
    return (dir_.path() / "src" / file).string() + ":" + std::to_string(line) + ": ";
  }

 private:
  sqltrack::test::TempDir dir_;
};

TEST(CheckLayering, TheTreeAsItIsFollowsTheRules) {
  auto result = sqltrack::test::run_command({kScript.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST(CheckLayering, AnIncludeOfAFolderNotAllowedIsNamedWithFileAndLine) {
  SourceCopy copy;
  int line = copy.append("sqltrack/util/timestamp.cpp", "#include \"sqltrack/db/database.hpp\"");
  auto result = copy.check();
  EXPECT_EQ(result.exit_code, 1) << result.err;
  std::string expected = copy.where("sqltrack/util/timestamp.cpp", line) +
                         "util/ may not include db/ (sqltrack/db/database.hpp)";
  EXPECT_NE(result.err.find(expected), std::string::npos)
      << "expected: " << expected << "\ngot: " << result.err;
}

TEST(CheckLayering, MetricsMayNotUseItsSqlSubfolder) {
  SourceCopy copy;
  int line = copy.append("sqltrack/metrics/protocol.hpp",
                         "#include \"sqltrack/metrics/sql/metric_store.hpp\"");
  auto result = copy.check();
  EXPECT_EQ(result.exit_code, 1) << result.err;
  std::string expected =
      copy.where("sqltrack/metrics/protocol.hpp", line) + "metrics/ may not include metrics/sql/";
  EXPECT_NE(result.err.find(expected), std::string::npos)
      << "expected: " << expected << "\ngot: " << result.err;
}

TEST(CheckLayering, OnlyTheProgramsIncludeTheWrapper) {
  SourceCopy copy;
  int line =
      copy.append("sqltrack/read/export.cpp", "#include \"sqltrack/wrapper/run_session.hpp\"");
  auto result = copy.check();
  EXPECT_EQ(result.exit_code, 1) << result.err;
  std::string expected =
      copy.where("sqltrack/read/export.cpp", line) + "only src/cli/ may include wrapper/";
  EXPECT_NE(result.err.find(expected), std::string::npos)
      << "expected: " << expected << "\ngot: " << result.err;
}

TEST(CheckLayering, DriverHeadersOutsideDbAreNamed) {
  SourceCopy copy;
  int line = copy.append("sqltrack/store/store.cpp", "#include <libpq-fe.h>");
  auto result = copy.check();
  EXPECT_EQ(result.exit_code, 1) << result.err;
  std::string expected =
      copy.where("sqltrack/store/store.cpp", line) + "libpq and sqlite3 headers belong to db/ only";
  EXPECT_NE(result.err.find(expected), std::string::npos)
      << "expected: " << expected << "\ngot: " << result.err;
}

TEST(CheckLayering, DdlOutsideSchemaIsNamedButACommentMayMentionIt) {
  SourceCopy copy;
  copy.append("sqltrack/store/store.cpp", "// ALTER TABLE metrics is done by schema/");
  int line = copy.append("sqltrack/store/store.cpp",
                         "static const char* kDdl = \"ALTER TABLE runs ADD COLUMN x\";");
  auto result = copy.check();
  EXPECT_EQ(result.exit_code, 1) << result.err;
  std::string expected = copy.where("sqltrack/store/store.cpp", line) + "DDL belongs to schema/";
  EXPECT_NE(result.err.find(expected), std::string::npos)
      << "expected: " << expected << "\ngot: " << result.err;
  EXPECT_EQ(result.err.find(copy.where("sqltrack/store/store.cpp", line - 1)), std::string::npos)
      << "the comment was taken for DDL: " << result.err;
}

TEST(CheckLayering, AFileInNoFolderIsNamed) {
  SourceCopy copy;
  copy.append("sqltrack/loose.cpp", "int loose = 1;");
  auto result = copy.check();
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("loose.cpp: in no folder of ARCHITECTURE.md"), std::string::npos)
      << result.err;
}

}  // namespace
