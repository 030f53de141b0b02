from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "journeys"
    verbose_name = "Kube Journeys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .signals import merge_anonymous_progress

        user_logged_in.connect(merge_anonymous_progress, dispatch_uid="journeys-merge-anonymous-progress")
