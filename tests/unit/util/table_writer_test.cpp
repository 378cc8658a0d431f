// CSV (RFC 4180) and JSON lines as `sqltrack export` writes them.
#include "sqltrack/util/table_writer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

namespace sqltrack {
namespace {

std::string csv_field(std::string_view text) {
  std::string out;
  append_csv_field(out, text);
  return out;
}

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::string write_table(bool csv, const std::vector<std::string>& columns,
                        const std::vector<std::vector<Cell>>& rows) {
  std::ostringstream out;
  auto writer = csv ? make_csv_writer(out) : make_json_lines_writer(out);
  writer->header(columns);
  for (const auto& row : rows) writer->row(row);
  writer->finish();
  return out.str();
}

TEST(CsvField, PlainTextIsWrittenAsItIs) {
  EXPECT_EQ(csv_field("resnet50"), "resnet50");
  EXPECT_EQ(csv_field("with space"), "with space");
  EXPECT_EQ(csv_field("caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93") << "UTF-8 as it is";
  EXPECT_EQ(csv_field(""), "");
}

TEST(CsvField, CommaQuoteCrAndLfAreQuotedWithQuotesDoubled) {
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("\""), "\"\"\"\"");
  EXPECT_EQ(csv_field("line 1\nline 2"), "\"line 1\nline 2\"");
  EXPECT_EQ(csv_field("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(csv_field("[\"a\",\"b\"]"), "\"[\"\"a\"\",\"\"b\"\"]\"");
}

TEST(CsvWriter, HeaderRowsCrlfNullAndEmptyString) {
  std::string csv = write_table(
      true, {"id", "name", "note", "ok", "x", "args"},
      {{std::int64_t{1}, std::string("a,b"), std::monostate{}, true, 0.5,
        JsonText{"[\"x\",\"y\"]"}},
       {std::int64_t{-2}, std::string(""), std::string("q\"q"), false, 3.0, JsonText{"[]"}}});
  EXPECT_EQ(csv,
            "id,name,note,ok,x,args\r\n"
            "1,\"a,b\",,true,0.5,\"[\"\"x\"\",\"\"y\"\"]\"\r\n"
            "-2,\"\",\"q\"\"q\",false,3.0,[]\r\n");
}

TEST(CsvWriter, HeaderNamesAreQuotedToo) {
  EXPECT_EQ(write_table(true, {"config.a,b", "plain"}, {}), "\"config.a,b\",plain\r\n");
}

TEST(FloatFormat, ShortestExactFormStaysAFloat) {
  EXPECT_EQ(format_float(0.1), "0.1");
  EXPECT_EQ(format_float(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_float(3.0), "3.0");
  EXPECT_EQ(format_float(-0.0), "-0.0");
  EXPECT_EQ(format_float(1e20), "1e+20");
  EXPECT_EQ(format_float(1.5e-7), "1.5e-07");
  EXPECT_EQ(format_float(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_float(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(format_float(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_string("plain"), "\"plain\"");
  EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_string("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
  EXPECT_EQ(json_string(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(json_string(std::string("nul\0x", 5)), "\"nul\\u0000x\"");
}

TEST(JsonString, ValidUtf8PassesInvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(json_string("caf\xc3\xa9 \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
  const std::string replacement = "\xef\xbf\xbd";
  EXPECT_EQ(json_string("a\xff"
                        "b"),
            "\"a" + replacement + "b\"");
  EXPECT_EQ(json_string("\xc0\xaf"), "\"" + replacement + replacement + "\"") << "overlong";
  EXPECT_EQ(json_string("\xed\xa0\x80"), "\"" + replacement + replacement + replacement + "\"")
      << "surrogate";
  EXPECT_EQ(json_string("cut \xe2\x9c"), "\"cut " + replacement + replacement + "\"");
}

TEST(JsonLinesWriter, OneObjectPerLineNumbersAsNumbersNullAsNull) {
  std::string json =
      write_table(false, {"run_id", "name", "x", "ok", "args", "missing", "bad"},
                  {{std::int64_t{7}, std::string("a\nb"), 2.0, false, JsonText{"[\"p\",1]"},
                    std::monostate{}, std::numeric_limits<double>::quiet_NaN()},
                   {std::int64_t{8}, std::string("c"), 0.25, true, JsonText{"{}"}, std::monostate{},
                    -std::numeric_limits<double>::infinity()}});
  EXPECT_EQ(json,
            "{\"run_id\":7,\"name\":\"a\\nb\",\"x\":2.0,\"ok\":false,\"args\":[\"p\",1],"
            "\"missing\":null,\"bad\":null}\n"
            "{\"run_id\":8,\"name\":\"c\",\"x\":0.25,\"ok\":true,\"args\":{},"
            "\"missing\":null,\"bad\":null}\n");
}

TEST(JsonLinesWriter, NoRowsWritesNothing) {
  EXPECT_EQ(write_table(false, {"a"}, {}), "");
}

TEST(TableWriter, LongTablesReachTheStreamWhole) {
  std::ostringstream out;
  auto writer = make_csv_writer(out);
  writer->header({"i"});
  for (std::int64_t i = 0; i < 50000; ++i) writer->row(std::vector<Cell>{i});
  writer->finish();
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 50001);
  EXPECT_TRUE(text.ends_with("\r\n49999\r\n"));
}

TEST(TableWriter, AFailedStreamIsAnError) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  auto writer = make_json_lines_writer(out);
  writer->header({"a"});
  writer->row(std::vector<Cell>{std::int64_t{1}});
  EXPECT_THROW(writer->finish(), std::exception);
}

}  // namespace
}  // namespace sqltrack
