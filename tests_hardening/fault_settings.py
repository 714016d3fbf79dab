"""Test-only settings: the production settings plus the crash-test fault injection.

``tests_hardening.instance.Instance.manage(..., fault="name")`` runs a command
with ``DJANGO_SETTINGS_MODULE`` pointing here and ``FAULT_POINT=name``.
"""

from config.settings import *  # noqa: F403
from tests_hardening.faults import install

install()
