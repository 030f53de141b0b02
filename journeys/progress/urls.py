from django.urls import path

from . import views

urlpatterns = [
    path("journeys/<slug:journey_slug>/certificate/", views.certificate, name="certificate"),
    path("lessons/<int:lesson_id>/complete/", views.lesson_complete, name="lesson_complete"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("certificates/<str:code>/", views.certificate_verify, name="certificate_verify"),
    path("certificates/<str:code>/name/", views.certificate_name, name="certificate_name"),
]
