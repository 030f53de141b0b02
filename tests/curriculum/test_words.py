"""The query parser, the stemmer and the passages: pure functions, checked by example and by property."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeys.curriculum.search import MARK_START, MARK_STOP, marked_passage, passage
from journeys.curriculum.words import (
    MAX_QUERY_CHARS,
    MAX_QUERY_WORDS,
    MAX_WORD_CHARS,
    STOP_WORDS,
    lesson_search_fields,
    parse_query,
    stem,
    stem_index,
    vocabulary,
)

# What a learner might paste: SQL, tsquery operators, quotes, HTML, control characters, any script.
HOSTILE = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("&|!:*()'\"<>-_%\\;/ \t\n\x00")),
        st.characters(codec="utf-8"),
    ),
    max_size=400,
)


@pytest.mark.parametrize(
    ("forms", "shared"),
    [
        (["StatefulSets", "statefulset", "STATEFULSET"], "statefulset"),
        (["schedule", "scheduled", "scheduling", "schedules"], "schedul"),
        (["policy", "policies"], "policy"),
        (["run", "running", "runs"], "run"),
        (["pull", "pulling", "pulled"], "pull"),
        (["complete", "completed", "completing"], "complet"),
        (["probe", "probes", "probing"], "prob"),
    ],
)
def test_word_forms_meet_at_one_stem(forms, shared):
    assert {stem(form.lower()) for form in forms} == {shared}


@pytest.mark.parametrize("word", ["pod", "status", "access", "this", "need", "string", "k8s", "ステートフル", "naïve"])
def test_short_foreign_and_irregular_words_are_left_alone(word):
    assert stem(word) == word


@given(st.text(min_size=1, max_size=60))
def test_a_stem_is_never_empty_nor_longer_than_its_word(word):
    result = stem(word)
    assert result and len(result) <= len(word)


def test_a_query_is_read_into_its_meaningful_words():
    query = parse_query("  How do I scale the StatefulSets?  ")
    assert query.words == ("scale", "statefulsets")
    assert query.stems == ("scal", "statefulset")
    assert query.text == "How do I scale the StatefulSets?"
    assert bool(query) and not query.only_stop_words


def test_tsquery_and_sql_syntax_only_separates_words():
    assert parse_query("job & !cron | (quota:*) 'x' --").words == ("job", "cron", "quota")
    assert parse_query("'; DROP TABLE journeys_lesson; --").words == ("drop", "table", "journeys", "lesson")


def test_stop_words_alone_are_noticed():
    query = parse_query("the")
    assert not query and query.only_stop_words
    assert not parse_query("").only_stop_words and not parse_query("&&&").only_stop_words


@given(HOSTILE)
@settings(max_examples=300)
def test_any_text_reads_into_a_small_plain_query(raw):
    query = parse_query(raw)
    assert len(query.text) <= MAX_QUERY_CHARS
    assert len(query.words) <= MAX_QUERY_WORDS and len(query.stems) <= len(query.words)
    for word in query.words:
        assert re.fullmatch(r"[^\W_]+", word) and 2 <= len(word) <= MAX_WORD_CHARS
        assert word == word.lower() and word not in STOP_WORDS
    assert "\x00" not in "".join(query.words)
    # Reading the words again gives the same words: nothing the parser keeps needs parsing again.
    assert parse_query(" ".join(query.words)).words == query.words


@given(st.text(max_size=100))
def test_a_huge_query_is_cut_before_it_is_read(tail):
    query = parse_query("statefulset " * 5000 + tail)
    assert query.words == ("statefulset",) and len(query.text) <= MAX_QUERY_CHARS


def test_stored_fields_hold_stems_and_the_words_worth_suggesting():
    fields = lesson_search_fields(
        title="StatefulSets",
        search_text="StatefulSets give each Pod a stable name. Scheduling the pods.",
        toc=[{"id": "why", "title": "Why stable names matter", "level": 2}, {"bad": "entry"}, "not a dict"],
    )
    assert " statefulset " in fields["search_stems"] and " schedul " in fields["search_stems"]
    assert " the " not in fields["search_stems"]
    assert fields["search_vocabulary"].split() == ["matter", "names", "stable", "statefulsets"]
    assert stem_index("") == "  " and vocabulary("a of 12 x") == ""


def test_a_passage_marks_every_form_of_the_words_and_escapes_the_text():
    text = "Intro. " * 40 + "A <b>StatefulSet</b> & its statefulsets keep names. " + "Outro. " * 40
    shown = passage(text, {"statefulset"})
    assert shown.startswith("… ") and shown.endswith(" …")
    assert "&lt;b&gt;<mark>StatefulSet</mark>&lt;/b&gt; &amp; its <mark>statefulsets</mark>" in shown
    assert passage("Nothing here matches.", {"zebra"}) == "Nothing here matches."


@given(st.text(max_size=600), st.sets(st.sampled_from(["pod", "statefulset", "b", "script", "mark"]), max_size=3))
def test_a_passage_never_carries_markup_but_its_marks(text, wanted):
    shown = passage(text, wanted)
    assert not re.search(r"<(?!/?mark>)", shown)
    assert shown.count("<mark>") == shown.count("</mark>")


@given(st.text(alphabet=st.one_of(st.sampled_from([MARK_START, MARK_STOP, "<", ">", "&", '"']), st.characters())))
def test_the_databases_passage_is_escaped_whatever_markers_it_holds(headline):
    shown = marked_passage(headline)
    assert not re.search(r"<(?!/?mark>)", shown)
    assert shown.count("<mark>") == shown.count("</mark>")
    assert MARK_START not in shown and MARK_STOP not in shown


def test_the_databases_marks_become_mark_elements():
    assert marked_passage(f"a {MARK_START}Pod{MARK_STOP} <x>") == "a <mark>Pod</mark> &lt;x&gt;"
