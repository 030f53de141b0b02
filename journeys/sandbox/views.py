"""Lab checks from the lesson page: read the learner's namespace (or their paste) and show the report.

What a check costs decides what it is charged. A cluster check costs the cluster: every one counts
against the learner. A paste costs only the portal's CPU: it counts against the learner when it was
actually checked, and against the address it came from every time, refused or not, because a
client that drops its cookies is a new anonymous learner on every request but keeps its address.

Nothing is recorded for a check that could not read the learner's objects: the answer is a 4xx
with the reason inside the lab panel, and the pasted text stays in the box to be corrected.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import Http404, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from .. import ratelimit
from ..client_address import client_address, limit_key
from ..learners import SESSION_KEY, learner_for
from ..models import LabRun, Lesson
from . import services
from . import texts as lab_texts
from .assignments import namespace_for
from .labs import LABS
from .panels import lab_panel_context
from .sources import MAX_PASTE_BYTES, ClusterSource, FileSource, SourceError, cluster_configured

LAB_TEMPLATE = "sandbox/lab.html"
# Room for the rest of the form around a paste of the largest size: the CSRF token, the multipart
# headers, and the carriage return browsers add to every line of a textarea (about 3% for YAML).
FORM_SLACK_BYTES = 256 * 1024
MAX_REQUEST_BYTES = MAX_PASTE_BYTES + FORM_SLACK_BYTES

# Status codes of the answers that record nothing.
REFUSED = 400
TOO_LARGE = 413
CLUSTER_FAILED = 424  # Failed Dependency: the check depends on the cluster, and the cluster failed
RATE_LIMITED = 429
BUSY = 503
BUSY_RETRY_SECONDS = 5


def _render_panel(request, context, status=200, *, paste=""):
    if request.htmx:
        # The browser keeps its own box (hx-preserve), so the paste is not sent back a second time.
        return render(request, f"{LAB_TEMPLATE}#panel", context, status=status)
    # Without JavaScript the whole page comes back: the paste goes into the new box, unless it is
    # larger than anything the portal accepts.
    context["lab_paste"] = paste if len(paste.encode("utf-8")) <= MAX_PASTE_BYTES else ""
    return render(request, LAB_TEMPLATE, context, status=status)


def _refusal(request, lab, lesson, message, status, *, paste="", retry_after=None):
    response = _render_panel(request, lab_panel_context(request, lab, lesson, error=message), status, paste=paste)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _visible_lab_and_lesson(request, lab_slug):
    lab = LABS.get(lab_slug)
    if lab is None:
        raise Http404("No such lab.")
    lesson = Lesson.objects.visible_to(request.user).select_related("journey", "module").filter(slug=lab.lesson).first()
    if lesson is None:
        raise Http404("This lab's lesson is not available.")
    return lab, lesson


class _UploadLimit(FileUploadHandler):
    """Stops reading uploaded files past the paste limit (a body whose length was not announced)."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > MAX_PASTE_BYTES:
            self.exceeded = True
            # Read no further: the rest of the body is never parsed.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def _announced_length(request):
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@csrf_exempt  # checked below, once the body is known to be small enough to read
@require_POST
def lab_check(request, lab_slug):
    lab, lesson = _visible_lab_and_lesson(request, lab_slug)
    # Django's CSRF check reads the whole body to find the form's token; a body too large for any
    # check is refused before anything reads it.
    if _announced_length(request) > MAX_REQUEST_BYTES:
        return _too_large(request, lab, lesson)
    upload_limit = _UploadLimit(request)
    request.upload_handlers.insert(0, upload_limit)
    try:
        return _protected_lab_check(request, lab, lesson, upload_limit)
    except RequestDataTooBig:
        return _too_large(request, lab, lesson)
    except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent):
        message = "The form could not be read. Reload the page and send it again."
        return _refusal(request, lab, lesson, message, REFUSED)


@csrf_protect
def _protected_lab_check(request, lab, lesson, upload_limit):
    mode = request.POST.get("mode", "")  # reads the body, unless the CSRF check has already
    if upload_limit.exceeded:
        return _too_large(request, lab, lesson)
    if mode == "cluster":
        return _cluster_check(request, lab, lesson)
    if mode == "file":
        return _paste_check(request, lab, lesson)
    message = "Choose how to check your work: against your namespace, or by pasting kubectl output."
    return _refusal(request, lab, lesson, message, REFUSED)


def _cluster_check(request, lab, lesson):
    namespace, context = namespace_for(request.user)
    if not cluster_configured() or namespace is None:
        message = (
            "Checking against the cluster needs an account with an assigned namespace. "
            "Paste the output of kubectl get ... -o yaml instead."
        )
        return _refusal(request, lab, lesson, message, REFUSED)
    learner = learner_for(request, create=True)
    attempt = ratelimit.attempt(f"lab:{learner.key}", limit=settings.SANDBOX_RUNS_PER_MINUTE)
    if not attempt.allowed:
        return _learner_limited(request, lab, lesson, attempt.wait)
    source = ClusterSource(context=context)
    try:
        run, report = services.lab_check(learner=learner, lab=lab, lesson=lesson, source=source, namespace=namespace)
    except SourceError as error:
        if error.code == "busy":
            attempt.refund()
            return _busy(request, lab, lesson, error)
        # The attempt stays counted: it reached the cluster, and retrying at once would only add load.
        return _refusal(request, lab, lesson, error.message, CLUSTER_FAILED)
    return _render_panel(request, lab_panel_context(request, lab, lesson, run=run, report=report))


def _paste_check(request, lab, lesson):
    upload = request.FILES.get("upload")
    # Browsers send a textarea's lines ending in CR LF; the limit is about what the learner pasted.
    paste = "" if upload else request.POST.get("paste", "").replace("\r\n", "\n")
    address_wait = _address_wait(request)
    if address_wait:
        return _address_limited(request, lab, lesson, address_wait, paste=paste)
    had_key = learner_for(request).is_known
    learner = learner_for(request, create=True)
    attempt = ratelimit.attempt(f"lab:{learner.key}", limit=settings.SANDBOX_RUNS_PER_MINUTE)
    if not attempt.allowed:
        return _learner_limited(request, lab, lesson, attempt.wait, paste=paste)
    source = FileSource.from_upload(upload) if upload else FileSource(text=paste)
    try:
        run, report = services.lab_check(learner=learner, lab=lab, lesson=lesson, source=source)
    except SourceError as error:
        # Nothing was checked: the learner keeps the check, and a first-time visitor gets no
        # anonymous key (nor the session that would hold it) for a paste that could not be read.
        attempt.refund()
        if not had_key:
            request.session.pop(SESSION_KEY, None)
        if error.code == "busy":
            return _busy(request, lab, lesson, error, paste=paste)
        status = TOO_LARGE if error.code == "too-large" else REFUSED
        return _refusal(request, lab, lesson, error.message, status, paste=paste)
    return _render_panel(request, lab_panel_context(request, lab, lesson, run=run, report=report), paste=paste)


def _address_wait(request):
    key = f"lab-paste:{limit_key(client_address(request))}"
    return ratelimit.attempt(key, limit=settings.SANDBOX_PASTES_PER_MINUTE_PER_ADDRESS).wait


def _too_large(request, lab, lesson):
    # Still a paste attempt from this address, though nothing of it was read.
    address_wait = _address_wait(request)
    if address_wait:
        return _address_limited(request, lab, lesson, address_wait)
    kinds = ",".join(kind.lower() for kind in lab.kinds)
    message = (
        f"The file is larger than 1 MiB. Paste or upload only the objects of this lab, "
        f"for example the output of `kubectl get {kinds} -o yaml`."
    )
    return _refusal(request, lab, lesson, message, TOO_LARGE)


def _busy(request, lab, lesson, error, *, paste=""):
    return _refusal(request, lab, lesson, error.message, BUSY, paste=paste, retry_after=BUSY_RETRY_SECONDS)


def _learner_limited(request, lab, lesson, wait, *, paste=""):
    message = f"You have checked a lot in the last minute. You can check again in {wait} seconds."
    return _refusal(request, lab, lesson, message, RATE_LIMITED, paste=paste, retry_after=wait)


def _address_limited(request, lab, lesson, wait, *, paste=""):
    message = f"Many checks came from your network in the last minute. You can check again in {wait} seconds."
    return _refusal(request, lab, lesson, message, RATE_LIMITED, paste=paste, retry_after=wait)


@require_GET
def lab_run(request, run_id):
    learner = learner_for(request)
    run = get_object_or_404(learner.records(LabRun.objects.select_related("lesson__journey")), pk=run_id)
    lab = LABS.get(run.lab_slug)
    if lab is None:
        raise Http404("This lab no longer exists.")
    return render(request, LAB_TEMPLATE, lab_panel_context(request, lab, run.lesson, run=run))


@require_GET
def lab_starting_manifest(request, lab_slug):
    """The broken manifest a break-and-fix lab starts from, as a file to save and `kubectl apply -f`."""
    lab, _ = _visible_lab_and_lesson(request, lab_slug)
    text = lab_texts.starting_text(lab)
    if not text:
        raise Http404("This lab starts from an empty namespace, not from a manifest.")
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{lab.starting_file}"'
    return response
