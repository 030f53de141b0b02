"""A short-answer question's ``pattern``: checked when it is written, matched in bounded time when graded.

Python's ``re`` cannot be interrupted, and a pattern that can match the same text in many ways
backtracks exponentially on an answer it almost matches: with ``(\\w+\\s?)+`` one 41-character
answer keeps a worker busy for hours. So the pattern is written in Python's syntax (it must compile
with ``re``, whose messages and meaning the README documents) but *matched* with the ``regex``
package, which takes a timeout and whose repeat guards already keep many such patterns linear.

Two bounds, both pure functions of the pattern and the text:

- Grading (``fullmatch_any``): all the matches of one answer share ``MATCH_TIMEOUT``; when it runs
  out, ``PatternTimeoutError`` is raised and the caller counts the answer as not matched.
- Writing (``is_too_slow``, a rule of ``quizzes.rules``, so files and admin alike): the pattern is
  run over adversarial probes — answers of the longest length a learner may send, made of long runs
  of characters the pattern itself names, ending in a character that makes it fail — with
  ``PROBE_TIMEOUT`` each. A pattern that runs out on a probe, and again with ``CONFIRM_TIMEOUT``
  (a busy machine may pause any process for a moment), is refused, in plain words.
"""

import re
import time
from functools import lru_cache

import regex

# All the pattern matches of one answer together; a sound pattern needs well under a millisecond.
MATCH_TIMEOUT = 0.1
# One probe and the same probe again before a pattern is called slow (seconds on the clock, as the
# timeout of a match counts them); all the probes of one pattern (seconds of CPU).
PROBE_TIMEOUT = 0.02
CONFIRM_TIMEOUT = 0.1
PROBE_BUDGET = 0.5
# The longest answer a quiz form accepts (forms.MAX_TEXT_ANSWER; a test keeps the two in step).
PROBE_LENGTH = 500
# Characters worth repeating whatever the pattern says, and the endings that make a match fail late.
COMMON_CHARACTERS = "aZ0 -._/:=,"
FAILING_ENDINGS = ("!", "\n", "\x00")
MAX_PATTERN_CHARACTERS = 40
MAX_PATTERN_WORDS = 8


class PatternError(Exception):
    """A pattern cannot grade an answer: it does not compile, or (``PatternTimeoutError``) it was too slow."""


class PatternTimeoutError(PatternError):
    """Matching an answer against a pattern took longer than it may."""


def syntax_problem(pattern):
    """Why ``pattern`` is not a valid regular expression (in ``re``'s words), or ``""``."""
    try:
        re.compile(pattern)
        _compiled(pattern)
    except (re.error, regex.error) as exc:
        return str(exc)
    return ""


@lru_cache(maxsize=512)
def _compiled(pattern):
    return regex.compile(pattern, regex.IGNORECASE)


def fullmatch_any(pattern, texts, *, timeout=MATCH_TIMEOUT):
    """True when ``pattern`` matches one of ``texts`` in full, ignoring case.

    Raise ``PatternTimeoutError`` when the matches together take longer than ``timeout`` seconds, and
    ``PatternError`` when the pattern does not compile (``quizzes.rules`` refuses both when written).
    """
    try:
        compiled = _compiled(pattern)
    except regex.error as exc:
        raise PatternError(str(exc)) from None
    deadline = time.monotonic() + timeout
    for text in texts:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PatternTimeoutError(pattern)
        try:
            if compiled.fullmatch(text, timeout=remaining):
                return True
        except TimeoutError:
            raise PatternTimeoutError(pattern) from None
    return False


def _probes(pattern):
    """Answers that make a backtracking pattern try every way it has to match, and then fail.

    Each is a long run of one unit (a character or a word of the pattern, or a common one) and an
    ending that fails: a bare one, or a character or word of the pattern first, so that a pattern
    that must end in ``b`` is made to reach its end (``(a|a)*b`` on ``aaa…ab!``).
    """
    characters = dict.fromkeys(COMMON_CHARACTERS)
    own = dict.fromkeys(character for character in pattern if character.isprintable() and character != "\\")
    own = list(own)[:MAX_PATTERN_CHARACTERS]
    characters.update(dict.fromkeys(own))
    words = list(dict.fromkeys(re.findall(r"[A-Za-z0-9]{2,}", pattern)))[:MAX_PATTERN_WORDS]
    units = [*characters, "a ", "0 ", *words, *(word + " " for word in words)]
    endings = [*FAILING_ENDINGS, *(part + "!" for part in (*own, *words))]
    for unit in units:
        for ending in endings:
            body = unit * ((PROBE_LENGTH - len(ending)) // len(unit))
            yield body + ending


@lru_cache(maxsize=512)
def is_too_slow(pattern):
    """True when ``pattern`` (which compiles) takes too long on one of the probes, or on all of them.

    Cached per pattern: the rules run on every save and every check of a stored quiz, and a
    pattern's verdict must not change from one check to the next with the load of the machine.
    """
    compiled = _compiled(pattern)
    # The budget counts this thread's CPU time, which a busy machine does not stretch as it does the clock.
    deadline = time.thread_time() + PROBE_BUDGET
    for probe in _probes(pattern):
        for timeout in (PROBE_TIMEOUT, CONFIRM_TIMEOUT):
            remaining = deadline - time.thread_time()
            if remaining <= 0:
                return True
            try:
                compiled.fullmatch(probe, timeout=min(timeout, remaining))
            except TimeoutError:
                continue
            break
        else:
            return True
    return False
