"""wrk runs: the Lua that makes wrk print its figures as JSON, hands out prepared requests, and the runner.

wrk is the closed-loop generator of `make bench` (each connection sends its next request when the last
one is answered): the fastest way to find what the server can do flat out.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass, field

from bench.config import CONNECTIONS, WRK_SECONDS, WRK_THREADS, WRK_TIMEOUT

WRK_REPORT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "mean_us": %.0f, "p50_us": %.0f, "p90_us": %.0f, ' ..
    '"p99_us": %.0f, "max_us": %.0f, "connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}\n',
    summary.requests, summary.duration, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
"""


# Each request is a form never submitted before, read from a file of "cookie TAB body" lines that
# the threads share out (line i goes to thread i mod threads); no form is ever sent twice.
FRESH_FORMS_LUA = r"""
local threads, thread_count = {}, 0
setup = function(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  threads[#threads + 1] = thread
end

local prepared, sent = {}, 0
init = function(args)
  local line_number, thread_total = 0, tonumber(args[2])
  for line in io.lines(args[1]) do
    if line_number % thread_total == thread_index then
      local cookie, body = line:match("^([^\t]*)\t(.*)$")
      -- Headers given to wrk.format replace wrk.headers (Host, Content-Type…) rather than add to them.
      local headers = {}
      for name, value in pairs(wrk.headers) do
        headers[name] = value
      end
      headers["Cookie"] = cookie
      prepared[#prepared + 1] = wrk.format(nil, nil, headers, body)
    end
    line_number = line_number + 1
  end
  exhausted = 0
end

request = function()
  if sent >= #prepared then
    exhausted = 1
    wrk.thread:stop()
    return prepared[#prepared]
  end
  sent = sent + 1
  return prepared[sent]
end

local report = done
done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    if thread:get("exhausted") == 1 then
      io.write("BENCH-EXHAUSTED\n")
    end
  end
  report(summary, latency, requests)
end
"""


def lua_string(data):
    """A Lua string literal: long brackets would turn the CRLF of a multipart body into LF."""
    if isinstance(data, str):
        data = data.encode()
    out = []
    for byte in data:
        char = chr(byte)
        out.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


@dataclass
class WrkResult:
    requests: int
    seconds: float
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    status_errors: int
    socket_errors: int
    cpu: dict = field(default_factory=dict)
    rows_created: int | None = None  # attempts recorded during the run, where it records them

    @property
    def rps(self):
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def non_2xx(self):
        return self.status_errors + self.socket_errors


def wrk(
    url, workdir, *, name, cookie="", method="GET", body=b"", content_type="", seconds=WRK_SECONDS, lua="", args=()
):
    """One wrk run; ``lua``: more script (e.g. its own request function), ``args``: the script's arguments."""
    script = workdir / f"{name}.lua"
    lines = [f"wrk.method = {lua_string(method)}"]
    if content_type:
        lines.append(f'wrk.headers["Content-Type"] = {lua_string(content_type)}')
        lines.append('wrk.headers["HX-Request"] = "true"')
    if body:
        lines.append(f"wrk.body = {lua_string(body)}")
    script.write_text("\n".join(lines) + "\n" + WRK_REPORT + lua)
    command = [
        shutil.which("wrk"),
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        str(script),
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command += [url, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)  # noqa: S603
    line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH-JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    if "BENCH-EXHAUSTED" in done.stdout:
        raise RuntimeError(f"wrk {name}: every prepared request was sent before the end; prepare more")
    data = json.loads(line.removeprefix("BENCH-JSON "))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        mean_ms=data["mean_us"] / 1000,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        status_errors=data["status"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
    )
