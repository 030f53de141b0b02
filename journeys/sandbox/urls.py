from django.urls import path

from . import mine, views

urlpatterns = [
    path("labs/<slug:lab_slug>/check/", views.lab_check, name="lab_check"),
    path("labs/<slug:lab_slug>/start/", views.lab_starting_manifest, name="lab_starting_manifest"),
    path("labs/runs/<int:run_id>/", views.lab_run, name="lab_run"),
    path("sandbox/", mine.my_sandbox, name="my_sandbox"),
    path("sandbox/create/", mine.sandbox_create, name="sandbox_create"),
    path("sandbox/reset/", mine.sandbox_reset, name="sandbox_reset"),
    path("sandbox/delete/", mine.sandbox_delete, name="sandbox_delete"),
    path("sandbox/kubeconfig/", mine.sandbox_kubeconfig, name="sandbox_kubeconfig"),
    path("sandbox/commands/", mine.sandbox_commands, name="sandbox_commands"),
]
