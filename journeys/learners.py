"""Who is learning: a signed-in user, or an anonymous visitor known by a key kept in their session.

Anonymous progress is stored under that key and moves to the account when the visitor signs up or
logs in (see ``progress.services.progress_merge``). The key lives inside the session data, not in the
session id, so it survives the session id change that logging in causes.
"""

import secrets
from dataclasses import dataclass

SESSION_KEY = "learner_key"


def key_for(*, user_id=None, anon_key=""):
    """The string naming one learner in cache and rate-limit keys; None for a visitor without a key."""
    if user_id is not None:
        return f"user:{user_id}"
    return f"anon:{anon_key}" if anon_key else None


@dataclass(frozen=True)
class Learner:
    user: object = None
    anon_key: str = ""

    @property
    def key(self):
        return key_for(user_id=self.user.pk if self.user is not None else None, anon_key=self.anon_key)

    @property
    def is_known(self):
        return self.user is not None or bool(self.anon_key)

    def owner_fields(self):
        if self.user is not None:
            return {"user": self.user, "anon_key": ""}
        return {"user": None, "anon_key": self.anon_key}

    def records(self, queryset):
        """Only this learner's rows of ``queryset`` (nothing for a visitor without a key)."""
        if self.user is not None:
            return queryset.filter(user=self.user)
        if self.anon_key:
            return queryset.filter(user__isnull=True, anon_key=self.anon_key)
        return queryset.none()

    def owns(self, record):
        if self.user is not None:
            return record.user_id == self.user.pk
        return bool(self.anon_key) and record.user_id is None and record.anon_key == self.anon_key


def learner_for(request, *, create=False):
    """The learner behind ``request``; ``create`` gives an anonymous visitor a key (for a first write)."""
    if request.user.is_authenticated:
        return Learner(user=request.user)
    key = request.session.get(SESSION_KEY, "")
    if not key and create:
        key = secrets.token_urlsafe(24)
        request.session[SESSION_KEY] = key
    return Learner(anon_key=key)


def learner_adopt_key(session, anon_key):
    """Make ``anon_key`` this session's learner key: a first-time visitor's request that raced a
    sibling request of the same browser joins the key the sibling gave them (see quizzes.services)."""
    session[SESSION_KEY] = anon_key
    return Learner(anon_key=anon_key)
