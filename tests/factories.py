import factory
from django.contrib.auth import get_user_model

from journeys.models import GlossaryTerm, Journey, Lesson, Module


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
