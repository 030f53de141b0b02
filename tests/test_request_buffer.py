"""The event loop's view of a request: where it ends, what it waits for, and that no bytes break it."""

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.request_buffer import BODY_TOO_LARGE, HEAD_LIMIT, HEAD_TOO_LARGE, MORE, READY, RequestBuffer

LIMIT = 1000


def fed(*chunks, limit=LIMIT):
    buffer = RequestBuffer(body_limit=limit)
    states = [buffer.feed(chunk) for chunk in chunks]
    return buffer, states


def test_a_request_without_a_body_is_ready_when_its_head_ends():
    buffer, states = fed(b"GET / HTTP/1.1\r\nHost: a\r\n", b"\r\n")
    assert states == [MORE, READY]
    assert buffer.body_length == 0 and not buffer.streamed and not buffer.has_excess


def test_a_body_is_waited_for_to_its_announced_length():
    buffer, states = fed(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345", b"6789", b"0")
    assert states == [MORE, MORE, READY]
    assert bytes(buffer.data).endswith(b"\r\n\r\n1234567890")


def test_the_field_name_is_matched_whatever_its_case_and_spacing():
    _, states = fed(b"POST / HTTP/1.1\r\ncOnTeNt-LeNgTh :  3 \r\n\r\nab")
    assert states == [MORE]


def test_a_chunked_body_is_left_to_gunicorn_and_closes_the_connection():
    chunked, states = fed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert states == [READY] and chunked.streamed


def test_a_body_announced_over_the_limit_is_refused_before_any_of_it_arrives():
    _, states = fed(b"POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n")
    assert states == [BODY_TOO_LARGE]
    _, states = fed(b"POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n")
    assert states == [MORE]


def test_lengths_gunicorn_refuses_are_passed_on_for_it_to_refuse():
    for head in (b"Content-Length: -1", b"Content-Length: 1e3", b"Content-Length: 3\r\nContent-Length: 4"):
        buffer, states = fed(b"POST / HTTP/1.1\r\n" + head + b"\r\n\r\n")
        assert states == [READY] and buffer.streamed, head


def test_an_expect_continue_is_answered_here_and_removed_from_the_head():
    buffer, states = fed(b"POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
    assert states == [MORE] and buffer.wants_continue
    assert b"expect" not in bytes(buffer.data).lower()
    buffer.continue_sent()
    assert buffer.feed(b"abcd") == READY and not buffer.wants_continue
    assert bytes(buffer.data) == b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd"


def test_a_body_sent_with_its_head_needs_no_continue():
    buffer, states = fed(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok")
    assert states == [READY] and not buffer.wants_continue


def test_a_pipelined_request_is_noticed():
    buffer, states = fed(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
    assert states == [READY] and buffer.has_excess


def test_a_head_longer_than_the_limit_is_refused_without_waiting_for_its_end():
    _, states = fed(b"GET / HTTP/1.1\r\n", b"X-Long: " + b"a" * HEAD_LIMIT)
    assert states == [MORE, HEAD_TOO_LARGE]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=12))
def test_no_bytes_make_it_raise_and_ready_means_the_request_is_all_there(chunks):
    buffer = RequestBuffer(body_limit=LIMIT)
    for chunk in chunks:
        state = buffer.feed(chunk)
        assert state in (MORE, READY, HEAD_TOO_LARGE, BODY_TOO_LARGE)
        if state == READY and not buffer.streamed:
            assert len(buffer.data) >= buffer.expected_length
        if state != MORE:
            break
    assert buffer.body_length <= LIMIT or state == BODY_TOO_LARGE


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12).filter(lambda name: name.strip("-")),
        st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20),
        max_size=6,
    ),
    st.binary(max_size=200),
    st.integers(min_value=1, max_value=50),
)
def test_a_well_formed_request_is_ready_however_the_network_splits_it(fields, body, split):
    framing = ("content-length", "transfer-encoding", "expect")
    fields = {name: value for name, value in fields.items() if name not in framing}
    head = b"POST /form HTTP/1.1\r\n" + b"".join(f"{name}: {value}\r\n".encode() for name, value in fields.items())
    request = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    buffer = RequestBuffer(body_limit=LIMIT)
    pieces = [request[start : start + split] for start in range(0, len(request), split)]
    states = [buffer.feed(piece) for piece in pieces]
    assert states[-1] == READY and set(states[:-1]) <= {MORE}
    assert bytes(buffer.data) == request and buffer.body_length == len(body)
