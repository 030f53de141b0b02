"""gunicorn's threaded worker, with each request read in full before a thread is given it.

A sync worker, or a thread of gunicorn's gthread worker, reads a request with a blocking read: two
clients that send their headers a byte every few seconds held both sync workers of a lone
container, and /healthz stopped answering. This worker keeps every connection in its event loop
until the request is complete (head and body, up to the largest body the portal accepts), as a
buffering proxy would, and only then hands it to a thread. A slow client costs a socket and a few
bytes, and is closed when it runs out of time:

- ``CLIENT_HEADER_TIMEOUT`` seconds (default 10) for a new connection to send its whole head;
- ``CLIENT_BODY_TIMEOUT`` seconds (default 10), plus one second per 16 KiB, for the body;
- a head over 64 KiB is answered 431, and a body announced over 2 MiB 413, without reading on;
- a kept-alive connection may sit idle for gunicorn's ``keepalive`` seconds between requests.

Bodies being gathered share ``REQUEST_BUFFER_MB`` (default 32) per worker; a request that would go
over it is answered 503 with Retry-After. Responses go to a send buffer large enough for any page,
so a client that does not read holds a thread only for an unusually large download, and at most
gunicorn's ``timeout`` per write.
"""

import errno
import logging
import os
import selectors
import socket
import time
from concurrent import futures
from contextlib import suppress
from functools import partial

from gunicorn import util
from gunicorn.workers.gthread import TConn, ThreadWorker

from .request_buffer import BODY_TOO_LARGE, HEAD_TOO_LARGE, READY, RequestBuffer

logger = logging.getLogger("gunicorn.error")

# The sandbox takes the largest bodies (a pasted or uploaded file of 1 MiB, in a form).
BODY_LIMIT = 2 * 1024 * 1024
RECEIVE_CHUNK = 64 * 1024
# Linux caps it at net.core.wmem_max (about 200 KiB by default), which still holds any page.
SEND_BUFFER = 1024 * 1024
BODY_SECONDS_PER_BYTE = 1 / (16 * 1024)
DROPS_LOG_SECONDS = 60
# How long, and how much, a refused request's remaining bytes are read and thrown away.
LINGER_SECONDS = 2
LINGER_BYTES = 8 * 1024 * 1024
# Requests served on one kept-alive connection before it is closed (nginx's keepalive_requests).
# Connections are shared out among workers when they are opened; closing them now and then lets a
# busy worker's clients reconnect to an idle one (all of a load tester's or a proxy's connections
# could otherwise stay with one process, which then does the work of two on one core).
KEEPALIVE_REQUESTS = 100
# A worker whose threads are all taken waits this long before it accepts a new connection itself.
ACCEPT_DEFER_SECONDS = 0.02

TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
HEAD_TOO_LARGE_RESPONSE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
)
_BUSY_TEXT = b"The portal is busy receiving other uploads. Try again in a few seconds.\n"
BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s" % (len(_BUSY_TEXT), _BUSY_TEXT)
)
_TOO_LARGE_TEXT = (
    b"What you sent is larger than the portal accepts (2 MiB). A lab check takes at most 1 MiB of YAML: "
    b"send only the objects of that lab.\n"
)
BODY_TOO_LARGE_RESPONSE = (
    b"HTTP/1.1 413 Content Too Large\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_TOO_LARGE_TEXT), _TOO_LARGE_TEXT)
)
CONTINUE_RESPONSE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _seconds(name, default):
    try:
        return max(1.0, float(os.environ.get(name, default)))
    except ValueError:
        return float(default)


class ReplaySocket:
    """The client's socket, giving back the bytes already gathered before reading any more."""

    def __init__(self, sock):
        self._sock = sock
        self.pending = b""

    def recv(self, size, *flags):
        if self.pending:
            chunk, self.pending = self.pending[:size], self.pending[size:]
            return chunk
        return self._sock.recv(size, *flags)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class BufferedConn(TConn):
    def __init__(self, cfg, sock, client, server):
        super().__init__(cfg, ReplaySocket(sock), client, server)
        self.raw = sock
        self.request = None
        self.deadline = 0.0
        self.discarded = 0
        self.served = 0
        self.reserved = 0
        self.close_after = False
        self.idle = False

    def init(self):
        super().init()
        # Blocking, but a client that stops reading a response (or sending a body too large to
        # gather) frees its thread after gunicorn's timeout.
        self.raw.settimeout(self.cfg.timeout)


class BufferingThreadWorker(ThreadWorker):
    def init_process(self):
        self.header_timeout = _seconds("CLIENT_HEADER_TIMEOUT", 10)
        self.body_timeout = _seconds("CLIENT_BODY_TIMEOUT", 10)
        self.buffer_budget = int(_seconds("REQUEST_BUFFER_MB", 32) * 1024 * 1024)
        self.buffered = 0
        self.in_flight = 0
        self.waiting = {}
        self.drops = {"timeout": 0, "busy": 0, "head-too-large": 0, "body-too-large": 0}
        self.drops_logged_at = time.monotonic()
        self.deferred_until = 0.0
        self.accept_late = False
        super().init_process()

    # --- connections waiting for a complete request (event loop) ---

    def accept(self, server, listener):
        if self.in_flight >= self.cfg.threads and not self.accept_late:
            # Every thread is taken: leave new connections a moment for an idle worker to take.
            self.deferred_until = time.monotonic() + ACCEPT_DEFER_SECONDS
            return
        # After such a wait, whatever no other worker took is taken here, all at once.
        take_all, self.accept_late = self.accept_late, False
        while self._accept_one(server, listener) and take_all:
            pass

    def _accept_one(self, server, listener):
        try:
            sock, client = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return False
        # Not every socket family takes it; the default buffer only costs a thread for longer.
        with suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        conn = BufferedConn(self.cfg, sock, client, server)
        with self._lock:
            self.nr_conns += 1
        self._wait_for_request(conn, idle_seconds=self.header_timeout)
        return True

    def _wait_for_request(self, conn, *, idle_seconds, kept_alive=False):
        conn.request = RequestBuffer(body_limit=BODY_LIMIT)
        conn.deadline = time.monotonic() + idle_seconds
        conn.idle = kept_alive
        conn.raw.setblocking(False)
        with self._lock:
            self.waiting[conn] = None
            self.poller.register(conn.raw, selectors.EVENT_READ, partial(self._receive, conn))

    def _receive(self, conn, _fileobj):
        try:
            chunk = conn.raw.recv(RECEIVE_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(conn)
            return
        if not chunk:
            self._drop(conn)  # the client went away before finishing its request
            return
        request = conn.request
        was_complete = request.head_complete
        state = request.feed(chunk)
        if state == HEAD_TOO_LARGE:
            self._refuse(conn, HEAD_TOO_LARGE_RESPONSE, reason="head-too-large")
            return
        if state == BODY_TOO_LARGE:
            self._refuse(conn, BODY_TOO_LARGE_RESPONSE, reason="body-too-large")
            return
        if conn.idle:
            # A kept-alive connection was idle until now; its new request gets the full head time.
            conn.idle = False
            conn.deadline = time.monotonic() + self.header_timeout
        if request.head_complete and not was_complete and not self._head_received(conn):
            return
        if state == READY:
            self._hand_over(conn)

    def _head_received(self, conn):
        request = conn.request
        if request.body_length:
            with self._lock:
                fits = self.buffered + request.body_length <= self.buffer_budget
                if fits:
                    conn.reserved = request.body_length
                    self.buffered += conn.reserved
            if not fits:
                self._refuse(conn, BUSY_RESPONSE, reason="busy")
                return False
            conn.deadline = time.monotonic() + self.body_timeout + request.body_length * BODY_SECONDS_PER_BYTE
        if request.wants_continue:
            _send_quietly(conn.raw, CONTINUE_RESPONSE)
            request.continue_sent()
        return True

    def _hand_over(self, conn):
        request = conn.request
        with self._lock:
            self.poller.unregister(conn.raw)
            self.waiting.pop(conn, None)
        # What the last request on this connection left unread (a body the page did not need) comes
        # first: gunicorn's parser skips it before it reads this request.
        conn.sock.pending += bytes(request.data)
        conn.close_after = request.streamed or request.has_excess
        conn.request = None
        with self._lock:
            self.in_flight += 1
        self.enqueue_req(conn)

    def _drop(self, conn, *, answer=None, reason=None):
        with self._lock:
            if self.waiting.pop(conn, False) is False:
                return
            with suppress(KeyError, ValueError, OSError):
                self.poller.unregister(conn.raw)
            self.nr_conns -= 1
        if answer:
            _send_quietly(conn.raw, answer)
        if reason:
            self.drops[reason] += 1
        self._release(conn)
        conn.close()

    def _refuse(self, conn, answer, *, reason):
        """Answers at once, then reads on and discards for a moment before closing.

        A browser that is still sending its body would otherwise meet a connection reset (closing a
        socket with unread data resets it) and show a network error instead of the answer.
        """
        _send_quietly(conn.raw, answer)
        self.drops[reason] += 1
        self._release(conn)
        conn.request = None
        conn.discarded = 0
        conn.deadline = time.monotonic() + LINGER_SECONDS
        with suppress(OSError):
            conn.raw.shutdown(socket.SHUT_WR)
        with self._lock:
            self.poller.modify(conn.raw, selectors.EVENT_READ, partial(self._discard, conn))

    def _discard(self, conn, _fileobj):
        try:
            chunk = conn.raw.recv(RECEIVE_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        conn.discarded += len(chunk)
        if not chunk or conn.discarded > LINGER_BYTES:
            self._drop(conn)

    def _release(self, conn):
        with self._lock:
            self.buffered -= conn.reserved
            conn.reserved = 0

    def _close_late_connections(self):
        now = time.monotonic()
        with self._lock:
            late = [conn for conn in self.waiting if conn.deadline <= now]
        for conn in late:
            # A connection that never sent a byte is closed without a word, as a browser's spare
            # connection expects; one cut off mid-request is told why.
            if conn.request is not None and conn.request.data:
                self._drop(conn, answer=TIMEOUT_RESPONSE, reason="timeout")
            else:
                self._drop(conn)
        self._log_drops(now)

    def _log_drops(self, now):
        if now - self.drops_logged_at < DROPS_LOG_SECONDS:
            return
        self.drops_logged_at = now
        if any(self.drops.values()):
            logger.warning(
                "Closed connections that did not send their request in time: %(timeout)s; refused while the "
                "upload buffer was full: %(busy)s; with oversized headers: %(head-too-large)s; with bodies over "
                "the limit: %(body-too-large)s (last %(minutes)s min).",
                {**self.drops, "minutes": DROPS_LOG_SECONDS // 60},
            )
            self.drops = dict.fromkeys(self.drops, 0)

    # --- the event loop: gthread's, but it keeps serving waiting connections at capacity ---

    def run(self):
        # Captured once: during a graceful shutdown the listener's name may no longer be readable.
        self.listener_names = {listener: listener.getsockname() for listener in self.sockets}
        for listener in self.sockets:
            listener.setblocking(False)
        accepting = False
        while self.alive:
            self.notify()
            now = time.monotonic()
            deferring = now < self.deferred_until
            if accepting != (self.nr_conns < self.worker_connections and not deferring):
                accepting = not accepting
                self._listen(accepting)
                if accepting and self.deferred_until:
                    self.accept_late, self.deferred_until = True, 0.0
            for key, _ in self.poller.select(self.deferred_until - now if deferring else 1.0):
                key.data(key.fileobj)
            for future in [future for future in self.futures if future.done()]:
                self.futures.remove(future)
            if not self.is_parent_alive():
                break
            self._close_late_connections()
        self.tpool.shutdown(False)
        self.poller.close()
        for listener in self.sockets:
            listener.close()
        futures.wait(self.futures, timeout=self.cfg.graceful_timeout)

    def _listen(self, accepting):
        with self._lock:
            for listener in self.sockets:
                if accepting:
                    accept = partial(self.accept, self.listener_names[listener])
                    self.poller.register(listener, selectors.EVENT_READ, accept)
                else:
                    self.poller.unregister(listener)

    # --- after a thread has answered ---

    def handle_request(self, req, conn):
        conn.served += 1
        if conn.close_after or conn.served >= KEEPALIVE_REQUESTS:
            # An unread body or a pipelined request is not worth keeping the connection for; the
            # response says so in its Connection header.
            req.should_close = lambda: True
        return super().handle_request(req, conn)

    def finish_request(self, fs):
        conn = fs.conn
        self._release(conn)
        with self._lock:
            self.in_flight -= 1
        keepalive = False
        if not fs.cancelled():
            try:
                keepalive, _ = fs.result()
            except Exception:  # noqa: BLE001 - gthread's rule: whatever happened, the socket is closed
                keepalive = False
        if keepalive and self.alive:
            try:
                self._wait_for_request(conn, idle_seconds=self.cfg.keepalive, kept_alive=True)
                return
            except (OSError, ValueError):
                pass  # the poller is closing with the worker
        with self._lock:
            self.nr_conns -= 1
        util.close(conn.raw)


def _send_quietly(sock, data):
    """Best effort from the event loop: a short answer fits the send buffer; a gone client is fine."""
    with suppress(OSError):
        sock.send(data)
