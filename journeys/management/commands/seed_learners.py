"""Create learner accounts with realistic progress, so pages can be measured with a populated database.

Learner ``i`` is always generated from the same random stream (``--seed`` and ``i``), so a run
with ``--reset`` and a run that only adds the missing learners produce the same rows. Every seeded
learner shares one password, hashed once: hashing a thousand passwords would take minutes and
tells a benchmark nothing. Seeded accounts are recognised by their ``@seed.invalid`` address, and
``--reset`` deletes only those.
"""

import random
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from journeys.models import (
    Certificate,
    Journey,
    LabRun,
    Lesson,
    LessonProgress,
    Question,
    QuestionResponse,
    Quiz,
    QuizAttempt,
)
from journeys.quizzes.grading import grade_quiz
from journeys.quizzes.selectors import quiz_questions_for_seed
from journeys.quizzes.services import question_spec
from journeys.sandbox.labs import LABS, evaluate, kinds_for
from journeys.sandbox.sources import FileSource, SourceError

User = get_user_model()

USERNAME_FORMAT = "learner-{:04d}"
EMAIL_DOMAIN = "seed.invalid"
DEFAULT_PASSWORD = "kube-journeys-learner"  # noqa: S105 - the documented login of seeded accounts
BATCH = 2000
FIRST_NAMES = ["Ada", "Grace", "Linus", "Ken", "Barbara", "Alan", "Radia", "Margaret", "Dennis", "Frances"]
LAST_NAMES = ["Lovelace", "Hopper", "Torvalds", "Thompson", "Liskov", "Turing", "Perlman", "Hamilton", "Ritchie"]
WRONG_TEXT = {"short": "not sure", "kubectl": "kubectl get pods"}


@contextmanager
def keep_given_timestamps(*fields):
    """Let bulk_create store historical times in auto_now_add fields instead of the time of the seed."""
    saved = [(field, field.auto_now_add) for field in fields]
    for field, _ in saved:
        field.auto_now_add = False
    try:
        yield
    finally:
        for field, value in saved:
            field.auto_now_add = value


class Curriculum:
    """The published lessons of each journey in reading order, with the quiz questions as grading specs."""

    def __init__(self):
        self.journeys = []
        for journey in Journey.objects.published().order_by("order", "title"):
            lessons = list(Lesson.objects.published().filter(journey=journey).in_outline_order().select_related("quiz"))
            if lessons:
                self.journeys.append((journey, lessons))
        quizzes = Quiz.objects.filter(journey__in=[journey for journey, _ in self.journeys])
        self.questions = {quiz.pk: [] for quiz in quizzes}
        for question in Question.objects.filter(quiz__in=quizzes).order_by("order", "id").prefetch_related("choices"):
            self.questions[question.quiz_id].append(question)
        self.specs = {question.id: question_spec(question) for qs in self.questions.values() for question in qs}
        self.finals = {quiz.journey_id: quiz for quiz in quizzes if quiz.is_final}
        # One lab per lesson is enough for realistic history: the first (a lesson's build lab comes first).
        self.lab_reports = {}
        for lab in LABS.values():
            if lab.lesson not in self.lab_reports:
                self.lab_reports[lab.lesson] = (lab, *_lab_reports(lab))


def _lab_reports(lab):
    """(failing report, report of the reference solution or None): real report shapes for the history."""
    empty = evaluate(
        lab, FileSource(text="apiVersion: v1\nkind: List\nitems: []\n").snapshot(kinds_for(lab)), source="file"
    )
    solution = lab.solution_path
    try:
        attempt = evaluate(
            lab, FileSource(text=solution.read_text(encoding="utf-8")).snapshot(kinds_for(lab)), source="file"
        )
    except (OSError, SourceError):
        attempt = None
    return empty, attempt


def _answer(rng, spec, right):
    choices = list(spec.choices)
    correct = [choice.id for choice in choices if choice.is_correct]
    wrong = [choice.id for choice in choices if not choice.is_correct]
    if spec.kind in ("single", "true_false"):
        return correct[0] if right or not wrong else rng.choice(wrong)
    if spec.kind == "multiple":
        if right or not wrong:
            return sorted(correct)
        return sorted({*correct[1:], rng.choice(wrong)})
    if spec.kind in ("short", "kubectl"):
        return spec.accepted_answers[0] if right and spec.accepted_answers else WRONG_TEXT[spec.kind]
    ordered = [choice.id for choice in sorted(choices, key=lambda choice: choice.order)]
    if right or len(ordered) < 2:
        return ordered
    shuffled = ordered[:]
    while shuffled == ordered:
        rng.shuffle(shuffled)
    return shuffled


class LearnerBuilder:
    """Rows for one learner: walks the journey in order, as a real learner would, up to a random point."""

    def __init__(self, curriculum, rng, user, now):
        self.curriculum, self.rng, self.user, self.now = curriculum, rng, user, now
        self.progress, self.attempts, self.lab_runs, self.certificates = [], [], [], []

    def build(self):
        for journey, lessons in self.curriculum.journeys:
            self._journey(journey, lessons)
        return self

    def _journey(self, journey, lessons):
        rng = self.rng
        roll = rng.random()
        # Most learners are somewhere in the middle; some never start, some finish.
        done = 0 if roll < 0.15 else len(lessons) if roll > 0.85 else rng.randint(1, max(1, len(lessons) - 1))
        started = self.user.date_joined
        moments = sorted(started + (self.now - started) * rng.random() for _ in range(done + 2))
        for index, lesson in enumerate(lessons[:done]):
            self._complete(lesson, moments[index])
        if done < len(lessons):
            current = lessons[done]
            self.progress.append(LessonProgress(user=self.user, lesson=current, last_viewed_at=moments[done]))
            if getattr(current, "quiz", None) and rng.random() < 0.3:
                self._quiz(current.quiz, moments[done], passes=False)
        else:
            final = self.curriculum.finals.get(journey.pk)
            if final and rng.random() < 0.7 and self._quiz(final, moments[done], fails=rng.choice([0, 1])):
                name = f"{self.user.first_name} {self.user.last_name}"
                code = f"{rng.getrandbits(80):020x}"
                self.certificates.append(
                    Certificate(user=self.user, journey=journey, code=code, learner_name=name, issued_at=moments[-1])
                )

    def _complete(self, lesson, when):
        rng = self.rng
        via = LessonProgress.Via.MANUAL
        lab = self.curriculum.lab_reports.get(lesson.slug)
        took_quiz = getattr(lesson, "quiz", None) and rng.random() < 0.7
        if took_quiz and self._quiz(lesson.quiz, when, fails=rng.choice([0, 0, 0, 1, 1, 2])):
            via = LessonProgress.Via.QUIZ
        if lab and rng.random() < 0.5 and self._lab(lesson, lab, when) and via == LessonProgress.Via.MANUAL:
            via = LessonProgress.Via.LAB
        self.progress.append(
            LessonProgress(user=self.user, lesson=lesson, last_viewed_at=when, completed_at=when, completed_via=via)
        )

    def _quiz(self, quiz, when, *, fails=0, passes=True):
        """Record failed attempts, then (if ``passes``) one that passes. Return whether one passed."""
        rng = self.rng
        for number in range(fails + 1):
            should_pass = passes and number == fails
            seed = rng.randrange(2**31)
            questions = quiz_questions_for_seed(quiz, seed, self.curriculum.questions[quiz.pk])
            specs = [self.curriculum.specs[question.id] for question in questions]
            answers = {spec.id: _answer(rng, spec, rng.random() < (0.95 if should_pass else 0.4)) for spec in specs}
            outcomes, score, passed = grade_quiz(specs, answers, pass_mark=quiz.pass_mark)
            if should_pass and not passed:
                answers = {spec.id: _answer(rng, spec, True) for spec in specs}
                outcomes, score, passed = grade_quiz(specs, answers, pass_mark=quiz.pass_mark)
            submitted = when - timedelta(minutes=5 * (fails - number))
            attempt = QuizAttempt(
                user=self.user,
                quiz=quiz,
                submission_token=uuid.UUID(int=rng.getrandbits(128), version=4),
                seed=seed,
                question_ids=[spec.id for spec in specs],
                answers={str(key): value for key, value in answers.items()},
                results=[outcome.as_dict() for outcome in outcomes],
                score=score,
                passed=passed,
                started_at=submitted - timedelta(seconds=rng.randint(60, 900)),
                submitted_at=submitted,
            )
            self.attempts.append((attempt, specs, answers, outcomes))
            if passed:
                return True
        return False

    def _lab(self, lesson, lab_entry, when):
        """A failed check or two, then the reference solution's. Return whether the last one passed."""
        lab, failing, final = lab_entry
        reports = [failing] * self.rng.choice([0, 1, 2]) + ([final] if final else [])
        for number, report in enumerate(reports):
            self.lab_runs.append(
                LabRun(
                    user=self.user,
                    lab_slug=lab.slug,
                    lesson=lesson,
                    source="file",
                    namespace=report.namespace,
                    outcome=report.outcome,
                    report=report.as_dict(),
                    duration_ms=self.rng.randint(3, 40),
                    created_at=when - timedelta(minutes=3 * (len(reports) - number)),
                )
            )
        return bool(reports) and reports[-1].outcome == LabRun.Outcome.PASS


class Command(BaseCommand):
    help = (
        "Create learner accounts (learner-0001, …) with completed lessons, quiz attempts and lab runs. "
        "Deterministic for a given --seed; existing seeded learners are kept unless --reset."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=1000, help="Number of learners (default 1000).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"Password of every seeded learner (default {DEFAULT_PASSWORD}).",
        )
        parser.add_argument("--reset", action="store_true", help="Delete every seeded learner first, then seed anew.")

    def handle(self, *args, count, seed, password, reset, verbosity=1, **options):
        if count < 0:
            raise CommandError("--count must be zero or more.")
        started = time.perf_counter()
        curriculum = Curriculum()
        if not curriculum.journeys:
            raise CommandError("There is no published lesson to make progress in; run `manage.py load_journeys` first.")
        with transaction.atomic():
            if reset:
                deleted = User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").delete()[1].get(User._meta.label, 0)
                if verbosity >= 1:
                    self.stdout.write(f"Deleted {deleted} seeded learners.")
            totals = self._seed(curriculum, count, seed, password)
        if verbosity >= 1:
            summary = ", ".join(f"{value} {name}" for name, value in totals.items())
            self.stdout.write(self.style.SUCCESS(f"Seeded {summary} in {time.perf_counter() - started:.1f} s."))

    def _seed(self, curriculum, count, seed, password):
        now = timezone.now()
        usernames = [USERNAME_FORMAT.format(index) for index in range(1, count + 1)]
        existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
        hashed = make_password(password)
        users, rngs = [], []
        for index, username in enumerate(usernames, start=1):
            if username in existing:
                continue
            rng = random.Random(seed * 1_000_003 + index)  # noqa: S311 - sample data, not security
            joined = now - timedelta(days=rng.uniform(1, 120))
            users.append(
                User(
                    username=username,
                    email=f"{username}@{EMAIL_DOMAIN}",
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=rng.choice(LAST_NAMES),
                    password=hashed,
                    date_joined=joined,
                    last_login=now - timedelta(hours=rng.uniform(0, 72)),
                )
            )
            rngs.append(rng)
        User.objects.bulk_create(users, batch_size=BATCH)
        # bulk_create fills primary keys on PostgreSQL and SQLite alike; fetch them anyway for other backends.
        ids = dict(User.objects.filter(username__in=[user.username for user in users]).values_list("username", "id"))
        for user in users:
            user.pk = ids[user.username]

        learners = [LearnerBuilder(curriculum, rng, user, now).build() for user, rng in zip(users, rngs, strict=True)]
        progress = [row for learner in learners for row in learner.progress]
        graded = [row for learner in learners for row in learner.attempts]
        runs = [row for learner in learners for row in learner.lab_runs]
        certificates = [row for learner in learners for row in learner.certificates]

        LessonProgress.objects.bulk_create(progress, batch_size=BATCH)
        with keep_given_timestamps(
            QuizAttempt._meta.get_field("submitted_at"),
            LabRun._meta.get_field("created_at"),
            Certificate._meta.get_field("issued_at"),
        ):
            QuizAttempt.objects.bulk_create([attempt for attempt, *_ in graded], batch_size=BATCH)
            LabRun.objects.bulk_create(runs, batch_size=BATCH)
            Certificate.objects.bulk_create(certificates, batch_size=BATCH)

        responses, chosen = [], []
        for attempt, specs, answers, outcomes in graded:
            for spec, outcome in zip(specs, outcomes, strict=True):
                answer = answers[spec.id]
                responses.append(
                    QuestionResponse(
                        attempt=attempt,
                        question_id=spec.id,
                        score=outcome.score,
                        is_correct=outcome.correct,
                        text_answer=answer if isinstance(answer, str) else "",
                    )
                )
                if spec.kind in ("single", "true_false"):
                    chosen.append((responses[-1], [answer]))
                elif spec.kind == "multiple":
                    chosen.append((responses[-1], answer))
        QuestionResponse.objects.bulk_create(responses, batch_size=BATCH)
        through = QuestionResponse.chosen_choices.through
        links = [
            through(questionresponse_id=response.pk, choice_id=choice_id)
            for response, choice_ids in chosen
            for choice_id in choice_ids
        ]
        through.objects.bulk_create(links, batch_size=BATCH)
        return {
            "learners": len(users),
            "lesson progress rows": len(progress),
            "quiz attempts": len(graded),
            "question responses": len(responses),
            "lab runs": len(runs),
            "certificates": len(certificates),
        }
