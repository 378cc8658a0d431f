#include "sqltrack/metrics/sql/metric_columns.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sqltrack {

void PrintTo(MetricColumnKind kind, std::ostream* out) {
  switch (kind) {
    case MetricColumnKind::floating:
      *out << "floating";
      return;
    case MetricColumnKind::integer:
      *out << "integer";
      return;
    case MetricColumnKind::boolean:
      *out << "boolean";
      return;
    case MetricColumnKind::text:
      *out << "text";
      return;
    case MetricColumnKind::timestamp:
      *out << "timestamp";
      return;
    case MetricColumnKind::other:
      *out << "other";
      return;
  }
  *out << "MetricColumnKind(" << static_cast<int>(kind) << ")";
}

namespace {

using namespace std::string_literals;
using Kind = MetricColumnKind;

constexpr double kInfinity = std::numeric_limits<double>::infinity();

struct TypeCase {
  std::string declared;
  Kind expected;
};

TEST(MetricColumnKind, ReadsPostgresDataTypes) {
  const std::vector<TypeCase> cases = {
      {"double precision", Kind::floating},
      {"real", Kind::floating},
      {"bigint", Kind::integer},
      {"integer", Kind::integer},
      {"smallint", Kind::integer},
      {"boolean", Kind::boolean},
      {"text", Kind::text},
      {"character varying", Kind::text},
      {"character", Kind::text},
      {"timestamp with time zone", Kind::timestamp},
      {"timestamp without time zone", Kind::timestamp},
      {"jsonb", Kind::other},
      {"json", Kind::other},
      {"numeric", Kind::other},
      {"date", Kind::other},
      {"ARRAY", Kind::other},
      {"USER-DEFINED", Kind::other},
      {"", Kind::other},
      {"DOUBLE PRECISION", Kind::floating},
  };
  for (const TypeCase& c : cases) {
    EXPECT_EQ(metric_column_kind(db::Engine::postgres, c.declared), c.expected)
        << "PostgreSQL data_type \"" << c.declared << "\"";
  }
}

TEST(MetricColumnKind, ReadsSqliteDeclaredTypes) {
  const std::vector<TypeCase> cases = {
      {"REAL", Kind::floating},
      {"DOUBLE", Kind::floating},
      {"DOUBLE PRECISION", Kind::floating},
      {"FLOAT", Kind::floating},
      {"real", Kind::floating},
      {"INTEGER", Kind::integer},
      {"INT", Kind::integer},
      {"BIGINT", Kind::integer},
      {"int", Kind::integer},
      {"BOOLEAN", Kind::boolean},
      {"BOOL", Kind::boolean},
      {"TEXT", Kind::text},
      {"VARCHAR(20)", Kind::text},
      {"CLOB", Kind::text},
      {"TIMESTAMP", Kind::timestamp},
      {"DATETIME", Kind::timestamp},
      {"", Kind::other},
      {"BLOB", Kind::other},
      {"NUMERIC", Kind::other},
      {"JSON", Kind::other},
  };
  for (const TypeCase& c : cases) {
    EXPECT_EQ(metric_column_kind(db::Engine::sqlite, c.declared), c.expected)
        << "SQLite declared type \"" << c.declared << "\"";
  }
}

MetricColumn column(Kind kind, std::string declared = "t", std::string name = "m") {
  return MetricColumn{std::move(name), kind, std::move(declared)};
}

std::string describe(const MetricValue& value) {
  return testing::PrintToString(value);
}

// Every column kind against every value kind: which fit.
TEST(MetricValueMismatch, AcceptsWhatEachColumnKindTakes) {
  const MetricValue integer = std::int64_t{3};
  const MetricValue whole = 3.0;
  const MetricValue half = 0.5;
  const MetricValue boolean = true;
  const MetricValue text = "x"s;
  const MetricValue timestamp = MetricTimestamp{"2026-11-23T10:15:30Z"};
  struct Case {
    Kind kind;
    std::vector<MetricValue> fit;
    std::vector<MetricValue> refused;
  };
  const std::vector<Case> cases = {
      {Kind::floating, {integer, whole, half}, {boolean, text, timestamp}},
      {Kind::integer, {integer, whole}, {half, boolean, text, timestamp}},
      {Kind::boolean, {boolean}, {integer, whole, half, text, timestamp}},
      {Kind::text, {text, timestamp}, {integer, whole, half, boolean}},
      {Kind::timestamp, {timestamp}, {integer, whole, half, boolean, text}},
      {Kind::other, {integer, whole, half, boolean, text, timestamp}, {}},
  };
  for (const Case& c : cases) {
    const MetricColumn col = column(c.kind);
    for (const MetricValue& value : c.fit) {
      const auto mismatch = metric_value_mismatch(col, value);
      EXPECT_EQ(mismatch, std::nullopt) << testing::PrintToString(c.kind) << " column, value "
                                        << describe(value) << ": expected it to fit";
    }
    for (const MetricValue& value : c.refused) {
      EXPECT_NE(metric_value_mismatch(col, value), std::nullopt)
          << testing::PrintToString(c.kind) << " column, value " << describe(value)
          << ": expected it refused";
    }
  }
}

TEST(MetricValueMismatch, NamesTheColumnItsTypeAndBothKinds) {
  struct Case {
    MetricColumn column;
    MetricValue value;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {column(Kind::integer, "bigint", "epoch"), 0.5,
       "column \"epoch\" (bigint) takes an integer, got a float"},
      {column(Kind::floating, "double precision", "loss"), "high"s,
       "column \"loss\" (double precision) takes a number, got a string"},
      {column(Kind::boolean, "BOOLEAN", "done"), std::int64_t{1},
       "column \"done\" (BOOLEAN) takes true or false, got an integer"},
      {column(Kind::text, "TEXT", "phase"), false,
       "column \"phase\" (TEXT) takes a quoted string, got a boolean"},
      {column(Kind::timestamp, "timestamp with time zone", "at"), "yesterday"s,
       "column \"at\" (timestamp with time zone) takes an ISO 8601 timestamp, got a string"},
      {column(Kind::floating, "REAL", "lr"), MetricTimestamp{"2026-11-23T10:15:30Z"},
       "column \"lr\" (REAL) takes a number, got a timestamp"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(metric_value_mismatch(c.column, c.value), c.expected)
        << "value " << describe(c.value);
  }
}

TEST(MetricValueMismatch, TakesOnlyIntegralFiniteFloatsInIntegerColumns) {
  const MetricColumn col = column(Kind::integer, "INTEGER", "n");
  for (const double fits : {0.0, -0.0, 1.0, -42.0, 1e15, 9.0e18, -9.0e18}) {
    EXPECT_EQ(metric_value_mismatch(col, fits), std::nullopt) << fits << " should fit";
  }
  for (const double refused : {0.5, -1.25, 1e-300, 1e19, -1e19, 1e300, kInfinity, -kInfinity,
                               std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_EQ(metric_value_mismatch(col, refused),
              "column \"n\" (INTEGER) takes an integer, got a float")
        << refused << " should be refused";
  }
}

TEST(MetricValueMismatch, TakesNanAndInfinitiesInFloatColumns) {
  const MetricColumn col = column(Kind::floating, "REAL");
  for (const double v : {std::numeric_limits<double>::quiet_NaN(), kInfinity, -kInfinity}) {
    EXPECT_EQ(metric_value_mismatch(col, v), std::nullopt) << v;
  }
  EXPECT_EQ(metric_value_mismatch(col, std::numeric_limits<std::int64_t>::min()), std::nullopt);
}

TEST(MetricDbValue, BindsEachValueKind) {
  const MetricColumn other = column(Kind::other);
  EXPECT_EQ(metric_db_value(other, std::int64_t{-5}), db::Value(std::int64_t{-5}));
  EXPECT_EQ(metric_db_value(other, 0.25), db::Value(0.25));
  EXPECT_EQ(metric_db_value(other, 3.0), db::Value(3.0)) << "only an integer column makes it one";
  EXPECT_EQ(metric_db_value(other, true), db::Value(true));
  EXPECT_EQ(metric_db_value(other, "x\ny"s), db::Value("x\ny"s));
  EXPECT_EQ(metric_db_value(other, MetricTimestamp{"2026-11-23T10:15:30.5+01:00"}),
            db::Value("2026-11-23T10:15:30.5+01:00"s))
      << "a timestamp is bound as its ISO 8601 text";
}

TEST(MetricDbValue, MakesIntegralFloatsIntegersForIntegerColumns) {
  const MetricColumn integer = column(Kind::integer, "bigint");
  EXPECT_EQ(metric_db_value(integer, 3.0), db::Value(std::int64_t{3}));
  EXPECT_EQ(metric_db_value(integer, -0.0), db::Value(std::int64_t{0}));
  EXPECT_EQ(metric_db_value(integer, 9.0e18), db::Value(std::int64_t{9'000'000'000'000'000'000}));
  EXPECT_EQ(metric_db_value(integer, std::int64_t{7}), db::Value(std::int64_t{7}));
  EXPECT_EQ(metric_db_value(integer, 0.5), db::Value(0.5))
      << "a fraction is not rounded (the mismatch check refuses it first)";
}

TEST(MetricDbValue, KeepsIntegersAndFloatsForFloatColumns) {
  const MetricColumn floating = column(Kind::floating, "REAL");
  EXPECT_EQ(metric_db_value(floating, std::int64_t{2}), db::Value(std::int64_t{2}));
  EXPECT_EQ(metric_db_value(floating, 2.0), db::Value(2.0));
  const db::Value text_ts =
      metric_db_value(column(Kind::text, "TEXT"), MetricTimestamp{"2026-11-23T10:15:30Z"});
  EXPECT_EQ(text_ts, db::Value("2026-11-23T10:15:30Z"s));
}

TEST(MetricNewColumnName, AcceptsLowerCaseIdentifiers) {
  const std::vector<std::string> names = {
      "loss",  "val_top1", "_private",    "_", "a", "x9", std::string(kMaxMetricKeyBytes, 'a'),
      "steps", "run_ids",  "progress_pct"};
  for (const std::string& name : names) {
    EXPECT_TRUE(is_valid_new_metric_column_name(name)) << "expected \"" << name << "\" valid";
  }
}

TEST(MetricNewColumnName, RefusesOtherNames) {
  const std::vector<std::string> names = {""s,
                                          "Loss"s,
                                          "LOSS"s,
                                          "lossA"s,
                                          "1abc"s,
                                          "9"s,
                                          std::string(kMaxMetricKeyBytes + 1, 'a'),
                                          "step"s,
                                          "progress"s,
                                          "run_id"s,
                                          "a\"b"s,
                                          "\"loss\""s,
                                          "a b"s,
                                          " loss"s,
                                          "loss;"s,
                                          "a;DROP TABLE metrics"s,
                                          "a-b"s,
                                          "a.b"s,
                                          "l\xC3\xB6ss"s,
                                          "a'b"s,
                                          "a\0b"s,
                                          "a\nb"s};
  for (const std::string& name : names) {
    EXPECT_FALSE(is_valid_new_metric_column_name(name))
        << "expected " << testing::PrintToString(name) << " refused";
  }
}

MetricColumns some_columns() {
  MetricColumns columns;
  columns.add({"train_loss", Kind::floating, "double precision"});
  columns.add({"epoch", Kind::integer, "bigint"});
  columns.add({"Phase", Kind::text, "text"});
  return columns;
}

TEST(MetricColumns, FindsColumnsByExactName) {
  const MetricColumns columns = some_columns();
  EXPECT_EQ(columns.size(), 3u);
  const MetricColumn* epoch = columns.find("epoch");
  ASSERT_NE(epoch, nullptr);
  EXPECT_EQ(epoch->kind, Kind::integer);
  EXPECT_EQ(epoch->declared_type, "bigint");
  EXPECT_EQ(columns.find("Epoch"), nullptr) << "names are case-sensitive";
  EXPECT_EQ(columns.find("phase"), nullptr);
  EXPECT_NE(columns.find("Phase"), nullptr);
  EXPECT_EQ(columns.find(""), nullptr);
}

TEST(MetricColumns, AddReplacesAColumnOfTheSameName) {
  MetricColumns columns = some_columns();
  columns.add({"epoch", Kind::floating, "REAL"});
  EXPECT_EQ(columns.size(), 3u);
  ASSERT_NE(columns.find("epoch"), nullptr);
  EXPECT_EQ(columns.find("epoch")->kind, Kind::floating);
  EXPECT_EQ(columns.find("epoch")->declared_type, "REAL");
  columns.add({"lr", Kind::floating, "REAL"});
  EXPECT_EQ(columns.size(), 4u);
}

TEST(MetricColumns, ResolvesAKeyByExactNameFirstThenByItsMappedName) {
  MetricColumns columns = some_columns();
  columns.add({"trainLoss", Kind::floating, "double precision"});
  columns.add({"val_loss", Kind::floating, "double precision"});
  const auto resolved = [&](std::string_view key) {
    const MetricColumn* column = columns.resolve(key);
    return column ? column->name : "<none>";
  };
  EXPECT_EQ(resolved("trainLoss"), "trainLoss") << "a migration's column with capitals";
  EXPECT_EQ(resolved("Train_Loss"), "train_loss");
  EXPECT_EQ(resolved("train-loss"), "train_loss");
  EXPECT_EQ(resolved("val/loss"), "val_loss");
  EXPECT_EQ(resolved("Val Loss"), "val_loss");
  EXPECT_EQ(resolved("EPOCH"), "epoch");
  EXPECT_EQ(resolved("Phase"), "Phase");
  EXPECT_EQ(resolved("phase"), "<none>") << "a column with capitals is found by its exact name";
  EXPECT_EQ(resolved("valLoss"), "<none>") << "valLoss maps to valloss";
  EXPECT_EQ(resolved("step"), "<none>") << "the key columns are not metric columns";
}

const std::string kHowToAdd =
    " (add it with a migration, or let sqltrack-run add it: --add-columns or add_columns = true)";

TEST(MetricColumns, ExplainsAnUnknownColumn) {
  const MetricColumns columns = some_columns();
  EXPECT_EQ(columns.unknown_column_reason("val_loss"), "unknown column \"val_loss\"" + kHowToAdd);
  EXPECT_EQ(MetricColumns().unknown_column_reason("x"), "unknown column \"x\"" + kHowToAdd);
  EXPECT_EQ(columns.unknown_column_reason("Val Loss"), "unknown column \"val_loss\"" + kHowToAdd)
      << "the column a key would go to, by its mapped name";
}

TEST(MetricColumns, SuggestsAColumnThatDiffersOnlyInCase) {
  const MetricColumns columns = some_columns();
  EXPECT_EQ(columns.unknown_column_reason("phase"),
            "unknown column \"phase\" (did you mean \"Phase\"? names are case-sensitive)");
  EXPECT_EQ(columns.unknown_column_reason("PHASE"),
            "unknown column \"phase\" (did you mean \"Phase\"? names are case-sensitive)");
  EXPECT_EQ(columns.unknown_column_reason("train_loss2"),
            "unknown column \"train_loss2\"" + kHowToAdd)
      << "only a difference in case earns a suggestion";
}

}  // namespace
}  // namespace sqltrack
