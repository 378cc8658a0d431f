// slurm-sync's decisions and its Slurm lookups, and submit's parsing, with
// only Slurm's answers faked.
#include <gtest/gtest.h>

#include "slurm_fake_tools.hpp"
#include "sqltrack/slurm/slurm_submit.hpp"
#include "sqltrack/slurm/slurm_sync.hpp"

namespace sqltrack {
namespace {

using namespace std::chrono_literals;

SlurmJobState slurm_state(const std::string& state, const std::string& reason = "None",
                          int restarts = 0, const std::string& exit_code = "0:0") {
  SlurmJobState s;
  s.job_id = "12";
  s.state = state;
  s.reason = reason;
  s.restarts = restarts;
  s.exit_code = exit_code;
  return s;
}

TEST(SlurmSyncParse, JobLabels) {
  auto plain = parse_slurm_job_label("12");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->job_id, 12);
  EXPECT_FALSE(plain->array_task_id);
  auto task = parse_slurm_job_label("12_3");
  ASSERT_TRUE(task);
  EXPECT_EQ(task->array_task_id, 3);
  for (const char* bad : {"", "x", "12_", "_3", "12_x", "-1", "12_3_4", "0"}) {
    EXPECT_FALSE(parse_slurm_job_label(bad)) << bad;
  }
}

TEST(SlurmSyncParse, Durations) {
  EXPECT_EQ(parse_sync_duration("90"), 90s);
  EXPECT_EQ(parse_sync_duration("90s"), 90s);
  EXPECT_EQ(parse_sync_duration("15m"), 900s);
  EXPECT_EQ(parse_sync_duration("2h"), 7200s);
  EXPECT_EQ(parse_sync_duration("7d"), std::chrono::seconds(7 * 86400));
  for (const char* bad : {"", "m", "1.5h", "-3m", "3w", "h2"}) {
    EXPECT_FALSE(parse_sync_duration(bad)) << bad;
  }
}

TEST(SlurmSyncDecision, FinalStatesAreWrittenWithSlurmsExitCode) {
  auto cancelled = decide_sync(RunStatus::RUNNING, 0, slurm_state("CANCELLED", "None", 0, "0:9"));
  EXPECT_EQ(cancelled.status, RunStatus::CANCELLED);
  EXPECT_EQ(cancelled.signal, 9);
  EXPECT_FALSE(cancelled.exit_code);
  EXPECT_EQ(cancelled.detail, "slurm-sync: Slurm says JobState=CANCELLED Reason=None ExitCode=0:9");

  auto failed =
      decide_sync(RunStatus::RUNNING, 0, slurm_state("FAILED", "NonZeroExitCode", 0, "3:0"));
  EXPECT_EQ(failed.status, RunStatus::FAILED);
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_FALSE(failed.signal);

  EXPECT_EQ(decide_sync(RunStatus::PENDING, 0, slurm_state("CANCELLED", "JobHeldUser")).status,
            RunStatus::CANCELLED);
  EXPECT_EQ(decide_sync(RunStatus::RUNNING, 0, slurm_state("NODE_FAIL")).status,
            RunStatus::NODE_FAIL);
  EXPECT_EQ(decide_sync(RunStatus::REQUEUED, 0, slurm_state("TIMEOUT", "TimeLimit")).status,
            RunStatus::TIMEOUT);
}

TEST(SlurmSyncDecision, PendingAndRunningJobsAreLeftAlone) {
  for (const char* state : {"RUNNING", "PENDING", "COMPLETING", "CONFIGURING", "SUSPENDED"}) {
    auto decision = decide_sync(RunStatus::RUNNING, 0, slurm_state(state));
    EXPECT_FALSE(decision.status) << state;
    EXPECT_NE(decision.detail.find("left RUNNING"), std::string::npos) << decision.detail;
    EXPECT_FALSE(decide_sync(RunStatus::PENDING, 0, slurm_state(state)).status) << state;
  }
  EXPECT_FALSE(decide_sync(RunStatus::RUNNING, 0, slurm_state("RECONFIG_FAIL")).status);
}

TEST(SlurmSyncDecision, RequeuedJobOfARunningRunIsRequeued) {
  // Back in the queue with a higher restart count: the wrapper died without a word.
  auto decision = decide_sync(RunStatus::RUNNING, 0, slurm_state("PENDING", "BeginTime", 1));
  EXPECT_EQ(decision.status, RunStatus::REQUEUED);
  EXPECT_EQ(decide_sync(RunStatus::RUNNING, 1, slurm_state("REQUEUE_HOLD", "None", 2)).status,
            RunStatus::REQUEUE_HOLD);
  // Not for the PENDING run of a submitted job, nor a run of this very restart.
  EXPECT_FALSE(decide_sync(RunStatus::PENDING, 0, slurm_state("PENDING", "BeginTime", 1)).status);
  EXPECT_FALSE(decide_sync(RunStatus::RUNNING, 1, slurm_state("PENDING", "BeginTime", 1)).status);
  EXPECT_FALSE(decide_sync(RunStatus::REQUEUED, 0, slurm_state("PENDING", "BeginTime", 1)).status);
}

class SlurmLookupTest : public ::testing::Test {
 protected:
  test::FakeSlurmTools tools_;
};

TEST_F(SlurmLookupTest, AsksScontrolPerJobAndReadsTheRecord) {
  tools_.add("scontrol",
             "case \"$4\" in\n"
             "  12) echo 'JobId=12 JobName=a b UserId=root(0) JobState=CANCELLED Reason=None "
             "Restarts=0 ExitCode=0:15' ;;\n"
             "  13_2) echo 'JobId=15 ArrayJobId=13 ArrayTaskId=2 JobName=x UserId=root(0) "
             "JobState=RUNNING Reason=None Restarts=0 ExitCode=0:0' ;;\n"
             "  *) echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1 ;;\n"
             "esac");
  tools_.add("sacct", "echo 'sacct: error: Slurm accounting storage is disabled' >&2; exit 1");
  auto found = lookup_slurm_jobs({"12", "13_2", "99", "98"}, 5s);
  ASSERT_EQ(found.size(), 4u);
  EXPECT_EQ(found["12"].kind, SlurmLookup::Kind::found);
  EXPECT_EQ(found["12"].state.state, "CANCELLED");
  EXPECT_EQ(found["13_2"].kind, SlurmLookup::Kind::found);
  EXPECT_EQ(found["13_2"].state.state, "RUNNING");
  EXPECT_EQ(found["99"].kind, SlurmLookup::Kind::unknown);
  EXPECT_NE(found["99"].message.find("Invalid job id"), std::string::npos) << found["99"].message;
  EXPECT_NE(found["98"].message.find("accounting storage is disabled"), std::string::npos)
      << found["98"].message;
  // Without accounting, sacct is asked once, not for every forgotten job.
  EXPECT_EQ(tools_.calls("sacct"), "-n -P -X -j 98 -o JobID,State,ExitCode\n");
}

TEST_F(SlurmLookupTest, SacctAnswersForJobsScontrolForgot) {
  tools_.add("scontrol", "echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1");
  tools_.add("sacct", "echo '77|CANCELLED by 0|0:15'");
  auto found = lookup_slurm_jobs({"77"}, 5s);
  EXPECT_EQ(found["77"].kind, SlurmLookup::Kind::found);
  EXPECT_EQ(found["77"].source, "sacct");
  EXPECT_EQ(run_status_from_slurm_state(found["77"].state.state), RunStatus::CANCELLED);
  EXPECT_EQ(found["77"].state.exit_code, "0:15");
}

TEST_F(SlurmLookupTest, SlurmDownIsAnErrorNotAnUnknownJob) {
  tools_.add("scontrol",
             "echo 'slurm_load_jobs error: Unable to contact slurm controller' >&2; exit 1");
  tools_.add("sacct", "exit 1");
  auto found = lookup_slurm_jobs({"12"}, 5s);
  EXPECT_EQ(found["12"].kind, SlurmLookup::Kind::error);
  EXPECT_TRUE(tools_.calls("sacct").empty());
}

TEST_F(SlurmLookupTest, ManyJobsAreAskedWithOneCall) {
  std::string records;
  std::vector<std::string> labels;
  for (int id = 100; id < 120; ++id) {
    labels.push_back(std::to_string(id));
    records += "JobId=" + std::to_string(id) + " JobName=j UserId=root(0) JobState=COMPLETED " +
               "Reason=None Restarts=0 ExitCode=0:0\n";
  }
  tools_.add("scontrol", "cat <<'END'\n" + records + "END");
  auto found = lookup_slurm_jobs(labels, 5s);
  EXPECT_EQ(tools_.calls("scontrol"), "show job -o\n");
  EXPECT_EQ(found["119"].state.state, "COMPLETED");
}

TEST(SlurmSubmitParse, ParsableOutput) {
  auto plain = parse_sbatch_parsable("345\n");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->job_id, 345);
  EXPECT_FALSE(plain->cluster);
  auto federated = parse_sbatch_parsable("sbatch: warning: something\n346;cluster-b\n");
  ASSERT_TRUE(federated);
  EXPECT_EQ(federated->job_id, 346);
  EXPECT_EQ(federated->cluster, "cluster-b");
  EXPECT_FALSE(parse_sbatch_parsable(""));
  EXPECT_FALSE(parse_sbatch_parsable("Submitted batch job 12"));
}

TEST(SlurmSubmitParse, HoldAndCommand) {
  EXPECT_FALSE(sbatch_asks_for_hold({"sbatch", "-o", "out.txt", "--requeue", "job.sh", "-H"}));
  EXPECT_TRUE(sbatch_asks_for_hold({"sbatch", "-o", "out.txt", "--hold", "job.sh"}));
  EXPECT_TRUE(sbatch_asks_for_hold({"sbatch", "--time", "5", "-vH", "job.sh"}));
  EXPECT_TRUE(sbatch_asks_for_hold({"sbatch", "-p", "debug", "-H", "job.sh"}));
  EXPECT_FALSE(sbatch_asks_for_hold({"sbatch", "-J", "-H", "job.sh"}));  // -H is the job's name
  EXPECT_EQ(
      held_sbatch_command({"sbatch", "--array=0-3", "job.sh", "x"}),
      (std::vector<std::string>{"sbatch", "--parsable", "--hold", "--array=0-3", "job.sh", "x"}));
}

TEST(SlurmSubmitParse, SqueueTaskList) {
  auto single = parse_squeue_job_list("345\n", 345);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_FALSE(single[0].array_task_id);
  auto tasks = parse_squeue_job_list("345_0\n345_1\n 345_7 \n999_1\n", 345);
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[2].job_id, 345);
  EXPECT_EQ(tasks[2].array_task_id, 7);
  EXPECT_TRUE(parse_squeue_job_list("", 345).empty());
}

}  // namespace
}  // namespace sqltrack

#include "sqltrack/schema/schema.hpp"

namespace sqltrack {
namespace {

class SlurmSubmitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_ = db_.connect();
    ensure_schema(*conn_);
    store_ = std::make_unique<RunStore>(*conn_);
    submission_.experiment = "submitted";
    tools_.add("scontrol", "exit 0");
  }

  std::string column(std::int64_t run_id, const std::string& name) {
    const std::array<db::Value, 1> params{run_id};
    return conn_->query("SELECT " + name + " FROM runs WHERE id = $1", params)
        .scalar()
        .value_or("<NULL>");
  }

  test::FakeSlurmTools tools_;
  test::EngineDatabase db_{db::Engine::sqlite};
  std::unique_ptr<db::Database> conn_;
  std::unique_ptr<RunStore> store_;
  RunSubmission submission_;
};

TEST_F(SlurmSubmitTest, HoldsCreatesThePendingRunAndReleases) {
  tools_.add("sbatch", "echo 345");
  tools_.add("squeue", "echo 345");
  auto result = submit_job(*store_, submission_, {"sbatch", "-p", "debug", "job.sh"});
  ASSERT_EQ(result.run_ids.size(), 1u);
  EXPECT_TRUE(result.released);
  EXPECT_TRUE(result.warnings.empty());
  EXPECT_EQ(tools_.calls("sbatch"), "--parsable --hold -p debug job.sh\n");
  EXPECT_EQ(tools_.calls("squeue"), "-h -r -t all -j 345 -o %i\n");
  EXPECT_EQ(tools_.calls("scontrol"), "release 345\n");
  EXPECT_EQ(column(result.run_ids[0], "status"), "PENDING");
  EXPECT_EQ(column(result.run_ids[0], "slurm_job_id"), "345");
}

TEST_F(SlurmSubmitTest, ArrayGetsOneRunPerTask) {
  tools_.add("sbatch", "echo '346;cluster-b'");
  tools_.add("squeue", "printf '346_0\\n346_2\\n346_4\\n'");
  auto result = submit_job(*store_, submission_, {"sbatch", "--array=0-4:2", "job.sh"});
  ASSERT_EQ(result.run_ids.size(), 3u);
  EXPECT_EQ(column(result.run_ids[2], "slurm_array_job_id"), "346");
  EXPECT_EQ(column(result.run_ids[2], "slurm_array_task_id"), "4");
  EXPECT_EQ(tools_.calls("scontrol"), "--clusters=cluster-b release 346\n");
}

TEST_F(SlurmSubmitTest, UsersOwnHoldIsKept) {
  tools_.add("sbatch", "echo 347");
  tools_.add("squeue", "echo 347");
  auto result = submit_job(*store_, submission_, {"sbatch", "--hold", "job.sh"});
  EXPECT_EQ(result.run_ids.size(), 1u);
  EXPECT_FALSE(result.released);
  EXPECT_TRUE(tools_.calls("scontrol").empty());
}

TEST_F(SlurmSubmitTest, FailedSbatchCreatesNothing) {
  tools_.add("sbatch", "echo 'sbatch: error: invalid partition specified: nope' >&2; exit 1");
  auto result = submit_job(*store_, submission_, {"sbatch", "-p", "nope", "job.sh"});
  EXPECT_FALSE(result.sbatch.succeeded());
  EXPECT_TRUE(result.run_ids.empty());
  EXPECT_NE(result.sbatch.err.find("invalid partition"), std::string::npos);
  EXPECT_EQ(conn_->query("SELECT count(*) FROM runs").scalar(), "0");
}

TEST_F(SlurmSubmitTest, UnlistedTasksAndFailedReleaseAreWarnings) {
  tools_.add("sbatch", "echo 348");
  tools_.add("squeue", "exit 1");
  tools_.add("scontrol", "echo 'Access/permission denied' >&2; exit 1");
  auto result = submit_job(*store_, submission_, {"sbatch", "job.sh"});
  ASSERT_EQ(result.run_ids.size(), 1u);
  EXPECT_FALSE(result.released);
  ASSERT_EQ(result.warnings.size(), 2u);
  EXPECT_NE(result.warnings[1].find("scontrol release 348"), std::string::npos);
}

}  // namespace
}  // namespace sqltrack
