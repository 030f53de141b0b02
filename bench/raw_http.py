"""HTTP/1.1 on asyncio streams: just enough of a client for thousands of simulated learners in one process.

Why not urllib in threads: a thread per learner does not scale to thousands (memory, and the GIL
switching between them delays the very requests being timed). Why not wrk: wrk is a closed loop (a
connection sends its next request only when the last one is answered), while a class is an open loop
(learners act on their own clock whatever the server does), and each learner's requests depend on the
page before them (CSRF and quiz tokens), which Lua in wrk would have to parse. asyncio streams are in the
standard library, one event loop holds thousands of idle learners for almost nothing, and a request is
written and read in full here with no library in between.

Each learner has one Connection and uses it as a browser does: kept alive between requests while the
server keeps it (gunicorn closes an idle one after its ``keepalive`` seconds), opened again when not.
"""

import asyncio
import time
from dataclasses import dataclass

# The server closes a kept-alive connection after `keepalive = 5` s idle (portal/gunicorn_config.py);
# a connection idle nearly that long is not reused, so a request is not sent into a closing socket.
IDLE_REUSE_SECONDS = 4.0
HEAD_LIMIT = 64 * 1024


class ProtocolError(Exception):
    """The server's answer was not HTTP/1.1 as expected (or the connection ended mid-answer)."""


@dataclass
class Response:
    status: int
    headers: list  # [(lower-case name, value)]
    body: bytes

    def header_values(self, name):
        return [value for key, value in self.headers if key == name]

    @property
    def text(self):
        return self.body.decode(errors="replace")


class Connection:
    """One learner's connection to host:port, opened when needed and kept alive between requests."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None
        self.last_used = 0.0
        self.opened = 0  # TCP connections opened: how often keep-alive did not help

    async def request(self, method, path, headers=(), body=b""):
        """Send one request and read its whole answer; raises OSError, ProtocolError or TimeoutError."""
        reused = self._usable()
        if not reused:
            await self._open()
        try:
            return await self._exchange(method, path, headers, body)
        except (ConnectionError, asyncio.IncompleteReadError, ProtocolError) as error:
            self.close()
            # A kept-alive connection the server closed just as the request went out: nothing was
            # read, so nothing was done; a browser sends it again on a new connection, and so do we.
            nothing_read = isinstance(error, ConnectionError) or getattr(error, "partial", None) == b""
            if reused and nothing_read:
                await self._open()
                return await self._exchange(method, path, headers, body)
            raise

    def close(self):
        if self.writer is not None:
            self.writer.transport.abort()  # no lingering FIN_WAIT: thousands of these come and go
        self.reader = self.writer = None

    def _usable(self):
        if self.writer is None:
            return False
        if self.reader.at_eof() or time.monotonic() - self.last_used > IDLE_REUSE_SECONDS:
            self.close()
            return False
        return True

    async def _open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=HEAD_LIMIT)
        self.opened += 1

    async def _exchange(self, method, path, headers, body):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self.writer.drain()
        response, keep = await self._read_response(method)
        self.last_used = time.monotonic()
        if not keep:
            self.close()
        return response

    async def _read_response(self, method):
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise ProtocolError("response head over 64 KiB") from None
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"not an HTTP status line: {status_line[:80]!r}")
        status = int(parts[1])
        headers = []
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers.append((name.strip().lower(), value.strip()))
        fields = dict(headers)
        keep = fields.get("connection", "").lower() != "close" and parts[0] == "HTTP/1.1"
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in fields.get("transfer-encoding", "").lower():
            body = await self._read_chunked()
        elif "content-length" in fields:
            body = await self.reader.readexactly(int(fields["content-length"]))
        else:
            body, keep = await self.reader.read(), False  # delimited by the end of the connection
        return Response(status, headers, body), keep

    async def _read_chunked(self):
        chunks = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                # Trailers, if any, end with an empty line.
                while (await self.reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return b"".join(chunks)
            chunks.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
