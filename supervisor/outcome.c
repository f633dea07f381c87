/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * outcome.c: how a job ended, decided from what the worker said and how it
 * exited (DESIGN.md, "Outcomes"). The exit status is the truth: a report
 * counts only when the exit matches it.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "supervisor/job-priv.h"
#include "util/virerror.h"

const char *virSupSignalName(int signo)
{
    static const struct { int sig; const char *name; } names[] = {
        { SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" },
        { SIGILL, "SIGILL" }, { SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
        { SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" }, { SIGKILL, "SIGKILL" },
        { SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
        { SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
        { SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" }, { SIGSYS, "SIGSYS" },
    };
    for (size_t i = 0; i < ARRAY_CARDINALITY(names); i++)
        if (names[i].sig == signo)
            return names[i].name;
    return "unknown signal";
}

static void set(virSupOutcome *out, virJobState st, int code, const char *fmt, ...)
    ATTRIBUTE_FMT_PRINTF(4, 5);
static void set(virSupOutcome *out, virJobState st, int code, const char *fmt, ...)
{
    va_list ap;
    out->state = st;
    out->code = code;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof(out->message), fmt, ap);
    va_end(ap);
}

static double secs(unsigned int ms)
{
    return ms / 1000.0;
}

void virSupOutcomeDecide(const virSupOutcomeInput *in, virSupOutcome *out)
{
    bool exited = in->exit_code == CLD_EXITED;
    bool signaled = in->exit_code == CLD_KILLED || in->exit_code == CLD_DUMPED;
    const char *wmsg = in->report_message && *in->report_message ?
                       in->report_message : "the worker gave no reason";

    memset(out, 0, sizeof(*out));

    if (in->killed == VIR_SUP_KILL_DEADLINE && signaled) {
        set(out, VIR_JOB_FAILED, VIR_ERR_OPERATION_TIMEOUT,
            "timed out after %.3g s", secs(in->deadline_ms));
        return;
    }
    if (in->killed == VIR_SUP_KILL_GRACE && signaled) {
        set(out, VIR_JOB_CANCELLED, VIR_ERR_OPERATION_ABORTED,
            "cancelled: worker did not stop within %.3g s, killed",
            secs(in->grace_ms));
        return;
    }
    if (exited) {
        switch (in->report) {
        case VIR_PROTO_REPORT_SUCCESS:
            if (in->exit_status == VIR_WORKER_EXIT_OK) {
                set(out, VIR_JOB_COMPLETE, 0, "%s", "");
                return;
            }
            break;
        case VIR_PROTO_REPORT_CANCELLED:
            set(out, VIR_JOB_CANCELLED, VIR_ERR_OPERATION_ABORTED, "%s",
                "cancelled by request");
            return;
        case VIR_PROTO_REPORT_FAILURE:
            set(out, VIR_JOB_FAILED,
                in->report_code ? in->report_code : VIR_ERR_OPERATION_FAILED,
                "%s", wmsg);
            return;
        case VIR_PROTO_REPORT_NONE:
        default:
            break;
        }
        if (in->report == VIR_PROTO_REPORT_SUCCESS)
            set(out, VIR_JOB_FAILED, VIR_ERR_JOB_NO_REPORT,
                "worker exited with status %d after reporting success",
                in->exit_status);
        else
            set(out, VIR_JOB_FAILED, VIR_ERR_JOB_NO_REPORT,
                "worker exited without reporting (status %d)", in->exit_status);
        return;
    }
    if (signaled) {
        /* Our own SIGTERM on cancel, to a worker that did not catch it. */
        if (in->cancel_requested && in->exit_status == SIGTERM) {
            set(out, VIR_JOB_CANCELLED, VIR_ERR_OPERATION_ABORTED, "%s",
                "cancelled by request");
            return;
        }
        set(out, VIR_JOB_FAILED, VIR_ERR_JOB_CRASHED,
            "worker crashed: signal %d (%s)%s", in->exit_status,
            virSupSignalName(in->exit_status),
            in->exit_code == CLD_DUMPED ? ", core dumped" : "");
        return;
    }
    set(out, VIR_JOB_FAILED, VIR_ERR_INTERNAL_ERROR,
        "worker ended in an unknown way (code %d, status %d)",
        in->exit_code, in->exit_status);
}
