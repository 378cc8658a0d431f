// Tests of reading Slurm's view of a job and of the status it implies, with
// output recorded from a real Slurm 22.05 cluster (Debian 12 packages, one node,
// partitions debug/low/high as in notes/slurm-facts.md).

#include "sqltrack/slurm/slurm_job_state.hpp"

#include <csignal>
#include <string>

#include <gtest/gtest.h>

namespace sqltrack {
namespace {

// Recorded with `scontrol show job -o ID` (unless said otherwise); the job
// script trapped SIGTERM and ran scontrol in its handler.

// scancel ID, seen by the job at SIGTERM.
constexpr std::string_view kScancelAtTerm =
    R"scontrol(JobId=3 JobName=my job UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901757 Nice=0 Account=(null) QOS=(null) JobState=COMPLETING Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:04 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T10:54:47 EligibleTime=2026-11-23T10:54:47 AccrueTime=2026-11-23T10:54:47 StartTime=2026-11-23T10:54:48 EndTime=2026-11-23T10:54:52 Deadline=N/A PreemptEligibleTime=2026-11-23T10:54:48 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T10:54:48 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh arg1 arg two x=y WorkDir=/tmp/capture-slurm/jobs Comment=a=b C=d Reason=x  StdErr=/tmp/capture-slurm/out/3.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/3.log Power= 
)scontrol";

// scancel -b -s TERM ID, seen by the job at SIGTERM.
constexpr std::string_view kUserTermRunning =
    R"scontrol(JobId=4 JobName=userterm UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901756 Nice=0 Account=(null) QOS=(null) JobState=RUNNING Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:01 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T10:54:47 EligibleTime=2026-11-23T10:54:47 AccrueTime=2026-11-23T10:54:47 StartTime=2026-11-23T10:54:57 EndTime=Unknown Deadline=N/A PreemptEligibleTime=2026-11-23T10:54:57 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T10:54:57 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/4.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/4.log Power= 
)scontrol";

// --time=1 reached, seen by the job at SIGTERM.
constexpr std::string_view kTimeoutAtTerm =
    R"scontrol(JobId=5 JobName=tl UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901755 Nice=0 Account=(null) QOS=(null) JobState=COMPLETING Reason=TimeLimit Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:01:28 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-11-23T10:56:04 EligibleTime=2026-11-23T10:56:04 AccrueTime=2026-11-23T10:56:04 StartTime=2026-11-23T10:56:18 EndTime=2026-11-23T10:57:46 Deadline=N/A PreemptEligibleTime=2026-11-23T10:56:18 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T10:56:18 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/5.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/5.log Power= 
)scontrol";

// scontrol requeue ID, seen by the job at SIGTERM.
constexpr std::string_view kRequeueAtTerm =
    R"scontrol(JobId=6 JobName=rq UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901754 Nice=0 Account=(null) QOS=(null) JobState=COMPLETING Reason=None Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T10:56:04 EligibleTime=2026-11-23T10:56:04 AccrueTime=2026-11-23T10:56:04 StartTime=2026-11-23T10:57:54 EndTime=Unknown Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T10:57:51 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/6.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/6.log Power= 
)scontrol";

// scancel of the same job on its second run (SLURM_RESTART_COUNT=1).
constexpr std::string_view kCancelAfterRequeueAtTerm =
    R"scontrol(JobId=6 JobName=rq UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901754 Nice=0 Account=(null) QOS=(null) JobState=COMPLETING Reason=None Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:02 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T10:57:59 EligibleTime=2026-11-23T11:00:00 AccrueTime=2026-11-23T11:00:00 StartTime=2026-11-23T11:00:16 EndTime=2026-11-23T11:00:18 Deadline=N/A PreemptEligibleTime=2026-11-23T11:00:16 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:00:16 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/6.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/6.log Power= 
)scontrol";

// preempted in partition low (PreemptMode=CANCEL), at SIGTERM.
constexpr std::string_view kPreemptCancelAtTerm =
    R"scontrol(JobId=13 JobName=lowjob UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901750 Nice=0 Account=(null) QOS=(null) JobState=COMPLETING Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T11:00:45 EligibleTime=2026-11-23T11:00:45 AccrueTime=2026-11-23T11:00:45 StartTime=2026-11-23T11:00:46 EndTime=2026-11-23T11:00:49 Deadline=N/A PreemptEligibleTime=2026-11-23T11:00:46 PreemptTime=2026-11-23T11:00:49 SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:00:46 Scheduler=Main Partition=low AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/13.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/13.log Power= 
)scontrol";

// preempted in partition debug (PreemptMode=REQUEUE), at SIGTERM.
constexpr std::string_view kPreemptRequeueAtTerm =
    R"scontrol(JobId=15 JobName=debugjob UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901748 Nice=0 Account=(null) QOS=(null) JobState=COMPLETING Reason=None Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T11:00:59 EligibleTime=2026-11-23T11:00:59 AccrueTime=2026-11-23T11:00:59 StartTime=2026-11-23T11:01:05 EndTime=Unknown Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:01:02 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/15.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/15.log Power= 
)scontrol";

// after scancel.
constexpr std::string_view kCancelledFinal =
    R"scontrol(JobId=3 JobName=my job UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901757 Nice=0 Account=(null) QOS=(null) JobState=CANCELLED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:9 RunTime=00:00:04 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T10:54:47 EligibleTime=2026-11-23T10:54:47 AccrueTime=2026-11-23T10:54:47 StartTime=2026-11-23T10:54:48 EndTime=2026-11-23T10:54:52 Deadline=N/A PreemptEligibleTime=2026-11-23T10:54:48 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T10:54:48 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh arg1 arg two x=y WorkDir=/tmp/capture-slurm/jobs Comment=a=b C=d Reason=x  StdErr=/tmp/capture-slurm/out/3.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/3.log Power= 
)scontrol";

// after the time limit.
constexpr std::string_view kTimeoutFinal =
    R"scontrol(JobId=5 JobName=tl UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901755 Nice=0 Account=(null) QOS=(null) JobState=TIMEOUT Reason=TimeLimit Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:9 RunTime=00:01:28 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-11-23T10:56:04 EligibleTime=2026-11-23T10:56:04 AccrueTime=2026-11-23T10:56:04 StartTime=2026-11-23T10:56:18 EndTime=2026-11-23T10:57:46 Deadline=N/A PreemptEligibleTime=2026-11-23T10:56:18 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T10:56:18 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/5.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/5.log Power= 
)scontrol";

// after preemption with PreemptMode=CANCEL.
constexpr std::string_view kPreemptedFinal =
    R"scontrol(JobId=13 JobName=lowjob UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901750 Nice=0 Account=(null) QOS=(null) JobState=PREEMPTED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:9 RunTime=00:00:03 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T11:00:45 EligibleTime=2026-11-23T11:00:45 AccrueTime=2026-11-23T11:00:45 StartTime=2026-11-23T11:00:46 EndTime=2026-11-23T11:00:49 Deadline=N/A PreemptEligibleTime=2026-11-23T11:00:46 PreemptTime=2026-11-23T11:00:49 SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:00:46 Scheduler=Main Partition=low AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/13.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/13.log Power= 
)scontrol";

// after the script exited 3.
constexpr std::string_view kFailedExit3Final =
    R"scontrol(JobId=7 JobName=fail3 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901753 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:02 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T11:00:23 EligibleTime=2026-11-23T11:00:23 AccrueTime=2026-11-23T11:00:23 StartTime=2026-11-23T11:00:24 EndTime=2026-11-23T11:00:26 Deadline=N/A PreemptEligibleTime=2026-11-23T11:00:24 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:00:24 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/7.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/7.log Power= 
)scontrol";

// after the script exited 0.
constexpr std::string_view kCompletedFinal =
    R"scontrol(JobId=8 JobName=ok UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901752 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:02 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T11:00:26 EligibleTime=2026-11-23T11:00:26 AccrueTime=2026-11-23T11:00:26 StartTime=2026-11-23T11:00:27 EndTime=2026-11-23T11:00:29 Deadline=N/A PreemptEligibleTime=2026-11-23T11:00:27 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:00:27 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/8.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/8.log Power= 
)scontrol";

// the output file could not be opened.
constexpr std::string_view kLaunchFailedFinal =
    R"scontrol(JobId=1 JobName=my job UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=JobLaunchFailure Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:53 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T10:54:28 EligibleTime=2026-11-23T10:54:28 AccrueTime=2026-11-23T10:54:28 StartTime=2026-11-23T10:54:29 EndTime=2026-11-23T10:54:29 Deadline=N/A PreemptEligibleTime=2026-11-23T10:54:29 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T10:54:29 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh arg1 arg two WorkDir=/tmp/capture-slurm/jobs Comment=a=b c=d  StdErr=/tmp/capture-slurm/out/1.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/1.log Power= 
)scontrol";

// two seconds after scontrol requeue: still COMPLETING, Restarts=1.
constexpr std::string_view kJustAfterRequeue =
    R"scontrol(JobId=6 JobName=rq UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901754 Nice=0 Account=(null) QOS=(null) JobState=COMPLETING Reason=None Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T10:56:04 EligibleTime=2026-11-23T10:56:04 AccrueTime=2026-11-23T10:56:04 StartTime=2026-11-23T10:57:56 EndTime=Unknown Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T10:57:51 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/6.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/6.log Power= 
)scontrol";

// after preemption with PreemptMode=REQUEUE.
constexpr std::string_view kPreemptRequeuedPending =
    R"scontrol(JobId=15 JobName=debugjob UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901748 Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=BeginTime Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T11:01:09 EligibleTime=2026-11-23T11:03:10 AccrueTime=2026-11-23T11:03:10 StartTime=2026-11-23T11:03:10 EndTime=Unknown Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:01:02 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList= NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/15.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/15.log Power= 
)scontrol";

// scontrol show job -o 9 for --array=1-4%1 while task 1 runs.
constexpr std::string_view kArrayFirstRunning =
    R"scontrol(JobId=9 ArrayJobId=9 ArrayTaskId=2-4%1 ArrayTaskThrottle=1 JobName=arr UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901751 Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=JobArrayTaskLimit Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T11:00:29 EligibleTime=Unknown AccrueTime=2026-11-23T11:00:30 StartTime=Unknown EndTime=Unknown Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:00:30 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList= NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/9_4294967294.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/9_4294967294.log Power= 
JobId=10 ArrayJobId=9 ArrayTaskId=1 ArrayTaskThrottle=1 JobName=arr UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901751 Nice=0 Account=(null) QOS=(null) JobState=RUNNING Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:02 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T11:00:29 EligibleTime=2026-11-23T11:00:30 AccrueTime=2026-11-23T11:00:30 StartTime=2026-11-23T11:00:30 EndTime=Unknown Deadline=N/A PreemptEligibleTime=2026-11-23T11:00:30 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:00:30 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/9_1.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/9_1.log Power= 
)scontrol";

// scontrol show job -o 9 once every task is done.
constexpr std::string_view kArrayAllDone =
    R"scontrol(JobId=9 ArrayJobId=9 ArrayTaskId=4 ArrayTaskThrottle=1 JobName=arr UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901751 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T11:00:29 EligibleTime=2026-11-23T11:00:42 AccrueTime=2026-11-23T11:00:30 StartTime=2026-11-23T11:00:42 EndTime=2026-11-23T11:00:45 Deadline=N/A PreemptEligibleTime=2026-11-23T11:00:42 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:00:42 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/9_4.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/9_4.log Power= 
JobId=12 ArrayJobId=9 ArrayTaskId=3 ArrayTaskThrottle=1 JobName=arr UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901751 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T11:00:29 EligibleTime=2026-11-23T11:00:38 AccrueTime=2026-11-23T11:00:30 StartTime=2026-11-23T11:00:38 EndTime=2026-11-23T11:00:41 Deadline=N/A PreemptEligibleTime=2026-11-23T11:00:38 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:00:38 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/9_3.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/9_3.log Power= 
JobId=11 ArrayJobId=9 ArrayTaskId=2 ArrayTaskThrottle=1 JobName=arr UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901751 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T11:00:29 EligibleTime=2026-11-23T11:00:34 AccrueTime=2026-11-23T11:00:30 StartTime=2026-11-23T11:00:34 EndTime=2026-11-23T11:00:37 Deadline=N/A PreemptEligibleTime=2026-11-23T11:00:34 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:00:34 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/9_2.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/9_2.log Power= 
JobId=10 ArrayJobId=9 ArrayTaskId=1 ArrayTaskThrottle=1 JobName=arr UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901751 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T11:00:29 EligibleTime=2026-11-23T11:00:30 AccrueTime=2026-11-23T11:00:30 StartTime=2026-11-23T11:00:30 EndTime=2026-11-23T11:00:33 Deadline=N/A PreemptEligibleTime=2026-11-23T11:00:30 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:00:30 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh WorkDir=/tmp/capture-slurm/jobs StdErr=/tmp/capture-slurm/out/9_1.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/9_1.log Power= 
)scontrol";

// a job name, command and comment holding "Key=" text.
constexpr std::string_view kTrickyOneLine =
    R"scontrol(JobId=17 JobName=x JobState=TIMEOUT Reason=TimeLimit UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901746 Nice=0 Account=(null) QOS=(null) JobState=RUNNING Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-23T11:02:00 EligibleTime=2026-11-23T11:02:00 AccrueTime=2026-11-23T11:02:00 StartTime=2026-11-23T11:02:01 EndTime=Unknown Deadline=N/A PreemptEligibleTime=2026-11-23T11:02:01 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:02:01 Scheduler=Main Partition=debug AllocNode:Sid=localhost:3134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=24105M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/capture-slurm/jobs/probe.sh --name=a b q"uote Reason=x WorkDir=/tmp/capture-slurm/jobs Comment=lr=0.1 Mode=fast Restarts=9 PreemptTime=2026-01-01T00:00:00 StdErr=/fake  StdErr=/tmp/capture-slurm/out/17.log StdIn=/dev/null StdOut=/tmp/capture-slurm/out/17.log Power= 
)scontrol";

// the same job without -o.
constexpr std::string_view kTrickyMultiLine =
    R"scontrol(JobId=17 JobName=x JobState=TIMEOUT Reason=TimeLimit
   UserId=root(0) GroupId=root(0) MCS_label=N/A
   Priority=4294901746 Nice=0 Account=(null) QOS=(null)
   JobState=RUNNING Reason=None Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0
   RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A
   SubmitTime=2026-11-23T11:02:00 EligibleTime=2026-11-23T11:02:00
   AccrueTime=2026-11-23T11:02:00
   StartTime=2026-11-23T11:02:01 EndTime=Unknown Deadline=N/A
   PreemptEligibleTime=2026-11-23T11:02:01 PreemptTime=None
   SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:02:01 Scheduler=Main
   Partition=debug AllocNode:Sid=localhost:3134
   ReqNodeList=(null) ExcNodeList=(null)
   NodeList=vm
   BatchHost=vm
   NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:*
   TRES=cpu=1,mem=24105M,node=1,billing=1
   Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=*
   MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0
   Features=(null) DelayBoot=00:00:00
   OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null)
   Command=/tmp/capture-slurm/jobs/probe.sh --name=a b q"uote Reason=x
   WorkDir=/tmp/capture-slurm/jobs
   Comment=lr=0.1 Mode=fast Restarts=9 PreemptTime=2026-01-01T00:00:00 StdErr=/fake 
   StdErr=/tmp/capture-slurm/out/17.log
   StdIn=/dev/null
   StdOut=/tmp/capture-slurm/out/17.log
   Power=
   

)scontrol";

// the same job with -d.
constexpr std::string_view kTrickyDetail =
    R"scontrol(JobId=17 JobName=x JobState=TIMEOUT Reason=TimeLimit
   UserId=root(0) GroupId=root(0) MCS_label=N/A
   Priority=4294901746 Nice=0 Account=(null) QOS=(null)
   JobState=RUNNING Reason=None Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0
   DerivedExitCode=0:0
   RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A
   SubmitTime=2026-11-23T11:02:00 EligibleTime=2026-11-23T11:02:00
   AccrueTime=2026-11-23T11:02:00
   StartTime=2026-11-23T11:02:01 EndTime=Unknown Deadline=N/A
   PreemptEligibleTime=2026-11-23T11:02:01 PreemptTime=None
   SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-23T11:02:01 Scheduler=Main
   Partition=debug AllocNode:Sid=localhost:3134
   ReqNodeList=(null) ExcNodeList=(null)
   NodeList=vm
   BatchHost=vm
   NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:*
   TRES=cpu=1,mem=24105M,node=1,billing=1
   Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=*
   JOB_GRES=(null)
     Nodes=vm CPU_IDs=0 Mem=24105 GRES=
   MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0
   Features=(null) DelayBoot=00:00:00
   OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null)
   Command=/tmp/capture-slurm/jobs/probe.sh --name=a b q"uote Reason=x
   WorkDir=/tmp/capture-slurm/jobs
   Comment=lr=0.1 Mode=fast Restarts=9 PreemptTime=2026-01-01T00:00:00 StdErr=/fake 
   StdErr=/tmp/capture-slurm/out/17.log
   StdIn=/dev/null
   StdOut=/tmp/capture-slurm/out/17.log
   Power=
   

)scontrol";

std::string name(RunStatus status) {
  return std::string(to_string(status));
}
std::string name(std::optional<RunStatus> status) {
  return status ? name(*status) : "nullopt";
}

// The only record of a one-record output.
ScontrolRecord only_record(std::string_view output) {
  auto records = parse_scontrol_records(output);
  EXPECT_EQ(records.size(), 1u) << "in: " << output;
  return records.empty() ? ScontrolRecord{} : records.front();
}

SlurmJobState state_of(std::string_view output, std::string_view job_id) {
  auto state = find_job_state(parse_scontrol_records(output), job_id);
  EXPECT_TRUE(state.has_value()) << "no record for job " << job_id << " in: " << output;
  return state.value_or(SlurmJobState{});
}

std::string replaced(std::string_view text, std::string_view from, std::string_view to) {
  std::string out(text);
  auto at = out.find(from);
  EXPECT_NE(at, std::string::npos) << "sample lacks " << from;
  if (at != std::string::npos) out.replace(at, from.size(), to);
  return out;
}

// ---- parse_scontrol_records ----

TEST(SlurmScontrolParse, OneLineRecordKeepsValuesWithSpacesAndEquals) {
  ScontrolRecord record = only_record(kScancelAtTerm);
  EXPECT_EQ(record["JobId"], "3");
  EXPECT_EQ(record["JobName"], "my job");
  EXPECT_EQ(record["JobState"], "COMPLETING");
  EXPECT_EQ(record["Reason"], "None");
  EXPECT_EQ(record["Restarts"], "0");
  EXPECT_EQ(record["UserId"], "root(0)");
  EXPECT_EQ(record["AllocNode:Sid"], "localhost:3134");
  EXPECT_EQ(record["CPUs/Task"], "1");
  EXPECT_EQ(record["ReqB:S:C:T"], "0:0:*:*");
  EXPECT_EQ(record["NtasksPerN:B:S:C"], "0:0:*:*");
  EXPECT_EQ(record["TRES"], "cpu=1,mem=24105M,node=1,billing=1");
  EXPECT_EQ(record["Command"], "/tmp/capture-slurm/jobs/probe.sh arg1 arg two x=y");
  EXPECT_EQ(record["Comment"], "a=b C=d Reason=x") << "scontrol's trailing spaces dropped";
  EXPECT_EQ(record["StdErr"], "/tmp/capture-slurm/out/3.log");
  EXPECT_EQ(record["Power"], "");
  EXPECT_EQ(record.size(), 63u) << "the 63 keys scontrol printed, none split from a value";
}

TEST(SlurmScontrolParse, KeysInsideJobNameCommandAndCommentStayText) {
  ScontrolRecord record = only_record(kTrickyOneLine);
  EXPECT_EQ(record["JobName"], "x JobState=TIMEOUT Reason=TimeLimit");
  EXPECT_EQ(record["JobState"], "RUNNING");
  EXPECT_EQ(record["Reason"], "None");
  EXPECT_EQ(record["Restarts"], "0");
  EXPECT_EQ(record["PreemptTime"], "None");
  EXPECT_EQ(record["Command"], "/tmp/capture-slurm/jobs/probe.sh --name=a b q\"uote Reason=x");
  EXPECT_EQ(record["Comment"],
            "lr=0.1 Mode=fast Restarts=9 PreemptTime=2026-01-01T00:00:00 StdErr=/fake");
  EXPECT_EQ(record["StdErr"], "/tmp/capture-slurm/out/17.log");
  EXPECT_EQ(record["StdOut"], "/tmp/capture-slurm/out/17.log");
  EXPECT_EQ(record.count("Mode"), 0u);
}

TEST(SlurmScontrolParse, MultiLineFormGivesTheSameRecord) {
  EXPECT_EQ(parse_scontrol_records(kTrickyMultiLine), parse_scontrol_records(kTrickyOneLine));
}

TEST(SlurmScontrolParse, DetailFormAddsItsKeys) {
  ScontrolRecord record = only_record(kTrickyDetail);
  EXPECT_EQ(record["DerivedExitCode"], "0:0");
  EXPECT_EQ(record["JOB_GRES"], "(null)");
  EXPECT_EQ(record["Nodes"], "vm");
  EXPECT_EQ(record["CPU_IDs"], "0");
  EXPECT_EQ(record["Mem"], "24105");
  EXPECT_EQ(record["GRES"], "");
  EXPECT_EQ(record["JobState"], "RUNNING");
}

TEST(SlurmScontrolParse, ArrayOutputHasOneRecordPerTask) {
  auto records = parse_scontrol_records(kArrayAllDone);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0]["JobId"], "9");
  EXPECT_EQ(records[0]["ArrayTaskId"], "4");
  EXPECT_EQ(records[3]["JobId"], "10");
  EXPECT_EQ(records[3]["ArrayJobId"], "9");
  EXPECT_EQ(records[3]["ArrayTaskThrottle"], "1");
  EXPECT_EQ(records[3]["JobName"], "arr");
}

TEST(SlurmScontrolParse, EmptyValuesStayEmpty) {
  ScontrolRecord record = only_record(kPreemptRequeuedPending);
  EXPECT_EQ(record["NodeList"], "");
  EXPECT_EQ(record["NumNodes"], "1");
  EXPECT_EQ(record["JobState"], "PENDING");
  EXPECT_EQ(record["Reason"], "BeginTime");
}

TEST(SlurmScontrolParse, UnknownKeyAfterAPlainValueStillSplits) {
  // A key that a later Slurm version might add after JobState.
  ScontrolRecord record =
      only_record(replaced(kTimeoutAtTerm, "Reason=TimeLimit ", "Reason=TimeLimit NewFlag=yes "));
  EXPECT_EQ(record["Reason"], "TimeLimit");
  EXPECT_EQ(record["NewFlag"], "yes");
}

TEST(SlurmScontrolParse, JobNameWithoutUserIdEndsAtAKnownKey) {
  ScontrolRecord record = only_record("JobId=4 JobName=a b Lr=1 JobState=RUNNING Reason=None");
  EXPECT_EQ(record["JobName"], "a b Lr=1");
  EXPECT_EQ(record["JobState"], "RUNNING");
}

TEST(SlurmScontrolParse, SkipsLinesThatAreNoRecord) {
  EXPECT_TRUE(parse_scontrol_records("").empty());
  EXPECT_TRUE(parse_scontrol_records("\n\n").empty());
  EXPECT_TRUE(parse_scontrol_records("slurm_load_jobs error: Invalid job id specified\n").empty());
  EXPECT_TRUE(parse_scontrol_records("Job 9_5 not found\n").empty());
  auto records =
      parse_scontrol_records(std::string("No jobs in the system\n") + std::string(kCompletedFinal));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["JobState"], "COMPLETED");
}

// ---- job_state_from_record and find_job_state ----

TEST(SlurmJobState, ReadsTheDecidingFields) {
  SlurmJobState state = state_of(kPreemptCancelAtTerm, "13");
  EXPECT_EQ(state.job_id, "13");
  EXPECT_EQ(state.state, "COMPLETING");
  EXPECT_EQ(state.reason, "None");
  EXPECT_EQ(state.restarts, 0);
  EXPECT_EQ(state.preempt_time, "2026-11-23T11:00:49");
  EXPECT_TRUE(state.preempted);
  EXPECT_EQ(state.exit_code, "0:0");
  EXPECT_EQ(state.array_job_id, "");

  SlurmJobState final_state = state_of(kTimeoutFinal, "5");
  EXPECT_EQ(final_state.state, "TIMEOUT");
  EXPECT_EQ(final_state.exit_code, "0:9");
  EXPECT_EQ(final_state.preempt_time, "None");
  EXPECT_FALSE(final_state.preempted);
}

TEST(SlurmJobState, RequeueRecordHasRestartsAndNoPreemptTime) {
  SlurmJobState state = state_of(kRequeueAtTerm, "6");
  EXPECT_EQ(state.restarts, 1);
  EXPECT_EQ(state.preempt_time, "") << "scontrol prints no PreemptTime for this record";
  EXPECT_FALSE(state.preempted);
}

TEST(SlurmJobState, PreemptTimeNoneOrUnknownIsNotPreempted) {
  for (const char* value : {"None", "Unknown", "N/A", "(null)", ""}) {
    ScontrolRecord record{{"JobId", "1"}, {"JobState", "RUNNING"}, {"PreemptTime", value}};
    EXPECT_FALSE(job_state_from_record(record).preempted) << "PreemptTime=" << value;
  }
}

TEST(SlurmJobState, FindMatchesTheJobIdExactly) {
  auto records = parse_scontrol_records(kArrayAllDone);
  EXPECT_EQ(find_job_state(records, "10").value_or(SlurmJobState{}).array_task_id, "1");
  EXPECT_EQ(find_job_state(records, "9").value_or(SlurmJobState{}).array_task_id, "4")
      << "the last task reuses the array's id";
  EXPECT_FALSE(find_job_state(records, "1").has_value()) << "no prefix match";
  EXPECT_FALSE(find_job_state(records, "").has_value());
}

TEST(SlurmJobState, FindAcceptsArrayTaskForm) {
  auto records = parse_scontrol_records(kArrayAllDone);
  auto task3 = find_job_state(records, "9_3");
  ASSERT_TRUE(task3.has_value());
  EXPECT_EQ(task3->job_id, "12");
  EXPECT_EQ(task3->state, "COMPLETED");
  EXPECT_FALSE(find_job_state(records, "9_5").has_value());
  EXPECT_FALSE(find_job_state(records, "10_1").has_value());
  EXPECT_FALSE(find_job_state(records, "9_x").has_value());
}

TEST(SlurmJobState, FindsPendingTasksInsideTheRangeRecord) {
  auto records = parse_scontrol_records(kArrayFirstRunning);
  ASSERT_EQ(records.size(), 2u);
  auto running = find_job_state(records, "9_1");
  ASSERT_TRUE(running.has_value());
  EXPECT_EQ(running->job_id, "10");
  EXPECT_EQ(running->state, "RUNNING");

  auto pending = find_job_state(records, "9_3");
  ASSERT_TRUE(pending.has_value()) << "ArrayTaskId=2-4%1 holds task 3";
  EXPECT_EQ(pending->state, "PENDING");
  EXPECT_EQ(pending->reason, "JobArrayTaskLimit");
  EXPECT_EQ(pending->array_task_id, "3");
  EXPECT_FALSE(find_job_state(records, "9_5").has_value());
}

TEST(SlurmJobState, TaskRangesWithStepsAndLists) {
  std::vector<ScontrolRecord> records{{{"JobId", "20"},
                                       {"ArrayJobId", "20"},
                                       {"ArrayTaskId", "1-7:2,10%3"},
                                       {"JobState", "PENDING"}}};
  EXPECT_TRUE(find_job_state(records, "20_5").has_value());
  EXPECT_TRUE(find_job_state(records, "20_10").has_value());
  EXPECT_FALSE(find_job_state(records, "20_4").has_value()) << "step 2 skips 4";
  EXPECT_FALSE(find_job_state(records, "20_9").has_value());
}

// ---- status_after_signal ----

struct SignalCase {
  const char* what;
  std::string_view output;
  const char* job_id;
  int own_restart_count;
  RunStatus expected;
  bool user_signal;
};

TEST(SlurmSignalVerdict, RealRecordsAtSigterm) {
  const SignalCase cases[] = {
      {"scancel", kScancelAtTerm, "3", 0, RunStatus::CANCELLED, false},
      {"time limit", kTimeoutAtTerm, "5", 0, RunStatus::TIMEOUT, false},
      {"scontrol requeue", kRequeueAtTerm, "6", 0, RunStatus::REQUEUED, false},
      {"scancel on the run after a requeue", kCancelAfterRequeueAtTerm, "6", 1,
       RunStatus::CANCELLED, false},
      {"preempted, PreemptMode=CANCEL", kPreemptCancelAtTerm, "13", 0, RunStatus::PREEMPTED, false},
      {"preempted, PreemptMode=REQUEUE", kPreemptRequeueAtTerm, "15", 0, RunStatus::REQUEUED,
       false},
      {"scancel -b -s TERM", kUserTermRunning, "4", 0, RunStatus::CANCELLED, true},
  };
  for (const auto& c : cases) {
    SignalVerdict verdict =
        status_after_signal(state_of(c.output, c.job_id), c.own_restart_count, SIGTERM);
    EXPECT_EQ(name(verdict.status), name(c.expected)) << c.what << ": " << verdict.detail;
    EXPECT_EQ(verdict.user_signal, c.user_signal) << c.what << ": " << verdict.detail;
    EXPECT_NE(verdict.detail.find("SIGTERM"), std::string::npos) << verdict.detail;
  }
}

TEST(SlurmSignalVerdict, DetailSaysWhy) {
  auto timeout = status_after_signal(state_of(kTimeoutAtTerm, "5"), 0, SIGTERM);
  EXPECT_NE(timeout.detail.find("Reason=TimeLimit"), std::string::npos) << timeout.detail;
  auto requeue = status_after_signal(state_of(kRequeueAtTerm, "6"), 0, SIGTERM);
  EXPECT_NE(requeue.detail.find("Restarts=1"), std::string::npos) << requeue.detail;
  auto user = status_after_signal(state_of(kUserTermRunning, "4"), 0, SIGINT);
  EXPECT_NE(user.detail.find("SIGINT"), std::string::npos) << user.detail;
  EXPECT_NE(user.detail.find("RUNNING"), std::string::npos) << user.detail;
  auto other = status_after_signal(state_of(kScancelAtTerm, "3"), 0, 42);
  EXPECT_NE(other.detail.find("signal 42"), std::string::npos) << other.detail;
}

TEST(SlurmSignalVerdict, PreemptionDuringGraceTimeWhileStillRunning) {
  // As notes/slurm-facts.md describes GraceTime: RUNNING with PreemptTime set.
  std::string output =
      replaced(kUserTermRunning, "PreemptTime=None", "PreemptTime=2026-11-23T10:55:00");
  SignalVerdict verdict = status_after_signal(state_of(output, "4"), 0, SIGTERM);
  EXPECT_EQ(name(verdict.status), "PREEMPTED") << verdict.detail;
  EXPECT_FALSE(verdict.user_signal);
}

TEST(SlurmSignalVerdict, TimeLimitWinsOverRestartsAndPreemptTime) {
  std::string output =
      replaced(kTimeoutAtTerm, "PreemptTime=None", "PreemptTime=2026-11-23T10:57:40");
  EXPECT_EQ(name(status_after_signal(state_of(output, "5"), 0, SIGTERM).status), "TIMEOUT");
  EXPECT_EQ(name(status_after_signal(state_of(replaced(output, "Restarts=0", "Restarts=2"), "5"), 0,
                                     SIGTERM)
                     .status),
            "TIMEOUT");
}

TEST(SlurmSignalVerdict, RequeueWinsOverPreemptTime) {
  std::string output = replaced(kPreemptCancelAtTerm, "Restarts=0", "Restarts=1");
  EXPECT_EQ(name(status_after_signal(state_of(output, "13"), 0, SIGTERM).status), "REQUEUED");
}

TEST(SlurmSignalVerdict, FinalStateAlreadySetIsTaken) {
  // What a late look (or the C API's base state) shows.
  const SignalCase cases[] = {
      {"cancelled", kCancelledFinal, "3", 0, RunStatus::CANCELLED, false},
      {"timeout", kTimeoutFinal, "5", 0, RunStatus::TIMEOUT, false},
      {"preempted", kPreemptedFinal, "13", 0, RunStatus::PREEMPTED, false},
      {"pending after requeue", kPreemptRequeuedPending, "15", 0, RunStatus::REQUEUED, false},
  };
  for (const auto& c : cases) {
    SignalVerdict verdict =
        status_after_signal(state_of(c.output, c.job_id), c.own_restart_count, SIGTERM);
    EXPECT_EQ(name(verdict.status), name(c.expected)) << c.what << ": " << verdict.detail;
    EXPECT_FALSE(verdict.user_signal) << c.what;
  }
  SlurmJobState oom;
  oom.state = "OUT_OF_MEMORY";
  EXPECT_EQ(name(status_after_signal(oom, 0, SIGTERM).status), "OUT_OF_MEMORY");
  SlurmJobState deadline;
  deadline.state = "COMPLETING";
  deadline.reason = "DeadLine";
  EXPECT_EQ(name(status_after_signal(deadline, 0, SIGTERM).status), "DEADLINE");
}

TEST(SlurmSignalVerdict, FromSqueueLines) {
  // squeue -h -t all -j ID -o '%T|%r' in the same handlers.
  auto verdict_for = [](std::string_view line) {
    auto state = parse_squeue_state(line);
    EXPECT_TRUE(state.has_value()) << line;
    return name(status_after_signal(state.value_or(SlurmJobState{}), 0, SIGTERM).status);
  };
  EXPECT_EQ(verdict_for("COMPLETING|TimeLimit\n"), "TIMEOUT");
  EXPECT_EQ(verdict_for("COMPLETING|None\n"), "CANCELLED");
  EXPECT_EQ(verdict_for("PENDING|BeginTime\n"), "REQUEUED");
  auto running = parse_squeue_state("RUNNING|None\n");
  ASSERT_TRUE(running.has_value());
  EXPECT_TRUE(status_after_signal(*running, 0, SIGTERM).user_signal);
}

TEST(SlurmSqueueState, ParsesStateAndReason) {
  auto state = parse_squeue_state("\n  COMPLETING|TimeLimit  \nRUNNING|None\n");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->state, "COMPLETING");
  EXPECT_EQ(state->reason, "TimeLimit");
  auto no_reason = parse_squeue_state("RUNNING");
  ASSERT_TRUE(no_reason.has_value());
  EXPECT_EQ(no_reason->state, "RUNNING");
  EXPECT_EQ(no_reason->reason, "");
  EXPECT_FALSE(parse_squeue_state("").has_value());
  EXPECT_FALSE(parse_squeue_state("\n \n").has_value());
  EXPECT_FALSE(parse_squeue_state("|None").has_value());
}

// ---- run_status_from_slurm_state ----

TEST(SlurmStateName, EveryRunStatusNameMapsToItself) {
  for (std::string_view status_name : kRunStatusNames) {
    EXPECT_EQ(name(run_status_from_slurm_state(status_name)), status_name);
  }
}

TEST(SlurmStateName, FinalStatesOfRealJobs) {
  const std::pair<std::string_view, const char*> cases[] = {
      {kCancelledFinal, "CANCELLED"},    {kTimeoutFinal, "TIMEOUT"},
      {kPreemptedFinal, "PREEMPTED"},    {kFailedExit3Final, "FAILED"},
      {kCompletedFinal, "COMPLETED"},    {kLaunchFailedFinal, "FAILED"},
      {kJustAfterRequeue, "COMPLETING"}, {kPreemptRequeuedPending, "PENDING"},
  };
  for (const auto& [output, expected] : cases) {
    ScontrolRecord record = only_record(output);
    EXPECT_EQ(name(run_status_from_slurm_state(record["JobState"])), expected)
        << "JobState=" << record["JobState"];
  }
  EXPECT_EQ(only_record(kFailedExit3Final)["ExitCode"], "3:0");
  EXPECT_EQ(only_record(kFailedExit3Final)["Reason"], "NonZeroExitCode");
}

TEST(SlurmStateName, SacctAndSqueueForms) {
  EXPECT_EQ(name(run_status_from_slurm_state("CANCELLED by 0")), "CANCELLED");
  EXPECT_EQ(name(run_status_from_slurm_state("CANCELLED+")), "CANCELLED");
  EXPECT_EQ(name(run_status_from_slurm_state("  timeout\n")), "TIMEOUT");
  EXPECT_EQ(name(run_status_from_slurm_state("Node_Fail")), "NODE_FAIL");
  EXPECT_EQ(name(run_status_from_slurm_state("CA")), "CANCELLED");
  EXPECT_EQ(name(run_status_from_slurm_state("TO")), "TIMEOUT");
  EXPECT_EQ(name(run_status_from_slurm_state("PR")), "PREEMPTED");
  EXPECT_EQ(name(run_status_from_slurm_state("CD")), "COMPLETED");
  EXPECT_EQ(name(run_status_from_slurm_state("F")), "FAILED");
  EXPECT_EQ(name(run_status_from_slurm_state("OOM")), "OUT_OF_MEMORY");
  EXPECT_EQ(name(run_status_from_slurm_state("R")), "RUNNING");
  EXPECT_EQ(name(run_status_from_slurm_state("PD")), "PENDING");
}

TEST(SlurmStateName, StatesOutsideTheEnumGiveNullopt) {
  for (const char* text : {"RECONFIG_FAIL", "POWER_UP_NODE", "UPDATE_DB", "RESV_DEL", "RUNNINGX",
                           "", "   ", "+", "by 0"}) {
    EXPECT_EQ(name(run_status_from_slurm_state(text)), "nullopt") << "for \"" << text << "\"";
  }
}

}  // namespace
}  // namespace sqltrack
