"""A learner's browser for the Python load loops: cookies kept, no redirect followed, logged in by the form."""

import http.cookiejar
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from bench.config import PASSWORD, REQUEST_TIMEOUT


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One learner's browser: a cookie jar, no redirects followed, every request to the bench server only."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def request(self, path, data=None, headers=None):
        # Always http://127.0.0.1:<port> of the gunicorn this benchmark started.
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})  # noqa: S310
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode(errors="replace")
        return status, body, time.perf_counter() - started

    def cookie(self, name):
        return next((cookie.value for cookie in self.jar if cookie.name == name), "")

    def cookie_header(self):
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)

    def login(self, username, password):
        status, page, _ = self.request("/account/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf})
        status, _, _ = self.request("/account/login/", data=body.encode())
        if status != 302 or not self.cookie("sessionid"):
            raise RuntimeError(f"logging in as {username} answered {status}")

    def submit_quiz(self, form, answers, rng):
        return self.request(
            f"/quizzes/{form.quiz_id}/submit/",
            data=form.body(answers, rng).encode(),
            headers={"HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded"},
        )


def login_all(base, usernames, parallel=4):
    """Log every learner in through the login form (PBKDF2 on the server: a quarter second each)."""
    browsers = {username: Browser(base) for username in usernames}
    errors = []

    def work(names):
        for name in names:
            try:
                browsers[name].login(name, PASSWORD)
            except Exception as exc:  # noqa: BLE001 - reported below, the run stops
                errors.append(f"{name}: {exc}")

    threads = [threading.Thread(target=work, args=(usernames[index::parallel],)) for index in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError("login failed: " + "; ".join(errors[:3]))
    return [browsers[name] for name in usernames]
