from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render

from catalog.models import CatalogModel
from catalog.selectors import model_types
from imaging.models import SampleImage
from jobs.models import ACTIVE_STATES, Job
from migration_app.models import PendingModel
from tags.models import Tag


def landing_page(request: HttpRequest) -> HttpResponse:
    """What the service is, how much it holds, and where to go next."""
    context = {
        "model_count": CatalogModel.objects.count(),
        "image_count": SampleImage.objects.count(),
        "pending_count": PendingModel.objects.count(),
        "tag_count": Tag.objects.count(),
        "type_count": len(model_types()),
        "active_jobs": Job.objects.filter(state__in=ACTIVE_STATES).count(),
    }
    return render(request, "landing.html", context)


# Browsers ask for /favicon.ico on pages that name no icon (the JSON routes,
# the API docs' error pages): answer with the site's icon rather than a 404.
FAVICON = Path(__file__).resolve().parent / "static" / "config" / "favicon.ico"


def favicon(request: HttpRequest) -> FileResponse:
    response = FileResponse(FAVICON.open("rb"), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
