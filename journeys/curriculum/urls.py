from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("glossary/", views.glossary, name="glossary"),
    path("search/", views.search, name="search"),
    path("journeys/<slug:journey_slug>/", views.journey_detail, name="journey"),
    path("journeys/<slug:journey_slug>/<slug:lesson_slug>/", views.lesson_detail, name="lesson"),
]
