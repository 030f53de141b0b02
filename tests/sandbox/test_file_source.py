"""Pasted and uploaded kubectl output: what is accepted, and clear refusals for everything else."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from journeys.sandbox.sources import MAX_PASTE_BYTES, FileSource, SourceError

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "team-a"}, "spec": {}}


def objects(text):
    return FileSource(text=text).objects()


def test_a_kubectl_list_is_flattened():
    text = (
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a, namespace: team-a}\n"
    )
    assert [item["metadata"]["name"] for item in objects(text)] == ["a"]


def test_typed_lists_give_their_items_a_kind():
    text = json.dumps({"kind": "PodList", "apiVersion": "v1", "items": [{"metadata": {"name": "a"}}]})
    assert objects(text)[0]["kind"] == "Pod"


def test_several_documents_and_json_arrays():
    assert len(objects("---\n" + json.dumps(POD) + "\n---\n" + json.dumps({**POD, "metadata": {"name": "b"}}))) == 2
    assert len(objects(json.dumps([POD, POD]))) == 2


def test_an_empty_list_is_an_empty_namespace():
    snapshot = FileSource(text="apiVersion: v1\nkind: List\nitems: []\n").snapshot(("CronJob",))
    assert snapshot.count() == 0 and snapshot.namespace == "default"


def test_secrets_are_never_kept():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "c2VjcmV0"}}
    assert [item["kind"] for item in objects(json.dumps([POD, secret]))] == ["Pod"]


def test_snapshot_uses_the_namespace_of_the_objects():
    snapshot = FileSource(text=json.dumps([POD])).snapshot(("Pod",))
    assert snapshot.namespace == "team-a" and snapshot.get("Pod", "web-0")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Nothing was pasted"),
        ("   \n", "Nothing was pasted"),
        ("key: [unclosed", 'not valid YAML: line 1 ("key: [unclosed") has a [ that is never closed'),
        ("{not json", "looks like JSON but is not valid JSON: line 1, column 2"),
        ("just some words", "Document 1 is plain text, not Kubernetes objects"),
        ("- a\n- b", "Document 1 is a list, not a Kubernetes object"),
        ("kind: Pod\nmetadata: {}", "`metadata.name` is required"),
        ("kind: List\nitems: [3]", "Item 1 of document 1 is the number 3, not a Kubernetes object"),
        ("a: &x [1]\nb: *x", "anchors (&name) are not accepted"),
        ("# only a comment\n", "No Kubernetes objects were found"),
    ],
)
def test_malformed_input_is_refused_with_a_reason(text, reason):
    with pytest.raises(SourceError, match=re.escape(reason)) as caught:
        objects(text)
    assert caught.value.code == "bad-file"


def test_alias_bomb_is_refused_quickly():
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [{','.join([f'*{previous}'] * 9)}]\n"
    with pytest.raises(SourceError, match="anchors"):
        objects(bomb)


def test_size_cap_for_pastes_and_uploads():
    with pytest.raises(SourceError, match="larger than 1 MiB"):
        objects("#" * (MAX_PASTE_BYTES + 1))
    upload = SimpleUploadedFile("big.yaml", b"#" * (MAX_PASTE_BYTES + 1))
    with pytest.raises(SourceError, match="larger than 1 MiB"):
        FileSource.from_upload(upload).objects()


def test_uploads_must_be_utf8():
    with pytest.raises(SourceError, match="not UTF-8"):
        FileSource.from_upload(SimpleUploadedFile("x.yaml", b"\xff\xfe\x00kind")).objects()


def test_deeply_nested_input_is_refused():
    with pytest.raises(SourceError):
        objects("[" * 100000 + "]" * 100000)
