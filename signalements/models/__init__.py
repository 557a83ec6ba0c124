"""The reports app's tables, one module per entity; every name is importable from here."""

from .category import Category, CategoryGroup
from .choices import (
    CITIZEN_CHANNELS,
    NEEDS_REVIEW,
    OPEN_STATUSES,
    STAFF_CHANNELS,
    Channel,
    Moderation,
    Priority,
    Status,
)
from .comment import Comment
from .contact import ReporterContact
from .crew import CrewUpdate, WorkListPosition
from .duplicates import DuplicateCandidate, DuplicateGroup
from .history import StatusChange
from .holiday import PublicHoliday
from .notification import Notification
from .photo import Photo, photo_path
from .response_template import ResponseTemplate
from .satisfaction import Satisfaction
from .signalement import (
    PRIVATE_TEXT_VECTOR,
    PUBLIC_TEXT_VECTOR,
    SEARCH_CONFIG,
    TRACKING_SEPARATOR,
    Signalement,
    random_token,
)
from .support import Support

__all__ = [
    "CITIZEN_CHANNELS",
    "NEEDS_REVIEW",
    "OPEN_STATUSES",
    "PRIVATE_TEXT_VECTOR",
    "PUBLIC_TEXT_VECTOR",
    "SEARCH_CONFIG",
    "STAFF_CHANNELS",
    "TRACKING_SEPARATOR",
    "Category",
    "CategoryGroup",
    "Channel",
    "Comment",
    "CrewUpdate",
    "DuplicateCandidate",
    "DuplicateGroup",
    "Moderation",
    "Notification",
    "Photo",
    "Priority",
    "PublicHoliday",
    "ReporterContact",
    "ResponseTemplate",
    "Satisfaction",
    "Signalement",
    "Status",
    "StatusChange",
    "Support",
    "WorkListPosition",
    "photo_path",
    "random_token",
]
