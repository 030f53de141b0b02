from django.urls import include, path

app_name = "journeys"

# Every domain's pages, under the one namespace. The curriculum comes last: its lesson address
# (journeys/<journey>/<lesson>/) would otherwise take a journey's assessment/ and certificate/.
urlpatterns = [
    path("", include("journeys.quizzes.urls")),
    path("", include("journeys.progress.urls")),
    path("", include("journeys.sandbox.urls")),
    path("", include("journeys.accounts.urls")),
    path("", include("journeys.curriculum.urls")),
]
