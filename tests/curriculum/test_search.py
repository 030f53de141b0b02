"""Search as a learner uses it, on SQLite and on PostgreSQL: word forms, typos, ranking, passages,
the glossary, drafts kept out, any input answered, and a bounded number of queries."""

import importlib
import re

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys.curriculum import search as search_module
from journeys.models import GlossaryTerm, Lesson
from tests import factories

STATEFULSETS = "/journeys/intermediate-app-developer/statefulsets/"
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL only; CI's PostgreSQL pass runs it"
)


def search(client, query, **headers):
    return client.get(reverse("journeys:search"), {"q": query}, headers=headers)


def result_links(content):
    """The lesson links of the results, in the order shown."""
    if 'class="search-results"' not in content:
        return []
    listing = content.split('class="search-results"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<li>\s*<a href="([^"]+)"', listing)


def passages(content):
    return re.findall(r'<p class="search-passage">(.*?)</p>', content, re.S)


def test_every_spelling_finds_the_statefulsets_lesson_first(client, curriculum):
    for query in ["StatefulSets", "statefulset", "statfulset", "Statefulsets?", "STATEFULSETS"]:
        response = search(client, query)
        assert response.status_code == 200
        assert result_links(response.content.decode())[0] == STATEFULSETS, query


def test_the_plural_and_the_singular_find_the_same_lessons(client, curriculum):
    plural = result_links(search(client, "StatefulSets").content.decode())
    singular = result_links(search(client, "statefulset").content.decode())
    assert plural == singular and len(plural) >= 3


def test_a_typo_offers_a_link_to_the_word_meant_and_shows_what_it_finds(client, curriculum):
    content = search(client, "statfulset").content.decode()
    assert "No lesson matches “statfulset”" in content
    assert 'Did you mean <a class="search-suggestion" href="/search/?q=statefulset">statefulset</a>?' in content
    assert "found for “statefulset”" in content


def test_a_word_spelled_right_gets_no_suggestion(client, curriculum):
    content = search(client, "statefulset").content.decode()
    assert "Did you mean" not in content and "No lesson matches" not in content


def test_only_the_mistyped_word_of_several_is_corrected(client, curriculum):
    content = search(client, "headless sevice").content.decode()
    assert 'href="/search/?q=headless%20service">headless service</a>' in content
    assert STATEFULSETS in result_links(content)


def test_nothing_close_gets_no_suggestion(client, curriculum):
    content = search(client, "zzqqxx").content.decode()
    assert "No lesson matches “zzqqxx”" in content and "Did you mean" not in content
    assert "Check the spelling" in content


def test_lessons_whose_title_matches_come_before_lessons_that_mention_the_words(client, curriculum):
    for query in ["statefulset", "jobs", "helm", "quotas", "probe"]:
        links = result_links(search(client, query).content.decode())
        titles = {lesson.get_absolute_url(): lesson.title for lesson in Lesson.objects.select_related("journey")}
        wanted = search_module.parse_query(query).stems
        in_title = [all(stem in search_module.stems(titles[link]) for stem in wanted) for link in links]
        assert in_title[0], (query, links)
        assert in_title == sorted(in_title, reverse=True), (query, links)


def test_word_forms_match_on_both_databases(client, curriculum):
    assert "/journeys/intermediate-app-developer/jobs/" in result_links(search(client, "completing").content.decode())
    assert "/journeys/intermediate-app-developer/cronjobs/" in result_links(
        search(client, "scheduling").content.decode()
    )


def test_every_word_must_match(client, curriculum):
    assert "/journeys/intermediate-app-developer/cronjobs/" in result_links(
        search(client, "concurrencyPolicy Forbid").content.decode()
    )
    # zzqqxx is nowhere, and nothing is close enough to it to suggest instead.
    assert result_links(search(client, "concurrencyPolicy zzqqxx").content.decode()) == []


def test_each_result_shows_a_passage_with_the_words_marked(client, curriculum):
    content = search(client, "split-brain").content.decode()
    assert STATEFULSETS in result_links(content)
    shown = passages(content)
    assert shown and all("<mark>" in passage for passage in shown)
    assert re.search(r"<mark>split(-brain)?</mark>", shown[0], re.I)


def test_a_passage_marks_the_other_word_forms_too(client, curriculum):
    content = search(client, "StatefulSet").content.decode()
    marked = {word.lower() for word in re.findall(r"<mark>([^<]+)</mark>", "".join(passages(content)))}
    assert marked & {"statefulset", "statefulsets"}


def test_lesson_text_and_the_query_are_escaped(client, db):
    module = factories.ModuleFactory()
    factories.LessonFactory(
        module=module,
        title="Zebrafish",
        body='## Zebrafish\n\nA zebrafish says `<img src=x onerror="alert(1)">` and <script>alert(2)</script>'
        " to AT&T, literally `&lt;b&gt;`.\n",
    )
    content = search(client, 'zebrafish <script>alert("q")</script>').content.decode()
    assert "<img src=x" not in content and "<script>alert" not in content
    assert "&lt;script&gt;alert(&quot;q&quot;)&lt;/script&gt;" in content
    content = search(client, "zebrafish").content.decode()
    shown = "".join(passages(content))
    # Kept as the lesson wrote it (PostgreSQL's passage would drop what looks like a tag), and escaped.
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in shown
    assert "AT&amp;T, literally &amp;lt;b&amp;gt;" in shown


def test_glossary_terms_are_a_separate_small_group(client, curriculum):
    content = search(client, "statefulset").content.decode()
    glossary = content.split("In the glossary", 1)[1]
    assert '<a href="/glossary/#statefulset">StatefulSet</a>' in glossary
    assert glossary.index("/glossary/#statefulset") < glossary.index("</ul>")
    assert len(re.findall(r'<a href="/glossary/#', glossary)) <= search_module.MAX_TERMS


def test_a_word_only_the_glossary_knows_is_found_there(client, db):
    factories.GlossaryTermFactory(slug="quokka", term="Quokka", definition="A small marsupial, smiling.")
    content = search(client, "marsupials").content.decode()
    assert '<a href="/glossary/#quokka">Quokka</a>' in content and "<mark>marsupial</mark>" in content
    assert "No lesson matches “marsupials”, but the glossary does." in content


def test_drafts_never_appear_to_learners(client, curriculum, user, staff_user):
    Lesson.objects.filter(slug="statefulsets").update(is_published=False)
    for who in [None, user]:
        if who:
            client.force_login(who)
        assert STATEFULSETS not in search(client, "statefulset").content.decode()
        assert STATEFULSETS not in search(client, "split-brain").content.decode()
    client.force_login(staff_user)
    assert STATEFULSETS in result_links(search(client, "statefulset").content.decode())


def test_a_drafts_words_are_never_suggested_to_learners(client, db, staff_user):
    draft = factories.LessonFactory(title="Quixotrons", body="## Quixotrons\n\nAbout quixotrons.\n", is_published=False)
    content = search(client, "quixotron5").content.decode()
    assert "Did you mean" not in content and "quixotrons" not in content.lower().replace("quixotron5", "")
    client.force_login(staff_user)
    content = search(client, "quixotrns").content.decode()
    assert "Did you mean" in content and draft.get_absolute_url() in result_links(content)


def test_a_lesson_of_an_unpublished_journey_is_not_found(client, statefulsets_lesson_hidden_by_journey):
    assert STATEFULSETS not in search(client, "statefulset").content.decode()


@pytest.fixture
def statefulsets_lesson_hidden_by_journey(curriculum):
    from journeys.models import Journey

    Journey.objects.update(is_published=False)


def test_only_stop_words_say_so(client, curriculum):
    content = search(client, "the of and").content.decode()
    assert "has only very common words" in content and result_links(content) == []


HOSTILE_QUERIES = [
    "",
    "   \t ",
    "x" * 10_000,
    "statefulset " * 900,
    "& | ! : * ( ) '",
    "statefulset & | ! : * ( ) '",
    "!statefulset | job:* & (cron",
    "'; DROP TABLE journeys_lesson; --",
    '"unterminated',
    "ステートフルセット",
    "Ünïcödé ﬁle 😀 \u202e ǅ",
    "-",
    "a",
    "the",
    "%_%",
    "\\",
]


def test_any_query_answers_a_sensible_page(client, curriculum):
    for query in HOSTILE_QUERIES:
        response = search(client, query)
        assert response.status_code == 200, query
        assert "Search lessons" in response.content.decode()
    assert Lesson.objects.filter(slug="statefulsets").exists()  # nothing was dropped
    assert result_links(search(client, "statefulset & | ! : * ( ) '").content.decode())[0] == STATEFULSETS


def test_a_nul_byte_is_400_with_a_message(client, db):
    for query in ["stateful\x00set", "\x00", "job \x00 cron"]:
        response = search(client, query)
        assert response.status_code == 400
        assert "cannot be stored or searched for" in response.content.decode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=300))
def test_any_text_without_a_nul_answers_200(client, curriculum, query):
    assert search(client, query).status_code == 200


def test_the_results_partial_answers_htmx(client, curriculum):
    response = search(client, "helm", HX_Request="true")
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content and "/helm-charts/" in content and "<mark>" in content


# --- Queries per search: bounded, and independent of how many lessons there are ---


@pytest.fixture(params=[3, 30])
def many_lessons(request, db):
    factories.GlossaryTermFactory(slug="pod", term="Pod", definition="The smallest deployable unit.")
    module = factories.ModuleFactory()
    body = "## First section\n\nSome text about pods.\n"
    return [factories.LessonFactory(module=module, body=body) for _ in range(request.param)]


@pytest.mark.parametrize(
    ("query", "queries"),
    [
        ("", 0),  # nothing to look for
        ("the", 0),  # only stop words
        ("pods section", 2),  # lessons, glossary
        ("sectoin", 4),  # lessons, glossary, the words to correct it to, lessons again
        ("zzqqxx", 3),  # lessons, glossary, the words to correct it to (none close)
    ],
)
def test_a_search_costs_a_fixed_number_of_queries(client, many_lessons, django_assert_num_queries, query, queries):
    with django_assert_num_queries(queries):
        assert search(client, query).status_code == 200


# --- Stored search fields ---


def test_loaded_lessons_store_their_stems_and_vocabulary(curriculum):
    lesson = Lesson.objects.get(slug="statefulsets")
    assert " statefulset " in lesson.search_stems and " headless " in lesson.search_stems
    assert "statefulsets" in lesson.search_vocabulary.split()


def test_the_migration_fills_lessons_saved_before_it(curriculum):
    migration = importlib.import_module("journeys.migrations.0006_lesson_search_fields")
    expected = dict(Lesson.objects.values_list("pk", "search_stems"))
    Lesson.objects.update(search_stems="", search_vocabulary="")
    migration.fill_search_fields(apps, None)
    assert dict(Lesson.objects.values_list("pk", "search_stems")) == expected


def test_saving_a_lesson_refreshes_its_search_fields(curriculum, client):
    lesson = Lesson.objects.get(slug="jobs")
    lesson.body += "\n\n## Wombat handling\n\nWombats are handled here.\n"
    lesson.save()
    assert "/journeys/intermediate-app-developer/jobs/" in result_links(search(client, "wombat").content.decode())
    assert "wombat" in Lesson.objects.get(pk=lesson.pk).search_vocabulary.split()


# --- PostgreSQL's own machinery ---


@needs_postgresql
def test_postgresql_has_trigrams_and_corrects_by_them(curriculum):
    with connection.cursor() as cursor:
        cursor.execute("SELECT similarity('statfulset', 'statefulset')")
        assert cursor.fetchone()[0] > search_module.TRIGRAM_THRESHOLD
    assert search_module._closest_by_trigram(None, ["statfulset", "zzqqxx"]) == ["statefulset", None]


@needs_postgresql
def test_postgresql_keeps_the_stored_document_up_to_date_whatever_writes_the_row(client, curriculum):
    # A bulk update sends no signal and calls no save(): the trigger still sees it.
    Lesson.objects.filter(slug="jobs").update(summary="All about wombats.")
    assert result_links(search(client, "wombat").content.decode()) == ["/journeys/intermediate-app-developer/jobs/"]
    assert not Lesson.objects.filter(search_document__isnull=True).exists()


@needs_postgresql
def test_postgresql_ranks_with_its_own_stemmer(client, curriculum):
    # Snowball knows forms the small stemmer does not: "configurations" and "configured" meet there.
    links = result_links(search(client, "configurations").content.decode())
    assert links[0] == "/journeys/intermediate-app-developer/declarative-configuration/"


def test_glossary_terms_in_the_database_feed_the_suggestions(client, db):
    GlossaryTerm.objects.create(slug="quokka", term="Quokka", definition="A small marsupial.")
    content = search(client, "qokka").content.decode()
    assert 'href="/search/?q=quokka">quokka</a>' in content


@needs_postgresql
def test_both_databases_ignore_the_same_stop_words(db):
    from journeys.curriculum.words import STOP_WORDS

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT word FROM unnest(%s::text[]) AS word WHERE to_tsvector('english', word) <> ''", [sorted(STOP_WORDS)]
        )
        assert cursor.fetchall() == []
