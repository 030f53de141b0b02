from django.urls import path

from . import views

urlpatterns = [
    path("labs/<slug:lab_slug>/check/", views.lab_check, name="lab_check"),
    path("labs/<slug:lab_slug>/start/", views.lab_starting_manifest, name="lab_starting_manifest"),
    path("labs/runs/<int:run_id>/", views.lab_run, name="lab_run"),
]
