from django.urls import path

from . import account_views, lab_views, learner_views, quiz_views, views

app_name = "journeys"

urlpatterns = [
    path("", views.home, name="home"),
    path("glossary/", views.glossary, name="glossary"),
    path("search/", views.search, name="search"),
    path("journeys/<slug:journey_slug>/", views.journey_detail, name="journey"),
    path("journeys/<slug:journey_slug>/assessment/", quiz_views.assessment, name="assessment"),
    path("journeys/<slug:journey_slug>/certificate/", learner_views.certificate, name="certificate"),
    path("journeys/<slug:journey_slug>/<slug:lesson_slug>/", views.lesson_detail, name="lesson"),
    path("lessons/<int:lesson_id>/complete/", learner_views.lesson_complete, name="lesson_complete"),
    path("quizzes/<int:quiz_id>/", quiz_views.quiz_page, name="quiz"),
    path("quizzes/<int:quiz_id>/submit/", quiz_views.quiz_submit, name="quiz_submit"),
    path("attempts/<int:attempt_id>/", quiz_views.attempt_detail, name="attempt"),
    path("labs/<slug:lab_slug>/check/", lab_views.lab_check, name="lab_check"),
    path("labs/<slug:lab_slug>/start/", lab_views.lab_starting_manifest, name="lab_starting_manifest"),
    path("labs/runs/<int:run_id>/", lab_views.lab_run, name="lab_run"),
    path("dashboard/", learner_views.dashboard, name="dashboard"),
    path("certificates/<str:code>/", learner_views.certificate_verify, name="certificate_verify"),
    path("account/signup/", account_views.signup, name="signup"),
    path("account/data.json", account_views.data_export, name="data_export"),
    path("account/delete/", account_views.account_delete, name="account_delete"),
]
