"""The periodic rescan (RESCAN_MINUTES): a scan job submitted every N minutes.

The scan itself runs on the job engine like any other scan job (progress,
cancel, restart survival); this only decides when to submit one. The time of
the last scan job of any origin counts, so a restart, or a scan someone
started by hand, does not bring the next one forward.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from config.api import ServiceError
from jobs.models import Job
from jobs.services import job_submit

logger = logging.getLogger(__name__)


def rescan_submit_if_due(*, minutes: int) -> Job | None:
    """Submit a scan job of every root when no scan job was created in the last
    ``minutes``; the job submitted (or the one already queued), else None.

    A configuration the scan refuses (no roots) is logged, not raised: the
    next round tries again.
    """
    since = timezone.now() - timedelta(minutes=minutes)
    if Job.objects.filter(kind="scan", created_at__gte=since).exists():
        return None
    try:
        job, created = job_submit(kind="scan", params={})
    except ServiceError as exc:
        logger.warning("Periodic rescan not submitted: %s", exc.message)
        return None
    if created:
        logger.info("Periodic rescan: scan job %s submitted.", job.pk)
    return job
