"""Lesson and glossary search: word forms, relevance, a passage with the matches marked, typo help.

Every meaningful word of the query must match, in any of its forms ("StatefulSets" and
"statefulset" are one word). On PostgreSQL the database's own full-text search does the matching
and ranking over each lesson's stored document (``Lesson.search_document``: English stemming; the
title weighs most, then the summary and headings, then the text; kept up to date by a trigger) and
picks the passage (``ts_headline``). On SQLite each lesson stores the stems of its text
(``Lesson.search_stems``, filled at save time with ``words.stem``), the query is stemmed the same
way, and the ranking and passage are computed here. Either way a lesson whose title matches comes
before one that only mentions the words.

When nothing matches, each word is corrected to the closest word of the lesson titles, headings
and glossary terms (trigram similarity on PostgreSQL, difflib on SQLite); if the corrected query
finds something, the page offers it ("Did you mean …?") and shows what it finds.

Queries per search: two (lessons, glossary) when something matches; four at most otherwise.
Nothing parses Markdown here: lessons store their plain text and stems when they are saved.
"""

import difflib
import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, F, IntegerField, Value, When
from django.db.models.functions import Length, Replace, Substr
from django.utils.html import escape
from django.utils.safestring import mark_safe

from ..models import GlossaryTerm, Lesson
from .words import MIN_VOCABULARY_CHARS, WORD, parse_query, stem, stems, words

MAX_LESSONS = 30
MAX_TERMS = 5
PASSAGE_RADIUS = 100
CONFIG = "english"
# How close a typed word must be to a known one to be suggested (pg_trgm's own default is 0.3).
TRIGRAM_THRESHOLD = 0.3
DIFFLIB_CUTOFF = 0.75
# Private-use characters mark matches in PostgreSQL's passage; they are never shown.
MARK_START, MARK_STOP = "\ue000", "\ue001"
MARKED = re.compile(f"{MARK_START}(.*?){MARK_STOP}", re.S)
LESSON_COLUMNS_NOT_NEEDED = ("body", "body_html", "toc", "search_stems", "search_document", "journey__description")


@dataclass
class LessonHit:
    lesson: Lesson
    passage: str


@dataclass
class TermHit:
    term: GlossaryTerm
    passage: str


@dataclass
class SearchResults:
    query: str = ""
    lessons: list = field(default_factory=list)
    terms: list = field(default_factory=list)
    # Set when the query as typed found nothing and this correction of it found something.
    suggestion: str = ""
    only_stop_words: bool = False

    @property
    def found(self):
        return bool(self.lessons or self.terms)


def search_for_user(*, user, query):
    """What ``query`` finds among the lessons ``user`` may read, and in the glossary."""
    parsed = parse_query(query)
    results = SearchResults(query=parsed.text, only_stop_words=parsed.only_stop_words)
    if not parsed:
        return results
    glossary = list(GlossaryTerm.objects.only("slug", "term", "definition"))
    results.lessons, results.terms = _lessons(user, parsed), _terms(glossary, parsed)
    if results.found:
        return results
    suggestion = _suggestion(user, parsed, glossary)
    if suggestion:
        corrected = parse_query(suggestion)
        lessons, terms = _lessons(user, corrected), _terms(glossary, corrected)
        if lessons or terms:
            results.lessons, results.terms, results.suggestion = lessons, terms, corrected.text
    return results


# --- Lessons ---


def _lessons(user, parsed):
    lessons = Lesson.objects.visible_to(user).select_related("journey", "module").defer(*LESSON_COLUMNS_NOT_NEEDED)
    if connection.vendor == "postgresql":
        return _lessons_postgresql(lessons, parsed)
    return _lessons_stemmed(lessons, parsed)


def _lessons_postgresql(lessons, parsed):
    # The query's words only (no operators): websearch_to_tsquery then means "every word", as on SQLite.
    text_query = SearchQuery(" ".join(parsed.words), search_type="websearch", config=CONFIG)
    found = (
        lessons.defer("search_text")  # the passage is cut from it in the database
        .annotate(title_document=SearchVector("title", config=CONFIG))
        .filter(search_document=text_query)
        .annotate(
            title_hit=Case(
                When(title_document=text_query, then=Value(1)), default=Value(0), output_field=IntegerField()
            ),
            rank=SearchRank(F("search_document"), text_query),
            headline=SearchHeadline(
                # The text after the title, which the result shows already; its "<" encoded, since
                # ts_headline drops whatever looks like a tag (kubectl logs <pod-name>).
                Replace(
                    Replace(Substr("search_text", Length("title") + 2), Value("&"), Value("&amp;")),
                    Value("<"),
                    Value("&lt;"),
                ),
                text_query,
                config=CONFIG,
                start_sel=MARK_START,
                stop_sel=MARK_STOP,
                max_words=32,
                min_words=16,
                max_fragments=1,
            ),
        )
        .order_by("-title_hit", "-rank", "module__order", "order", "id")[:MAX_LESSONS]
    )
    return [LessonHit(lesson=lesson, passage=marked_passage(lesson.headline)) for lesson in found]


def _lessons_stemmed(lessons, parsed):
    for word_stem in parsed.stems:
        lessons = lessons.filter(search_stems__contains=f" {word_stem} ")
    wanted = set(parsed.stems)

    def relevance(lesson):
        in_title = wanted & stems(lesson.title)
        in_summary = wanted & stems(f"{lesson.summary} {lesson.search_vocabulary}")
        score = sum(4 if s in in_title else 2 if s in in_summary else 1 for s in wanted)
        return (in_title != wanted, -score, lesson.module.order, lesson.order, lesson.id)

    ranked = sorted(lessons, key=relevance)[:MAX_LESSONS]
    return [LessonHit(lesson=lesson, passage=passage(_text_after_title(lesson), wanted)) for lesson in ranked]


def _text_after_title(lesson):
    text = lesson.search_text
    return text[len(lesson.title) :].lstrip() if text.startswith(lesson.title) else text


# --- Glossary (a few dozen short entries: matched here, the same way on both databases) ---


def _terms(glossary, parsed):
    wanted = set(parsed.stems)
    matches = []
    for term in glossary:
        in_term = wanted & stems(term.term)
        if wanted <= in_term | stems(term.definition):
            matches.append((in_term != wanted, -len(in_term), term.term.lower(), term))
    matches.sort(key=lambda match: match[:3])
    return [TermHit(term=term, passage=passage(term.definition, wanted)) for *_, term in matches[:MAX_TERMS]]


# --- Typo suggestions ---


def _suggestion(user, parsed, glossary):
    """The query with each unknown word replaced by the closest known one, or "" if nothing changed."""
    if connection.vendor == "postgresql":
        closest = _closest_by_trigram(user, parsed.words)
    else:
        closest = _closest_by_difflib(user, parsed.words, glossary)
    corrected = [
        best if best and stem(best) != stem(word) else word for word, best in zip(parsed.words, closest, strict=True)
    ]
    return " ".join(corrected) if corrected != list(parsed.words) else ""


def _closest_by_difflib(user, typed, glossary):
    known = set()
    for text in Lesson.objects.visible_to(user).values_list("search_vocabulary", flat=True).order_by():
        known.update(text.split())
    for term in glossary:
        known.update(word for word in words(term.term) if len(word) >= MIN_VOCABULARY_CHARS)
    known_stems = {stem(word) for word in known}
    closest = []
    for word in typed:
        if stem(word) in known_stems:
            closest.append(None)
            continue
        matches = difflib.get_close_matches(word, sorted(known), n=1, cutoff=DIFFLIB_CUTOFF)
        closest.append(matches[0] if matches else None)
    return closest


def _closest_by_trigram(user, typed):
    visible_sql, visible_params = (
        Lesson.objects.visible_to(user).order_by().values("search_vocabulary").query.sql_with_params()
    )
    sql = f"""
        WITH vocabulary(word) AS (
            SELECT regexp_split_to_table(visible.search_vocabulary, ' ') FROM ({visible_sql}) AS visible
            UNION
            SELECT regexp_split_to_table(lower(term), '[^[:alnum:]]+') FROM {GlossaryTerm._meta.db_table}
        )
        SELECT (
            SELECT vocabulary.word FROM vocabulary
            WHERE length(vocabulary.word) >= %s AND similarity(vocabulary.word, typed.word) >= %s
            ORDER BY similarity(vocabulary.word, typed.word) DESC, vocabulary.word
            LIMIT 1
        )
        FROM unnest(%s::text[]) WITH ORDINALITY AS typed(word, position)
        ORDER BY typed.position
    """  # noqa: S608 - the only interpolations are Django's own SQL and a table name; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*visible_params, MIN_VOCABULARY_CHARS, TRIGRAM_THRESHOLD, list(typed)])
        return [row[0] for row in cursor.fetchall()]


# --- Passages ---


def marked_passage(headline):
    """PostgreSQL's passage, escaped, with its match markers turned into <mark>."""
    pieces, last = [], 0
    for match in MARKED.finditer(headline or ""):
        pieces.append(_escaped(headline[last : match.start()]))
        pieces.append(f"<mark>{_escaped(match.group(1))}</mark>")
        last = match.end()
    pieces.append(_escaped((headline or "")[last:]))
    return mark_safe("".join(pieces))  # noqa: S308 - every piece is escaped above


def _escaped(text):
    plain = text.replace(MARK_START, "").replace(MARK_STOP, "").replace("&lt;", "<").replace("&amp;", "&")
    return escape(plain)


def passage(text, wanted):
    """About two hundred characters of ``text`` around the first word whose stem is wanted, with every
    such word within them marked; the start of ``text`` when none is."""
    first = next((match for match in WORD.finditer(text) if stem(match.group().lower()) in wanted), None)
    start = 0 if first is None else max(first.start() - PASSAGE_RADIUS, 0)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first.start() else first.start()
    end = min(start + 2 * PASSAGE_RADIUS, len(text))
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > (first.end() if first else start) else end
    excerpt = text[start:end]
    pieces, last = [], 0
    for match in WORD.finditer(excerpt):
        if stem(match.group().lower()) in wanted:
            pieces.append(escape(excerpt[last : match.start()]))
            pieces.append(f"<mark>{escape(match.group())}</mark>")
            last = match.end()
    pieces.append(escape(excerpt[last:]))
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return mark_safe(prefix + "".join(pieces) + suffix)  # noqa: S308 - every piece is escaped above
