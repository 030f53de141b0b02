from .learners import SESSION_KEY
from .progress.services import progress_merge


def merge_anonymous_progress(sender, request, user, **kwargs):
    """On login or sign-up, progress made before it moves into the account."""
    if request is None or not hasattr(request, "session"):
        return
    anon_key = request.session.pop(SESSION_KEY, "")
    if anon_key:
        progress_merge(user=user, anon_key=anon_key)
