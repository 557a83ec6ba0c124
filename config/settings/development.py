"""Local development (`make run`, scripts/run.sh, benchmarks): DEBUG on, a key that is not secret."""

import os

from .base import *  # noqa: F403
from .base import env_bool

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "local-development-only-not-secret")
DEBUG = env_bool("DJANGO_DEBUG", True)

# Django's debug pages style themselves inline: report what the policy would block, block nothing.
if DEBUG:
    CONTENT_SECURITY_POLICY_REPORT_ONLY = CONTENT_SECURITY_POLICY  # noqa: F405
    CONTENT_SECURITY_POLICY = None
