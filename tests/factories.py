import factory
from django.contrib.auth import get_user_model

from journeys.models import Choice, GlossaryTerm, Journey, Lesson, Module, Question, Quiz


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"learner{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class JourneyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Journey

    slug = factory.Sequence(lambda n: f"journey-{n}")
    title = factory.Sequence(lambda n: f"Journey {n}")
    summary = "A journey for tests."
    description = "Some **description**."


class ModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Module

    journey = factory.SubFactory(JourneyFactory)
    slug = factory.Sequence(lambda n: f"module-{n}")
    title = factory.Sequence(lambda n: f"Module {n}")
    order = factory.Sequence(lambda n: n)


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    module = factory.SubFactory(ModuleFactory)
    slug = factory.Sequence(lambda n: f"lesson-{n}")
    title = factory.Sequence(lambda n: f"Lesson {n}")
    summary = "What this lesson is about."
    objectives = factory.LazyFunction(lambda: ["Do one thing"])
    takeaways = factory.LazyFunction(lambda: ["One thing was done."])
    body = "## First section\n\nSome text.\n\n```yaml\napiVersion: v1\nkind: Pod\n```\n"
    order = factory.Sequence(lambda n: n)


class GlossaryTermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GlossaryTerm

    slug = factory.Sequence(lambda n: f"term-{n}")
    term = factory.Sequence(lambda n: f"Term {n}")
    definition = "A definition for tests."


class QuizFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quiz

    lesson = factory.SubFactory(LessonFactory)
    journey = factory.LazyAttribute(lambda quiz: quiz.lesson.journey if quiz.lesson else JourneyFactory())
    title = "Check your understanding"


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    quiz = factory.SubFactory(QuizFactory)
    order = factory.Sequence(lambda n: n % 1000)  # an order an editor would type (quiz_rules bounds it)
    kind = Question.Kind.SINGLE
    prompt = factory.Sequence(lambda n: f"Question prompt {n}?")
    explanation = "Because that is how Kubernetes works."


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory)
    order = factory.Sequence(lambda n: n % 1000)  # an order an editor would type (quiz_rules bounds it)
    text = factory.Sequence(lambda n: f"Choice {n}")
    is_correct = False
    feedback = "Not this one, because of a reason."


def quiz_with_every_kind(lesson=None, **quiz_options):
    """A quiz with one question of each kind; returns (quiz, {kind: question}, right answers as POST data)."""
    quiz = QuizFactory(lesson=lesson or LessonFactory(), **quiz_options)
    questions, right = {}, {}

    single = QuestionFactory(quiz=quiz, kind="single", order=1, prompt="Which controller keeps Pod names stable?")
    ChoiceFactory(question=single, text="StatefulSet", is_correct=True, feedback="Yes: ordinals are sticky.")
    ChoiceFactory(question=single, text="Deployment", feedback="Deployment Pods get random suffixes.")
    ChoiceFactory(question=single, text="DaemonSet", feedback="A DaemonSet places one Pod per Node.")
    questions["single"] = single

    multiple = QuestionFactory(quiz=quiz, kind="multiple", order=2, prompt="Which run to completion?")
    ChoiceFactory(question=multiple, text="Job", is_correct=True)
    ChoiceFactory(question=multiple, text="CronJob", is_correct=True)
    ChoiceFactory(question=multiple, text="Deployment", feedback="A Deployment restarts finished containers.")
    questions["multiple"] = multiple

    true_false = QuestionFactory(
        quiz=quiz, kind="true_false", order=3, prompt="RBAC has deny rules.", wrong_feedback="RBAC only adds."
    )
    ChoiceFactory(question=true_false, text="True", order=1, feedback="RBAC only adds.")
    ChoiceFactory(question=true_false, text="False", order=2, is_correct=True, feedback="")
    questions["true_false"] = true_false

    short = QuestionFactory(quiz=quiz, kind="short", order=4, accepted_answers=["OnFailure"], wrong_feedback="Hint.")
    questions["short"] = short

    kubectl = QuestionFactory(quiz=quiz, kind="kubectl", order=5, accepted_answers=["kubectl get pods -n shop"])
    questions["kubectl"] = kubectl

    ordering = QuestionFactory(quiz=quiz, kind="ordering", order=6, prompt="Order the request steps.")
    for position, text in enumerate(["Authentication", "Authorization", "Admission"], start=1):
        ChoiceFactory(question=ordering, text=text, order=position, is_correct=True, feedback="")
    questions["ordering"] = ordering

    right = {
        f"q{single.id}": str(single.choices.get(is_correct=True).id),
        f"q{multiple.id}": [str(choice.id) for choice in multiple.choices.filter(is_correct=True)],
        f"q{true_false.id}": str(true_false.choices.get(is_correct=True).id),
        f"q{short.id}": "  onfailure ",
        f"q{kubectl.id}": "kubectl get po --namespace=shop",
        **{f"q{ordering.id}-{choice.id}": str(choice.order) for choice in ordering.choices.all()},
    }
    return quiz, questions, right
