"""Lab batch-pi: Job pi with completions 3, parallelism 2, restartPolicy Never or OnFailure, completed."""

from .common import condition, condition_true, exists_check, pod_spec, requires, result, spec, status

LESSON = "jobs"
LAB = f"{LESSON}#lab-batch-pi"
NAME = "pi"


job_exists = exists_check(
    "job-exists",
    "Job",
    NAME,
    hint="Apply a manifest with kind: Job and metadata.name: pi. A finished Job stays until you delete it, unless "
    "ttlSecondsAfterFinished removed it: leave that field out for this lab.",
    teaches=f"{LESSON}#a-first-job",
)


def _field(check_id, title, field, wanted, hint, anchor):
    @requires("Job", NAME, check_id, title, teaches=LAB, looks_for=f"`spec.{field}: {wanted}`")
    def check(snapshot, found):
        value = spec(found).get(field, 1)
        return result(
            check_id, title, value == wanted, expected=f"spec.{field}: {wanted}", actual=f"spec.{field}: {value}",
            hint=hint, teaches=f"{LESSON}#{anchor}",
        )  # fmt: skip

    check.__name__ = check_id.replace("-", "_")
    return check


completions = _field(
    "completions", "Three completions", "completions", 3,
    "The API server refuses changes to spec.completions of a Job like this one (only an Indexed Job may change it, "
    "together with parallelism), and to its Pod template: delete the Job, set spec.completions: 3 and apply it again.",
    "completions-and-parallelism",
)  # fmt: skip
parallelism = _field(
    "parallelism", "Two Pods at a time", "parallelism", 2,
    "Set spec.parallelism: 2 so at most two Pods run at once; unlike completions, it may be changed on an existing Job.",
    "completions-and-parallelism",
)  # fmt: skip


@requires(
    "Job", NAME, "restart-policy", "restartPolicy Never or OnFailure", teaches=LAB,
    looks_for="`restartPolicy` `Never` or `OnFailure` in the pod template",
)  # fmt: skip
def restart_policy(snapshot, found):
    policy = pod_spec(found).get("restartPolicy") or "(not set)"
    return result(
        "restart-policy", "restartPolicy Never or OnFailure", policy in {"Never", "OnFailure"},
        expected="spec.template.spec.restartPolicy: Never or OnFailure", actual=f"restartPolicy: {policy}",
        hint="A Job's Pods must be allowed to finish: use Never (a new Pod per retry) or OnFailure (restart in place).",
        teaches=f"{LESSON}#restart-policy",
    )  # fmt: skip


@requires(
    "Job", NAME, "job-complete", "The Job completed", teaches=LAB,
    looks_for="the Job's `Complete` condition: three Pods succeeded",
)  # fmt: skip
def job_complete(snapshot, found):
    succeeded, active = status(found).get("succeeded", 0), status(found).get("active", 0)
    failed = condition(found, "Failed")
    if condition_true(found, "Failed"):
        actual = f"failed: {failed.get('reason', '')} {failed.get('message', '')}".strip()
        hint = "Look at a failed Pod's logs with `kubectl logs job/pi`, fix the command, delete the Job and apply it again."
    else:
        actual = f"{succeeded} of 3 succeeded, {active} running"
        hint = (
            "Wait for the Pods to finish (`kubectl get job pi -w`), then check again. A Pod stuck in Pending with "
            "ImagePullBackOff never fails, so the Job waits forever: fix the image name, delete the Job and apply it again."
        )
    return result(
        "job-complete", "The Job completed", condition_true(found, "Complete"),
        expected="condition Complete (3 Pods succeeded)", actual=actual, hint=hint, teaches=f"{LESSON}#a-first-job",
    )  # fmt: skip


CHECKS = [job_exists, completions, parallelism, restart_policy, job_complete]
WORKLOADS = [("Job", NAME)]
