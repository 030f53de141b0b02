"""Lab nightly-backup: CronJob backup every day at 02:00, concurrencyPolicy Forbid, startingDeadlineSeconds set,
and a Job template whose container may finish."""

from ..schedules import ScheduleError, describe, expand
from .common import containers, exists_check, listing, pod_spec, requires, result, shortened, spec

LESSON = "cronjobs"
LAB = f"{LESSON}#lab-nightly-backup"
NAME = "backup"
WANTED = "0 2 * * *"
SCHEDULE_HINT = (
    "The five fields are minute, hour, day of month, month, day of week: minute 0, hour 2, and * for the rest."
)


cronjob_exists = exists_check(
    "cronjob-exists",
    "CronJob",
    NAME,
    hint="Apply a manifest with kind: CronJob (apiVersion batch/v1) and metadata.name: backup.",
    teaches=f"{LESSON}#how-a-cronjob-works",
)


@requires(
    "CronJob", NAME, "schedule", "Runs every day at 02:00", teaches=LAB,
    looks_for="a schedule meaning every day at 02:00 (`0 2 * * *`), and not suspended",
)  # fmt: skip
def schedule(snapshot, found):
    value = str(spec(found).get("schedule", ""))
    suspended = spec(found).get("suspend") is True
    try:
        matches = expand(value) == expand(WANTED)
    except ScheduleError:
        matches = False
    actual = f"{shortened(value, 100)} ({describe(value)})"
    hints = [] if matches else [SCHEDULE_HINT]
    if suspended:
        actual += "; spec.suspend is true, so the controller starts no backup"
        hints.append(
            "spec.suspend: true stops the CronJob from starting any Job: remove spec.suspend or set it to false in "
            "your manifest, then apply it again."
        )
    return result(
        "schedule", "Runs every day at 02:00", matches and not suspended,
        expected=f"{WANTED} (every day at 02:00), and spec.suspend unset or false", actual=actual,
        hint=" ".join(hints) or SCHEDULE_HINT, teaches=f"{LESSON}#cron-schedule-syntax",
    )  # fmt: skip


@requires(
    "CronJob", NAME, "concurrency-policy", "Never two backups at once", teaches=LAB,
    looks_for="`concurrencyPolicy: Forbid`",
)  # fmt: skip
def concurrency_policy(snapshot, found):
    policy = spec(found).get("concurrencyPolicy") or "Allow"
    return result(
        "concurrency-policy", "Never two backups at once", policy == "Forbid",
        expected="spec.concurrencyPolicy: Forbid", actual=f"spec.concurrencyPolicy: {policy}",
        hint="With Forbid, a run that is due while the previous backup still runs is skipped instead of overlapping.",
        teaches=f"{LESSON}#concurrencypolicy",
    )  # fmt: skip


@requires(
    "CronJob", NAME, "starting-deadline", "startingDeadlineSeconds is set", teaches=LAB,
    looks_for="`startingDeadlineSeconds` set to a number of seconds",
)  # fmt: skip
def starting_deadline(snapshot, found):
    deadline = spec(found).get("startingDeadlineSeconds")
    return result(
        "starting-deadline", "startingDeadlineSeconds is set", isinstance(deadline, int) and deadline > 0,
        expected="spec.startingDeadlineSeconds, e.g. 600", actual=f"spec.startingDeadlineSeconds: {deadline if deadline is not None else '(not set)'}",
        hint="Set spec.startingDeadlineSeconds so a run missed by more than that (say, 600 seconds) is skipped.",
        teaches=f"{LESSON}#startingdeadlineseconds",
    )  # fmt: skip


@requires(
    "CronJob", NAME, "job-template", "The Job template runs a container that can finish", teaches=LAB,
    looks_for="a Job template with a container and `restartPolicy` `OnFailure` or `Never`",
)  # fmt: skip
def job_template(snapshot, found):
    template = pod_spec(found)
    names = [container.get("name") for container, _ in containers(template, init=False)]
    policy = template.get("restartPolicy") or "(not set)"
    problems = (["no container"] if not names else []) + (
        [f"restartPolicy: {policy}"] if policy not in {"Never", "OnFailure"} else []
    )
    return result(
        "job-template", "The Job template runs a container that can finish", not problems,
        expected="spec.jobTemplate.spec.template.spec with a container and restartPolicy OnFailure or Never",
        actual=listing(problems) or f"container {listing(names, ', ')}, restartPolicy: {policy}",
        hint="Under spec.jobTemplate.spec.template.spec list the container that does the backup and set restartPolicy: "
        "OnFailure (retry in the same Pod) or Never (a new Pod per retry); Always would never let a backup finish.",
        teaches="jobs#restart-policy",
    )  # fmt: skip


CHECKS = [cronjob_exists, schedule, concurrency_policy, starting_deadline, job_template]
WORKLOADS = [("CronJob", NAME)]
