from django.contrib import admin
from django.urls import include, path

from journeys.accounts import views as account_views
from portal import health

admin.site.site_header = "Kube Journeys administration"
admin.site.site_title = "Kube Journeys admin"
admin.site.index_title = "Curriculum and learners"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    # Before Django's own account pages: the reset form is the one limited per address and recipient.
    path("account/password_reset/", account_views.LimitedPasswordResetView.as_view(), name="password_reset"),
    path("account/", include("django.contrib.auth.urls")),
    path("", include("journeys.urls")),
]
