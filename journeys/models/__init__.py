"""Every model of the app, one module per domain, importable from here as ``journeys.models.X``.

The models keep the app label ``journeys`` and their tables: this package only groups the code.
"""

from .curriculum import (
    SLUG_HELP,
    ContentSource,
    CurriculumQuerySet,
    GlossaryQuerySet,
    GlossaryTerm,
    HttpsURLField,
    Journey,
    Lesson,
    LessonQuerySet,
    Module,
    VisibilityQuerySet,
    can_preview_drafts,
)
from .progress import Certificate, LearnerOwned, LessonProgress
from .quizzes import Choice, Question, QuestionResponse, Quiz, QuizAttempt
from .sandbox import LabRun, ProvisioningEvent, Sandbox, SandboxAssignment

__all__ = [
    "SLUG_HELP",
    "Certificate",
    "Choice",
    "ContentSource",
    "CurriculumQuerySet",
    "GlossaryQuerySet",
    "GlossaryTerm",
    "HttpsURLField",
    "Journey",
    "LabRun",
    "LearnerOwned",
    "Lesson",
    "LessonProgress",
    "LessonQuerySet",
    "Module",
    "ProvisioningEvent",
    "Question",
    "QuestionResponse",
    "Quiz",
    "QuizAttempt",
    "Sandbox",
    "SandboxAssignment",
    "VisibilityQuerySet",
    "can_preview_drafts",
]
