"""Lesson search that works the same on SQLite and PostgreSQL.

Every word of the query must appear in the lesson's title or text (case-insensitive substring
match, so "statefulset" also finds "StatefulSets"). On PostgreSQL, full-text search is added on
top: it matches word forms ("scheduling" finds "scheduled") and ranks the results.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils.html import escape
from django.utils.safestring import mark_safe

from ..models import Lesson

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
SNIPPET_RADIUS = 90


@dataclass
class SearchHit:
    lesson: Lesson
    snippet: str


def search_terms(query):
    words = re.findall(r"[\w.:/-]+", (query or "")[:MAX_QUERY_LENGTH].lower())
    return [word for word in dict.fromkeys(words) if len(word) >= 2][:MAX_TERMS]


def lessons_search_for_user(*, user, query, limit=30):
    terms = search_terms(query)
    if not terms:
        return []
    lessons = Lesson.objects.visible_to(user).select_related("journey", "module")
    every_term = Q()
    for term in terms:
        every_term &= Q(title__icontains=term) | Q(search_text__icontains=term)
    title_match = Case(
        *[When(title__icontains=term, then=Value(1)) for term in terms], default=Value(0), output_field=IntegerField()
    )
    if connection.vendor == "postgresql":
        vector = SearchVector("title", weight="A", config="english") + SearchVector(
            "search_text", weight="B", config="english"
        )
        text_query = SearchQuery(" ".join(terms), search_type="plain", config="english")
        # Match with @@ rather than rank > 0: ts_rank gives tiny positive scores to non-matches.
        lessons = (
            lessons.annotate(document=vector, rank=SearchRank(vector, text_query), title_match=title_match)
            .filter(every_term | Q(document=text_query))
            .order_by("-title_match", "-rank", "module__order", "order")
        )
    else:
        lessons = (
            lessons.annotate(title_match=title_match)
            .filter(every_term)
            .order_by("-title_match", F("module__order").asc(), "order")
        )
    return [
        SearchHit(lesson=lesson, snippet=snippet(lesson.search_text[len(lesson.title) :].strip(), terms))
        for lesson in lessons[:limit]
    ]


def snippet(text, terms):
    """A short excerpt around the first matching word, with every match marked."""
    lowered = text.lower()
    positions = [lowered.find(term) for term in terms if lowered.find(term) >= 0]
    start = max(min(positions) - SNIPPET_RADIUS, 0) if positions else 0
    end = min(start + 2 * SNIPPET_RADIUS, len(text))
    excerpt = text[start:end]
    pattern = re.compile("|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    marked, last = [], 0
    for match in pattern.finditer(excerpt):
        marked.append(escape(excerpt[last : match.start()]))
        marked.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    marked.append(escape(excerpt[last:]))
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return mark_safe(prefix + "".join(marked) + suffix)  # noqa: S308 - every piece is escaped above
