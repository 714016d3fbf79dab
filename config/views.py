from django.http import HttpRequest, HttpResponse
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
