"""Signed-in learners reading a lesson and submitting its quiz, every request timed and recorded."""

import html
import http.client
import http.cookiejar
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

REQUEST_TIMEOUT = 10
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
QUIZ_FORM = re.compile(r'<form method="post" action="(/quizzes/\d+/submit/)".*?</form>', re.S)
TOKEN = re.compile(r'name="token" value="([^"]*)"')
CHOICE = re.compile(r'<input type="(radio|checkbox)" name="(q\d+)" value="(\d+)"')
TEXT = re.compile(r'<input (?:class="mono" )?type="text" name="(q\d+)"')
ORDERING = re.compile(r'<select id="[^"]*" name="(q\d+-\d+)">')
ATTEMPT = re.compile(r"/attempts/(\d+)/")
REFUSAL = re.compile(r"not submitted\.</strong>\s*(.*?)</p>", re.S)


@dataclass
class Sample:
    phase: str
    kind: str  # "page" or "submit"
    learner: str
    status: int  # 0: no HTTP answer (connection refused or reset, timeout)
    started: float
    finished: float
    retry_after: str | None
    note: str = ""  # why a refusal was made, as the page tells the learner

    @property
    def latency(self):
        return self.finished - self.started


@dataclass
class Acknowledged:
    learner: str
    token: str
    attempt_id: int | None
    status: int
    phase: str


@dataclass
class Recorder:
    phase: str = "setup"
    samples: list = field(default_factory=list)
    acknowledged: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample):
        with self.lock:
            self.samples.append(sample)

    def acknowledge(self, ack):
        with self.lock:
            self.acknowledged.append(ack)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def quiz_submission(page):
    """The quiz form of a lesson page as POST data: every question answered with its first choice."""
    match = QUIZ_FORM.search(page)
    if match is None:
        return None, None
    form = match.group(0)
    data = {"csrfmiddlewaretoken": CSRF.search(form).group(1), "token": html.unescape(TOKEN.search(form).group(1))}
    pairs = list(data.items())
    seen = set()
    for _kind, name, value in CHOICE.findall(form):
        if name not in seen:  # one choice per question is a valid answer of every choice kind
            seen.add(name)
            pairs.append((name, value))
    for name in TEXT.findall(form):
        pairs.append((name, "kubectl get pods"))
    selects = ORDERING.findall(form)
    by_question = {}
    for name in selects:
        by_question.setdefault(name.split("-")[0], []).append(name)
    for names in by_question.values():
        pairs.extend((name, str(position)) for position, name in enumerate(names, start=1))
    return match.group(1), pairs


def _page_summary(text):
    """The title and the first alert of a page, in one line."""
    title = re.search(r"<title>(.*?)</title>", text, re.S)
    alert = re.search(r'role="alert"[^>]*>(.*?)</', text, re.S)
    parts = [html.unescape(match.group(1)) for match in (title, alert) if match]
    return " | ".join(" ".join(part.split()) for part in parts) or " ".join(text.split())[:300]


class Learner:
    def __init__(self, base, username, password, recorder):
        self.base = base
        self.username = username
        self.password = password
        self.recorder = recorder
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def _open(self, kind, path, data=None):
        url = f"{self.base}{path}"
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        headers = {"Referer": url} if body is not None else {}
        request = urllib.request.Request(url, data=body, headers=headers)
        phase = self.recorder.phase
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                status, text, response_headers = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, text, response_headers = error.code, error.read().decode(errors="replace"), error.headers
        except (OSError, http.client.HTTPException) as exc:
            # No HTTP answer at all: refused, reset by a dying worker, timed out.
            status, text, response_headers = 0, type(exc).__name__, {}
        finished = time.monotonic()
        retry_after = response_headers.get("Retry-After") if response_headers else None
        refusal = REFUSAL.search(text) if 400 <= status < 500 else None
        if refusal:
            note = html.unescape(refusal.group(1)).strip()
        else:  # no answer at all, or a refusal that is not one of the portal's pages: what came back
            note = text if status == 0 else _page_summary(text) if status >= 400 else ""
        self.recorder.add(Sample(phase, kind, self.username, status, started, finished, retry_after, note))
        return status, text, response_headers, phase

    def sign_in(self):
        status, page, _, _ = self._open("page", "/account/login/")
        assert status == 200, f"login page answered {status}"
        data = {"csrfmiddlewaretoken": CSRF.search(page).group(1), "username": self.username}
        status, _, _, _ = self._open("submit", "/account/login/", {**data, "password": self.password})
        assert status == 302, f"{self.username} could not sign in ({status})"

    def read(self, lesson_path):
        status, page, _, _ = self._open("page", lesson_path)
        return status, page

    def submit(self, page):
        """Submit the page's quiz; returns the acknowledgement when the portal gave one (2xx/3xx)."""
        action, pairs = quiz_submission(page)
        if action is None:
            return None
        token = dict(pairs)["token"]
        status, _, headers, phase = self._open("submit", action, pairs)
        if not 200 <= status < 400:
            return None
        match = ATTEMPT.search(headers.get("Location", "")) if headers else None
        ack = Acknowledged(self.username, token, int(match.group(1)) if match else None, status, phase)
        self.recorder.acknowledge(ack)
        return ack

    def run(self, lesson_path, stop, max_requests):
        """Read and submit until told to stop, at most ``max_requests`` requests; back off on failures.

        When the page cannot be read, the learner submits the form they already have again, as
        someone would press the button once more: that is how submissions meet an outage.
        """
        sent, last_page = 0, None
        while not stop.is_set() and sent < max_requests:
            status, page = self.read(lesson_path)
            sent += 1
            if status == 200:
                last_page = page
            elif last_page is None:
                stop.wait(0.2)
                continue
            self.submit(last_page)
            sent += 1
            stop.wait(0.05 if status == 200 else 0.2)
