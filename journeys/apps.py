from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "journeys"
    verbose_name = "Kube Journeys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib import admin
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_save, pre_delete

        from . import models, setting_checks  # noqa: F401 - registers the settings' system check
        from .admin_selection import check_every_selection
        from .pages.content_version import content_changed
        from .pages.learner_page import learner_record_changed, user_changed
        from .sandbox.sandboxes import remove_with_account
        from .signals import merge_anonymous_progress

        # Last in INSTALLED_APPS, so every app's admin (axes' too) is registered by now.
        check_every_selection(admin.site)
        user_logged_in.connect(merge_anonymous_progress, dispatch_uid="journeys-merge-anonymous-progress")
        pre_delete.connect(remove_with_account, sender=get_user_model(), dispatch_uid="sandbox-remove-with-account")
        for model in (
            models.Journey,
            models.Module,
            models.Lesson,
            models.GlossaryTerm,
            models.Quiz,
            models.Question,
            models.Choice,
        ):
            post_save.connect(content_changed, sender=model, dispatch_uid=f"content-changed-save-{model.__name__}")
            post_delete.connect(content_changed, sender=model, dispatch_uid=f"content-changed-delete-{model.__name__}")
        # Anything shown on a learner's own pages: a change retires the pages stored for them.
        learner_models = (
            models.LessonProgress,
            models.QuizAttempt,
            models.LabRun,
            models.Certificate,
            models.SandboxAssignment,
            models.Sandbox,
        )
        for model in learner_models:
            for signal, kind in ((post_save, "save"), (post_delete, "delete")):
                signal.connect(learner_record_changed, sender=model, dispatch_uid=f"learner-{kind}-{model.__name__}")
        for signal, kind in ((post_save, "save"), (post_delete, "delete")):
            signal.connect(user_changed, sender=get_user_model(), dispatch_uid=f"learner-{kind}-user")
