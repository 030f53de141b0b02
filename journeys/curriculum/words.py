"""Words for search: a query read into words, and a small English stemmer used on both sides.

Pure functions, no database. The stemmer is deliberately small and honest: it strips plural and
verb endings ("StatefulSets" → statefulset, "scheduling"/"scheduled"/"schedule" → schedul) and
nothing cleverer, and the same function runs on the query and on the lesson text, so a word form
matches whenever both sides reduce to the same stem. PostgreSQL uses its own English stemmer
(Snowball) instead; this one is what SQLite searches with, and what marks matches in a passage.
"""

import re
from dataclasses import dataclass

# What a learner may type is cut here before anything else looks at it.
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8
MAX_WORD_CHARS = 40
MIN_WORD_CHARS = 2
# A word a learner is likely to mistype, and worth suggesting: titles, headings, glossary terms.
MIN_VOCABULARY_CHARS = 3

# Letters and digits of any script; everything else (punctuation, tsquery syntax, quotes) separates.
WORD = re.compile(r"[^\W_]+")
VOWELS = frozenset("aeiouy")

# PostgreSQL's English stop words (Snowball's list), so both databases ignore the same words.
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can did do does doing don down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself
    no nor not now of off on once only or other our ours ourselves out over own same she should so some
    such than that the their theirs them themselves then there these they this those through to too under
    until up very was we were what when where which while who whom why will with you your yours yourself
    yourselves""".split()  # noqa: SIM905 - a long list of words reads better as text
)


def words(text):
    """The words of ``text``, lowercased, in order (repeats kept)."""
    return WORD.findall(text.lower())


def stem(word):
    """``word`` without its plural or verb ending; only plain ASCII words are touched."""
    if len(word) <= 3 or not (word.isascii() and word.isalpha()):
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for ending in ("ing", "ed"):
        base = word[: -len(ending)]
        if word.endswith(ending) and not word.endswith("eed") and len(base) >= 3 and VOWELS & set(base):
            word = base
            if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in VOWELS | set("lsz"):
                word = word[:-1]  # running → run, but pulling → pull
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]  # schedule, scheduled and scheduling meet at "schedul"
    return word


def stems(text):
    """The distinct stems of the meaningful words of ``text``."""
    return {stem(word) for word in words(text) if len(word) >= MIN_WORD_CHARS and word not in STOP_WORDS}


def stem_index(text):
    """The stems of ``text`` as one stored string, each between spaces, so ``LIKE '% stem %'`` finds it."""
    return f" {' '.join(sorted(stems(text)))} "


def vocabulary(*texts):
    """The distinct words worth suggesting from ``texts`` (titles, headings, terms), space-separated."""
    found = {
        word
        for text in texts
        for word in words(text)
        if len(word) >= MIN_VOCABULARY_CHARS and word not in STOP_WORDS and not word.isdigit()
    }
    return " ".join(sorted(found))


def lesson_search_fields(*, title, search_text, toc):
    """What a lesson stores for search, from its plain text and headings (also used by a migration)."""
    headings = [entry.get("title", "") for entry in toc or () if isinstance(entry, dict)]
    return {"search_stems": stem_index(search_text), "search_vocabulary": vocabulary(title, *headings)}


@dataclass(frozen=True)
class Query:
    """A learner's query, read: the words to look for and their stems."""

    text: str
    words: tuple = ()
    stems: tuple = ()
    only_stop_words: bool = False

    def __bool__(self):
        return bool(self.stems)


def parse_query(raw):
    """Read any text into a ``Query``; never raises, and its output is always small and plain."""
    raw = raw or ""
    if len(raw) > MAX_QUERY_CHARS:
        # Cut at the last space before the limit, so no word is searched for by its first half.
        cut = raw[: MAX_QUERY_CHARS + 1]
        raw = cut.rsplit(None, 1)[0] if len(cut.split()) > 1 else cut[:MAX_QUERY_CHARS]
    text = " ".join(raw.split())[:MAX_QUERY_CHARS]
    found = [word[:MAX_WORD_CHARS] for word in words(text) if len(word) >= MIN_WORD_CHARS]
    distinct = list(dict.fromkeys(found))
    meaningful = [word for word in distinct if word not in STOP_WORDS][:MAX_QUERY_WORDS]
    return Query(
        text=text,
        words=tuple(meaningful),
        stems=tuple(dict.fromkeys(stem(word) for word in meaningful)),
        only_stop_words=bool(distinct) and not meaningful,
    )
