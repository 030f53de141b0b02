"""The shipped curriculum itself: complete, valid, and covering what the journey promises."""

import re

import pytest
import yaml
from django.conf import settings

from journeys.content_rules import docs_url_problem
from journeys.curriculum.files import read_curriculum
from journeys.curriculum.markdown import find_references

CODE_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


@pytest.fixture(scope="module")
def curriculum():
    return read_curriculum(settings.JOURNEYS_CONTENT_DIR)


@pytest.fixture(scope="module")
def journey(curriculum):
    [journey] = [j for j in curriculum.journeys if j.slug == "intermediate-app-developer"]
    return journey


def test_journey_has_the_four_modules_and_at_least_twelve_lessons(journey):
    assert journey.title == "Intermediate App Developer"
    assert [module.slug for module in journey.modules] == [
        "workload-patterns",
        "production-ready",
        "developer-tools",
        "whats-next",
    ]
    assert len(journey.lessons) >= 12
    assert {lesson.module for lesson in journey.lessons} == {module.slug for module in journey.modules}


def test_every_lesson_has_objectives_takeaways_and_a_runnable_example(journey):
    for lesson in journey.lessons:
        assert len(lesson.objectives) >= 3, lesson.slug
        assert len(lesson.takeaways) >= 3, lesson.slug
        assert lesson.summary and lesson.minutes > 0, lesson.slug
        languages = {language for language, _ in CODE_BLOCK.findall(lesson.body)}
        assert languages & {"yaml", "shell"}, f"{lesson.slug} has no YAML or kubectl example"


def test_every_yaml_example_parses(journey):
    for lesson in journey.lessons:
        for language, code in CODE_BLOCK.findall(lesson.body):
            if language == "yaml":
                list(yaml.safe_load_all(code))


def test_glossary_has_the_terms_the_journey_needs(curriculum):
    slugs = {term.slug for term in curriculum.glossary}
    assert len(slugs) >= 20
    required = {
        "deployment", "statefulset", "daemonset", "job", "cronjob", "pod", "node", "persistentvolume",
        "service", "kubectl", "kubernetes-api", "serviceaccount", "rbac", "namespace", "resourcequota",
        "limitrange", "helm-chart", "cluster-operator", "kubeconfig", "jsonpath", "label-selector",
    }  # fmt: skip
    assert required <= slugs


@pytest.mark.parametrize(
    ("lesson", "facts"),
    [
        ("beyond-deployments", ["terminat", "Deployment"]),
        ("statefulsets", ["-0", "Unknown", "split-brain", "Cassandra", "Elasticsearch", "PersistentVolume", "force"]),
        ("daemonsets", ["fluent", "every", "service mesh", "control-plane"]),
        ("jobs", ["completions", "parallelism", "work queue", "Indexed"]),
        ("cronjobs", ["0 2 * * *", "concurrencyPolicy", "backup", "startingDeadlineSeconds"]),
        ("declarative-configuration", ["kubectl apply -f", "kubectl create", "version control", "last-applied"]),
        ("serviceaccounts-and-rbac", ["least privilege", "ServiceAccount", "RoleBinding", "authoriz", "authentic"]),
        ("namespaces-quotas-requests", ["ResourceQuota", "LimitRange", "500m", "requests", "limits"]),
        ("monitoring", ["readinessProbe", "livenessProbe", "kubectl top", "/metrics"]),
        ("kubectl-and-the-api", ["client-go", "-v=", "kubectl run", "kubectl apply"]),
        ("kubeconfig-and-contexts", ["use-context", "KUBECONFIG", "prod", "dev"]),
        ("output-formats-and-jsonpath", ["jsonpath", "-o wide", "custom-columns", "nodePort"]),
        ("helm-charts", ["Jenkins", "PostgreSQL", "values.yaml", "meta.helm.sh/release-name"]),
        ("whats-next", ["Advanced App Developer", "Foundational Cluster Operator", "kubectl explain"]),
    ],
)
def test_lessons_cover_the_journey_topics(journey, lesson, facts):
    [found] = [item for item in journey.lessons if item.slug == lesson]
    text = found.body.lower()
    for fact in facts:
        assert fact.lower() in text, f"{lesson} does not mention {fact!r}"


def test_every_lesson_has_a_quiz_and_the_journey_a_final_assessment(journey):
    for lesson in journey.lessons:
        assert lesson.quiz is not None, f"{lesson.slug} has no quiz"
        assert len(lesson.quiz.questions) >= 4, lesson.slug
    final = journey.final_assessment
    assert final is not None and len(final.questions) >= 30 and final.draw >= 15
    total = sum(len(lesson.quiz.questions) for lesson in journey.lessons) + len(final.questions)
    assert total >= 60


def test_every_question_explains_itself_and_every_wrong_choice_says_why(journey):
    quizzes = [lesson.quiz for lesson in journey.lessons] + [journey.final_assessment]
    kinds = set()
    for quiz in quizzes:
        for question in quiz.questions:
            kinds.add(question.kind)
            assert question.explanation.strip(), question.prompt
            for choice in question.choices:
                if not choice.is_correct:
                    assert choice.feedback.strip(), f"{question.prompt}: {choice.text}"
    assert kinds == {"single", "multiple", "true_false", "short", "kubectl", "ordering"}


# --- Facts a learner relies on ---


def test_the_journey_states_the_kubernetes_version_it_was_checked_against(journey):
    assert re.fullmatch(r"1\.\d+", journey.kubernetes_version), journey.kubernetes_version


def test_every_glossary_term_links_to_its_page_in_the_official_documentation(curriculum):
    for term in curriculum.glossary:
        assert docs_url_problem(term.docs_url) is None, f"{term.slug}: {term.docs_url!r}"
        site = "helm.sh" if term.slug.startswith("helm") else "kubernetes.io"
        assert term.docs_url.startswith(f"https://{site}/docs/"), f"{term.slug}: {term.docs_url}"
    urls = [term.docs_url for term in curriculum.glossary]
    # Terms share a page only when they are sections of it (an anchor tells them apart).
    assert len(set(urls)) == len(urls)


def test_every_glossary_reference_in_lessons_resolves(curriculum, journey):
    slugs = {term.slug for term in curriculum.glossary}
    used = set()
    for lesson in journey.lessons:
        for reference in find_references(lesson.body):
            if reference.kind == "glossary":
                assert reference.slug in slugs, f"{lesson.slug}: [[{reference.slug}]]"
                used.add(reference.slug)
    assert "operator-pattern" in used


GLOSSARY_LINK = re.compile(r"\[\[([a-z0-9-]+)(?:\|([^\]\n]+))?\]\]")


def test_the_operator_pattern_and_the_cluster_operator_role_are_not_confused(curriculum, journey):
    terms = {term.slug: term for term in curriculum.glossary}
    assert "software" in terms["operator-pattern"].definition.lower()
    assert "person" in terms["cluster-operator"].definition.lower()
    for lesson in journey.lessons:
        for slug, shown in GLOSSARY_LINK.findall(lesson.body):
            shown = (shown or terms[slug].term).lower()
            if slug == "cluster-operator":
                assert "cluster operator" in shown, f"{lesson.slug}: [[{slug}|{shown}]] names the human role"
            if slug == "operator-pattern":
                assert "cluster" not in shown, f"{lesson.slug}: [[{slug}|{shown}]]"
    # The two lessons that recommend operators for databases link the software, not the role.
    for slug in ("beyond-deployments", "statefulsets"):
        [lesson] = [item for item in journey.lessons if item.slug == slug]
        assert "[[operator-pattern|" in lesson.body and "[[cluster-operator" not in lesson.body


def test_reading_a_quota_with_kubectl_get_is_accepted(journey):
    [question] = [q for q in journey.final_assessment.questions if "ResourceQuota `team-quota`" in q.prompt]
    verbs = {answer.split()[1] for answer in question.accepted_answers}
    assert verbs == {"get", "describe"}
    assert "little more than the name" not in question.wrong_feedback + question.explanation


def test_lessons_do_not_repeat_corrected_claims(journey):
    """Statements that were wrong once and must not come back."""
    text = {lesson.slug: lesson.body for lesson in journey.lessons}
    assert "bitnamicharts" not in text["helm-charts"]
    assert "kubectl get all -n team-a -l" not in text["helm-charts"]
    assert "--history-max" in text["helm-charts"]
    assert "carries the API schema" not in text["whats-next"]
    assert "does not start the Job at all" not in text["cronjobs"]
    assert "TooManyMissedTimes" in text["cronjobs"]
    assert "ImagePullBackOff" in text["jobs"] and "activeDeadlineSeconds" in text["jobs"]
    assert "decides which Pods are evicted first" not in text["namespaces-quotas-requests"]
    assert "its `port` must be a number" in text["monitoring"]
