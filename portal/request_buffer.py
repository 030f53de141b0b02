"""One HTTP request, gathered from the network in full before a worker thread is given it.

A buffering proxy (nginx) in front of gunicorn reads each request completely before passing it on,
so a client that sends its headers one byte every few seconds costs the proxy a socket, not a
worker. A lone container has no such proxy; ``portal.gunicorn_worker`` does the same job in each
worker's event loop, and this module is the part of it that understands bytes: where the head
ends, how long the body is, and when the request is complete. It never raises on what a client
sends: anything it cannot make sense of is passed on whole for gunicorn's own parser to refuse.
"""

import re

# gunicorn's own limits (a request line of 4,094 bytes, 100 header fields of 8,190) fit in this.
HEAD_LIMIT = 64 * 1024

MORE = "more"
READY = "ready"
HEAD_TOO_LARGE = "head-too-large"
BODY_TOO_LARGE = "body-too-large"

_END_OF_HEAD = b"\r\n\r\n"
_DIGITS = re.compile(rb"[0-9]{1,18}")


class RequestBuffer:
    """Feed it what the socket gives; it says whether the request is complete.

    ``body_limit`` is the largest body the portal takes: a longer announced body is refused at once
    (BODY_TOO_LARGE), since reading it, even only to find a form's CSRF token, would hold a thread
    for as long as its sender likes. A body sent in chunks, or with a length gunicorn refuses, is
    left on the socket for gunicorn; ``streamed`` then says so, and the connection is closed after
    that request rather than kept alive (Django reads no body whose length was not announced).
    """

    def __init__(self, *, body_limit):
        self.body_limit = body_limit
        self.data = bytearray()
        self.head_length = None
        self.body_length = 0
        self.streamed = False
        self.wants_continue = False
        # Bytes after the end of this request: a pipelined request, served by closing after this one.
        self.has_excess = False

    @property
    def head_complete(self):
        return self.head_length is not None

    @property
    def expected_length(self):
        return None if self.head_length is None else self.head_length + self.body_length

    def feed(self, chunk):
        """MORE, READY, HEAD_TOO_LARGE (answer 431 and close) or BODY_TOO_LARGE (answer 413 and close)."""
        self.data += chunk
        if self.head_length is None:
            end = self.data.find(_END_OF_HEAD, 0, HEAD_LIMIT + len(_END_OF_HEAD))
            if end < 0:
                return HEAD_TOO_LARGE if len(self.data) > HEAD_LIMIT else MORE
            self._read_head(end + len(_END_OF_HEAD))
            if self.body_length > self.body_limit:
                return BODY_TOO_LARGE
        if self.streamed:
            return READY
        if len(self.data) < self.expected_length:
            return MORE
        self.has_excess = len(self.data) > self.expected_length
        return READY

    def continue_sent(self):
        self.wants_continue = False

    def _read_head(self, head_length):
        fields = [_field(line) for line in bytes(self.data[:head_length]).split(b"\r\n")[1:]]
        lengths = {value for name, value in fields if name == b"content-length"}
        chunked = any(name == b"transfer-encoding" for name, _ in fields)
        expect = [value.lower() for name, value in fields if name == b"expect"]
        self.head_length = head_length
        if chunked or len(lengths) > 1:
            self.streamed = True  # gunicorn reads chunks itself, and refuses conflicting lengths
            return
        length = lengths.pop() if lengths else b"0"
        if not _DIGITS.fullmatch(length):
            self.streamed = True  # not a number: gunicorn refuses it
            return
        self.body_length = int(length)
        if self.body_length > self.body_limit:
            return
        if expect == [b"100-continue"] and self.body_length and len(self.data) < self.expected_length:
            # The client waits for a go-ahead before sending the body; this loop gives it, so the
            # application must not give a second one.
            self._drop_expect_field()
            self.wants_continue = True

    def _drop_expect_field(self):
        head = bytes(self.data[: self.head_length]).split(b"\r\n")
        kept = [line for line in head[1:] if _field(line)[0] != b"expect"]
        new_head = b"\r\n".join([head[0], *kept])
        self.data[: self.head_length] = new_head
        self.head_length = len(new_head)


def _field(line):
    name, _, value = line.partition(b":")
    return name.strip().lower(), value.strip()
