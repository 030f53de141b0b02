"""Walks a running portal as a new learner would, over plain HTTP (standard library only).

Used by deploy/check-image.sh against the container image; it needs nothing installed, so it runs
with the system's python3 on a clean machine. Each check prints one line; the first that fails
prints what it expected and what it got, and the script exits 1.

    python3 deploy/check_portal.py http://127.0.0.1:18080 signup --username NAME --password=PW
    python3 deploy/check_portal.py http://127.0.0.1:18080 attempt --username NAME --password=PW --attempt ID

`signup` checks /healthz, /readyz, the first lesson (its title and a line of its text, from the files),
signs up, submits that lesson's quiz and prints `attempt=<id>` last. `attempt` signs in and checks
that the attempt's page still answers (after a restore, say).
"""

import argparse
import html
import http.client
import json
import re
import sys
import time
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

CONTENT = Path(__file__).resolve().parent.parent / "journeys" / "content"


class CheckFailedError(Exception):
    pass


class Browser:
    """One client with a cookie jar, following redirects on the one host it was given."""

    def __init__(self, base_url):
        parts = urllib.parse.urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.host, self.port = parts.hostname, parts.port or 80
        self.cookies = {}

    def request(self, method, path, form=None, follow=True):
        for _ in range(5):
            connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "kube-journeys-image-check"}
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            body = None
            if form is not None:
                body = urllib.parse.urlencode(form, doseq=True)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                # What a browser sends with a form; Django's CSRF check compares it with the host.
                headers["Origin"] = self.origin
                headers["Referer"] = self.origin + path
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
            connection.close()
            location = response.getheader("Location")
            if follow and response.status in (301, 302, 303) and location:
                path = urllib.parse.urljoin(path, location)
                if path.startswith(self.origin):
                    path = path[len(self.origin) :]
                method, form = "GET", None
                continue
            return response.status, text, path
        raise CheckFailedError(f"too many redirects from {path}")


class FormParser(HTMLParser):
    """The forms of a page: action, and every field with the values it offers."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": []})
        elif not self.forms:
            return
        elif tag == "input" and attrs.get("name"):
            self.forms[-1]["fields"].append(
                {"name": attrs["name"], "type": attrs.get("type", "text"), "value": attrs.get("value", "")}
            )
        elif tag == "select" and attrs.get("name"):
            self._select = {"name": attrs["name"], "type": "select", "options": []}
            self.forms[-1]["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            self._select["options"].append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def forms_of(page):
    parser = FormParser()
    parser.feed(page)
    return parser.forms


def page_text(page):
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def expect(condition, what, got=""):
    if not condition:
        raise CheckFailedError(f"{what}" + (f"; got: {got[:300]!r}" if got else ""))


def first_lesson():
    """The first lesson of the first journey, from the files the image loads at start: its path,
    its title, and a line of its text that Markdown leaves as it is (no links, code or quotes)."""
    journey_dir = sorted(p.parent for p in CONTENT.glob("*/journey.yaml"))[0]
    journey_slug = re.search(r"^slug:\s*(\S+)", (journey_dir / "journey.yaml").read_text(), re.M)
    lesson_file = sorted(journey_dir.glob("[0-9]*.md"))[0]
    _, front, body = lesson_file.read_text().split("---", 2)
    field = {name: re.search(rf"^{name}:\s*(.+)$", front, re.M).group(1).strip() for name in ("slug", "title")}
    plain = [line.strip() for line in body.splitlines() if len(line) > 40 and not re.search(r"[^\w ,.;:()]", line)]
    slug = journey_slug.group(1) if journey_slug else journey_dir.name
    return f"/journeys/{slug}/{field['slug']}/", field["title"], plain[0]


def check_probes(browser):
    status, body, _ = browser.request("GET", "/healthz")
    expect(status == 200 and body.strip() == "ok", "/healthz answers 200 ok", f"{status} {body}")
    print("ok  /healthz: 200 ok")
    status, body, _ = browser.request("GET", "/readyz")
    expect(status == 200, "/readyz answers 200", f"{status} {body}")
    ready = json.loads(body)
    expect(ready.get("database") == "ok" and ready.get("cache") == "ok", "/readyz: database and cache ok", body)
    print(f"ok  /readyz: 200 {body.strip()}")


def check_lesson(browser):
    path, title, line = first_lesson()
    status, page, _ = browser.request("GET", path)
    expect(status == 200, f"lesson {path} answers 200", f"{status}")
    text = page_text(page)
    expect(title in text, f"lesson {path} shows its title {title!r}", text[:300])
    expect(line in text, f"lesson {path} shows its text ({line!r})", text[:300])
    print(f"ok  lesson {path}: 200, title and text present")
    return path


def csrf_token(page, action_part):
    for form in forms_of(page):
        if action_part in form["action"]:
            for field in form["fields"]:
                if field["name"] == "csrfmiddlewaretoken":
                    return form, field["value"]
    raise CheckFailedError(f"no form posting to {action_part} with a CSRF token on the page")


def check_signup(browser, username, password):
    status, page, _ = browser.request("GET", "/account/signup/")
    expect(status == 200, "GET /account/signup/ answers 200", f"{status}")
    _, token = csrf_token(page, "/account/signup/")
    expect("csrftoken" in browser.cookies, "the sign-up form sets a CSRF cookie", str(browser.cookies))
    form = {
        "csrfmiddlewaretoken": token,
        "username": username,
        "email": f"{username}@example.com",
        "password1": password,
        "password2": password,
        "next": "",
    }
    status, page, final = browser.request("POST", "/account/signup/", form)
    expect(status == 200 and final == "/dashboard/", "sign-up redirects to the dashboard", f"{status} {final}")
    expect(username in page_text(page), f"the dashboard names {username}", page_text(page))
    print(f"ok  sign-up as {username}: redirected to {final}")


def answer_quiz(form):
    """Some answer to every question: the first choice, a word, positions in order."""
    answers, positions = {}, {}
    for field in form["fields"]:
        name, kind = field["name"], field["type"]
        if kind == "hidden":
            answers[name] = field["value"]
        elif kind in ("radio", "checkbox"):
            answers.setdefault(name, field["value"])
        elif kind == "select":
            group = name.split("-")[0]
            positions[group] = positions.get(group, 0) + 1
            answers[name] = str(positions[group])
        elif kind == "text":
            answers[name] = "kubectl get pods"
    return answers


def check_quiz(browser, lesson_path):
    status, page, _ = browser.request("GET", lesson_path)
    expect(status == 200, f"lesson {lesson_path} answers 200 when signed in", f"{status}")
    form, _ = csrf_token(page, "/submit/")
    questions = {f["name"] for f in form["fields"] if re.match(r"q\d+", f["name"])}
    expect(questions, "the lesson's quiz has questions", str(form))
    status, page, final = browser.request("POST", form["action"], answer_quiz(form))
    match = re.fullmatch(r"/attempts/(\d+)/", final)
    expect(status == 200 and match, "the quiz submission redirects to its attempt", f"{status} {final}")
    expect("%" in page_text(page), "the attempt page shows a score", page_text(page))
    print(f"ok  quiz {form['action']}: {len(questions)} questions answered, recorded as {final}")
    return int(match.group(1))


def check_attempt(browser, username, password, attempt_id):
    status, page, _ = browser.request("GET", "/account/login/")
    expect(status == 200, "GET /account/login/ answers 200", f"{status}")
    _, token = csrf_token(page, "/account/login/")
    form = {"csrfmiddlewaretoken": token, "username": username, "password": password}
    status, page, final = browser.request("POST", "/account/login/", form)
    expect(status == 200 and "/account/login/" not in final, f"{username} signs in", f"{status} {final}")
    status, page, _ = browser.request("GET", f"/attempts/{attempt_id}/")
    expect(status == 200 and "%" in page_text(page), f"attempt {attempt_id} is there for {username}", f"{status}")
    print(f"ok  signed in as {username}; /attempts/{attempt_id}/ answers 200")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("mode", choices=["signup", "attempt"])
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--attempt", type=int)
    args = parser.parse_args()
    browser = Browser(args.base_url)
    started = time.monotonic()
    try:
        if args.mode == "signup":
            check_probes(browser)
            lesson_path = check_lesson(browser)
            check_signup(browser, args.username, args.password)
            attempt_id = check_quiz(browser, lesson_path)
            print(f"attempt={attempt_id}")
        else:
            check_attempt(browser, args.username, args.password, args.attempt)
    except (CheckFailedError, OSError, http.client.HTTPException) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    print(f"    ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
