"""Duplicate groups: found by a periodic clustering job, merged by an agent in one action, undone."""

import hashlib
from datetime import timedelta

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from config.database import retried_on_deadlock

from ..history import history_note
from ..models import (
    OPEN_STATUSES,
    Category,
    DuplicateGroup,
    Notification,
    Signalement,
    Status,
    StatusChange,
    Support,
)
from ..notifications.queue import notifications_queue
from ..trust.policy import Capability, require
from .services import status_record
from .workflow import Event

# Candidates: reports chained within the radius (DBSCAN with minpoints 2 is single linkage), found with
# the GiST index on the metric column. A chain is not a group: `_anchored_groups` cuts it.
CLUSTER_SQL = f"""
SELECT cluster, id, extract(epoch FROM created_at)::float8, ST_X(location_metric), ST_Y(location_metric)
  FROM (SELECT id, created_at, location_metric,
               ST_ClusterDBSCAN(location_metric, eps := %(radius)s, minpoints := 2) OVER () AS cluster
          FROM signalements_signalement
         WHERE category_id = %(category)s AND status IN ({", ".join(f"'{s}'" for s in OPEN_STATUSES)})
           AND duplicate_of_id IS NULL) AS clustered
 WHERE cluster IS NOT NULL
 ORDER BY cluster, created_at, id
"""


def _anchored_groups(members: list[tuple], window: timedelta, radius_m: float) -> list[list[int]]:
    """Cut a chain of reports (id, epoch seconds, x, y; oldest first) into groups that each stay
    within `window` and `radius_m` of their first report: the oldest report not yet grouped starts a
    group with every later one close enough to it, then the next oldest left starts the next.

    Single linkage alone chained reports every 40 m along a street, or every few days at one place,
    into groups spanning a year or 400 m (one proposed group in five on the Paris data): those are
    places that come back, for the hotspot analyses, not one problem reported twice."""
    ids = np.array([member[0] for member in members])
    seconds = np.array([member[1] for member in members], dtype=float)
    xy = np.array([(member[2], member[3]) for member in members], dtype=float)
    left = np.ones(len(members), bool)
    groups = []
    for first in range(len(members)):
        if not left[first]:
            continue
        near = (
            left
            & (seconds - seconds[first] <= window.total_seconds())
            & (np.hypot(*(xy - xy[first]).T) <= radius_m)
        )
        left &= ~near
        if near.sum() > 1:
            groups.append(ids[near].tolist())
    return groups


# Runs of the clustering job take turns: each reads the groups stored before it.
PROPOSE_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('signalements_duplicate_groups'))"
SIGNATURES_PER_QUERY = 10_000


def group_signature(category_id: int, members: list[int]) -> str:
    return hashlib.sha256(f"{category_id}:{','.join(map(str, members))}".encode()).hexdigest()


@transaction.atomic
def duplicate_groups_propose() -> int:
    """Cluster the open reports of each category (ST_ClusterDBSCAN within its radius, on the
    metric column, then cut into groups within its window and radius of their first report) and
    store the groups not proposed before, in a few statements whatever their number (1,561 groups:
    9.4 s one group at a time, 6,245 queries)."""
    with connection.cursor() as cursor:
        cursor.execute(PROPOSE_LOCK_SQL)
    found: dict[str, tuple[int, list[int]]] = {}  # signature: category, sorted member ids
    for category in Category.objects.filter(is_active=True):
        with connection.cursor() as cursor:
            cursor.execute(
                CLUSTER_SQL, {"radius": float(category.duplicate_radius_m), "category": category.pk}
            )
            rows = cursor.fetchall()
        clusters: dict[int, list] = {}
        for cluster, *member in rows:
            clusters.setdefault(cluster, []).append(member)
        window = timedelta(days=category.duplicate_window_days)
        for members in clusters.values():
            for group in _anchored_groups(members, window, float(category.duplicate_radius_m)):
                group.sort()
                found[group_signature(category.pk, group)] = (category.pk, group)
    signatures = list(found)
    known = set()
    for start in range(0, len(signatures), SIGNATURES_PER_QUERY):
        chunk = signatures[start : start + SIGNATURES_PER_QUERY]
        known.update(DuplicateGroup.objects.filter(signature__in=chunk).values_list("signature", flat=True))
    new = DuplicateGroup.objects.bulk_create(
        [
            DuplicateGroup(signature=signature, category_id=category_id)
            for signature, (category_id, _) in found.items()
            if signature not in known
        ],
        batch_size=1000,
    )
    Member = DuplicateGroup.members.through
    Member.objects.bulk_create(
        [
            Member(duplicategroup_id=group.pk, signalement_id=pk)
            for group in new
            for pk in found[group.signature][1]
        ],
        batch_size=5000,
    )
    return len(new)


def _notify_merged(duplicate: Signalement, change: StatusChange, followers: list[tuple]) -> None:
    """Queue one e-mail per person following the duplicate with a confirmed address, telling them
    it was merged; the unique (status change, recipient) row makes it one e-mail whatever the
    retries."""
    recipients: dict[str, str] = {}
    for email, language, wants_updates, confirmed_at in followers:
        if wants_updates and confirmed_at is not None:
            recipients.setdefault(email.lower(), language)
    notifications_queue(
        signalement=duplicate,
        kind=Notification.Kind.MERGED,
        recipients=recipients.items(),
        status_change=change,
    )


@retried_on_deadlock
@transaction.atomic
def signalements_merge(*, master: Signalement, duplicates: list[Signalement], author=None) -> None:
    """Point the duplicates to the master: their reporter and followers follow the master and are
    told so by e-mail, the support counts add up, each side's history says so."""
    require(author, Capability.MERGE)
    master = Signalement.objects.select_for_update().get(pk=master.pk)
    if not master.is_open:
        raise ValidationError({"master": _("Le signalement principal doit être ouvert.")})
    added = 0
    for duplicate in Signalement.objects.select_for_update().filter(pk__in=[d.pk for d in duplicates]):
        if duplicate.pk == master.pk or duplicate.duplicate_of_id is not None or not duplicate.is_open:
            raise ValidationError(
                {"duplicates": _("%(ref)s ne peut pas être fusionné.") % {"ref": duplicate.reference}}
            )
        # Confirmed or not, an address stays so on the master (trust.optin).
        followers = [
            (s.email, s.language, s.wants_updates, s.email_confirmed_at)
            for s in duplicate.supports.exclude(email="")
        ]
        reporter = getattr(duplicate, "reporter", None)
        if reporter is not None and reporter.email and reporter.wants_updates:
            followers.append((reporter.email, reporter.language, True, reporter.email_confirmed_at))
        Support.objects.bulk_create(
            [
                Support(
                    signalement=master,
                    email=email,
                    language=language,
                    wants_updates=wants_updates,
                    email_confirmed_at=confirmed_at,
                    merged_from=duplicate,
                    supporter_key=f"merged:{duplicate.pk}:{index}",
                )
                for index, (email, language, wants_updates, confirmed_at) in enumerate(followers)
            ]
        )
        count = 1 + duplicate.support_count
        added += count
        change = status_record(
            signalement=duplicate,
            to_status=Status.DUPLICATE,
            event=Event.MERGE,
            author=author,
            text=_("Même problème que %(ref)s : suivez-le à sa place.") % {"ref": master.reference},
            duplicate_of=master,
        )
        _notify_merged(duplicate, change, followers)
        history_note(
            signalement=master,
            author=author,
            text=_("%(ref)s fusionné ici (%(n)d soutien(s) ajouté(s)).")
            % {"ref": duplicate.reference, "n": count},
        )
    Signalement.objects.filter(pk=master.pk).update(support_count=F("support_count") + added)
    DuplicateGroup.objects.filter(members=master, state=DuplicateGroup.State.PROPOSED).update(
        state=DuplicateGroup.State.MERGED
    )


@retried_on_deadlock
@transaction.atomic
def signalement_unmerge(*, duplicate: Signalement, author=None) -> None:
    """Undo a merge: the report gets its status back, its followers leave the master."""
    require(author, Capability.MERGE)
    duplicate = Signalement.objects.select_for_update().get(pk=duplicate.pk)
    if duplicate.duplicate_of_id is None:
        raise ValidationError({"duplicate": _("Ce signalement n'est pas un doublon.")})
    master = Signalement.objects.select_for_update().get(pk=duplicate.duplicate_of_id)
    before = duplicate.history.filter(to_status=Status.DUPLICATE).order_by("-created_at", "-id").first()
    previous = before.from_status if before and before.from_status else Status.NEW
    removed = min(1 + duplicate.support_count, master.support_count)  # what the merge added
    merge_notices = Notification.objects.filter(
        signalement=duplicate, kind=Notification.Kind.MERGED, status_change=before
    )
    # Not sent yet: never say it. A sender holding a row's lock finishes first; the row is then sent.
    merge_notices.filter(sent_at__isnull=True).delete()
    told = list(merge_notices.values_list("recipient", "language"))
    Support.objects.filter(signalement=master, merged_from=duplicate).delete()
    Signalement.objects.filter(pk=master.pk).update(support_count=F("support_count") - removed)
    change = status_record(
        signalement=duplicate,
        to_status=previous,
        event=Event.UNMERGE,
        author=author,
        text=_("Ce n'est finalement pas un doublon de %(ref)s.") % {"ref": master.reference},
        duplicate_of=None,
    )
    # Those already told of the merge learn that it was undone; nobody else hears of either.
    notifications_queue(
        signalement=duplicate, kind=Notification.Kind.UNMERGED, recipients=told, status_change=change
    )
    history_note(
        signalement=master, author=author, text=_("Fusion de %(ref)s annulée.") % {"ref": duplicate.reference}
    )
