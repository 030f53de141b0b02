"""The operator's endpoints: liveness, readiness and metrics (no page of the site)."""

from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import metrics, metrics_access, resilience


@require_GET
@never_cache
def healthz(request):
    """The process answers. No database and no cache (no middleware reads the session here either):
    a slow database or a hung cache must not get a live pod restarted."""
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
@never_cache
def metrics_view(request):
    """Prometheus text format, for the operator's scrapers (see portal.metrics_access).

    Anyone else gets 404, as if there were nothing here: the figures are not published to the
    internet along with the site.
    """
    if not metrics_access.allowed(request):
        raise Http404("Metrics are only served to the operator's scrapers.")
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)


@require_GET
@never_cache
def readyz(request):
    """503 only without the database. The cache is reported, but a pod whose cache is down still
    serves every page (from the database), so taking it out of service would only make things worse."""
    cache = resilience.cache_state()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means "not ready"
        return JsonResponse({"status": "unavailable", "database": "unreachable", "cache": cache}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "cache": cache})
