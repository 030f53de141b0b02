from django.urls import path

from . import views

urlpatterns = [
    path("journeys/<slug:journey_slug>/assessment/", views.assessment, name="assessment"),
    path("quizzes/<int:quiz_id>/", views.quiz_page, name="quiz"),
    path("quizzes/<int:quiz_id>/submit/", views.quiz_submit, name="quiz_submit"),
    path("attempts/<int:attempt_id>/", views.attempt_detail, name="attempt"),
]
