"""Citizen pages: report in steps (map or keyboard only), back a report, follow one's report."""

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.gis.db.models.functions import PointOnSurface
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import F, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views import View

from cartography.geocoding import get_geocoder
from cartography.models import District, Territory
from cartography.selectors import locate

from ..desk.services import comment_add
from ..intake.services import (
    ReporterData,
    photo_add,
    reporter_updates_set,
    satisfaction_record,
    signalement_submit,
    signalement_support,
)
from ..models import Category, CategoryGroup, Channel, Status
from ..photos import photo_clean
from ..selectors import nearby_open_signalements, signalements_public, tracking_view
from ..trust.moderation import comments_public, history_public
from ..trust.optin import ConfirmationExpired, ConfirmationInvalid, confirmation_read, email_confirm
from ..trust.supporters import supporter_key
from ..trust.throttles import page_throttle
from .draft import Draft
from .forms import (
    CommentForm,
    ContactForm,
    LocationForm,
    PhotoForm,
    ProblemForm,
    SatisfactionForm,
    SupportForm,
)

STEPS = [
    ("report-location", gettext_lazy("Lieu")),
    ("report-problem", gettext_lazy("Problème")),
    ("report-similar", gettext_lazy("Déjà signalé ?")),
    ("report-contact", gettext_lazy("Vos coordonnées")),
    ("report-review", gettext_lazy("Vérifier et envoyer")),
]


def _errors_of(exc: ValidationError) -> list[str]:
    return (
        [m for messages_ in exc.message_dict.values() for m in messages_]
        if hasattr(exc, "error_dict")
        else exc.messages
    )


class StepView(View):
    step: str
    template_name: str
    needs: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        self.draft = Draft(request.session)
        if "location" in self.needs and self.draft.location is None:
            return redirect("report-location")
        if "category" in self.needs and not self.draft.get("category"):
            return redirect("report-problem")
        response = super().dispatch(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    def render_step(self, request, **context):
        names = [name for name, _ in STEPS]
        context |= {
            "steps": STEPS,
            "current": self.step,
            "step_number": names.index(self.step) + 1,
            "step_count": len(STEPS),
            "draft": self.draft,
            "territories": Territory.objects.all(),
            "tile_url": settings.LEAFLET_CONFIG["TILES"][0][1],
        }
        return render(request, self.template_name, context)


def _district_choices() -> list[tuple[int, str]]:
    districts = (
        District.objects.filter(layer=F("territory__locating_layer"))
        .select_related("territory")
        .only("name", "territory__name")  # not their outlines
    )
    several = Territory.objects.count() > 1
    return [
        (d.pk, f"{d.name} ({d.territory.name})" if several else d.name)
        for d in districts.order_by("territory__name", "name")
    ]


class LocationStep(StepView):
    step = "report-location"
    template_name = "signalements/report/location.html"

    def get(self, request):
        form = LocationForm(
            initial={
                k: self.draft.get(k) for k in ("lon", "lat", "address", "district", "place_description")
            },
            districts=_district_choices(),
        )
        return self.render_step(request, form=form)

    @method_decorator(page_throttle("geocode", when=lambda request: request.POST.get("action") == "search"))
    def post(self, request):
        action = request.POST.get("action", "continue")
        results = []
        if action == "search" and request.POST.get("address", "").strip():
            results = get_geocoder().search(request.POST["address"])
        form = LocationForm(
            request.POST,
            request.FILES,
            districts=_district_choices(),
            place_choices=[(f"{r.lon:.7f},{r.lat:.7f}", r.label) for r in results]
            or self._kept_choices(request),
        )
        if not form.is_valid():
            # What was typed comes back in the form; what was attached is kept in the draft.
            upload = form.cleaned_data.get("photo")
            if upload:
                self._photo_keep(form, upload)
            return self.render_step(request, form=form)
        data = form.cleaned_data
        self.draft.update(
            address=data["address"], place_description=data["place_description"], district=data["district"]
        )
        if data["photo"]:
            photo = self._photo_keep(form, data["photo"])
            if photo is None:
                return self.render_step(request, form=form)
            if (
                data["lon"] is None
                and photo.gps
                and locate(lon=photo.gps[0], lat=photo.gps[1], category_id=None)
            ):
                self.draft.update(lon=photo.gps[0], lat=photo.gps[1], approximate=False)
                messages.info(
                    request,
                    _(
                        "Le point est placé là où la photo a été prise : vérifiez-le sur la "
                        "carte, déplacez-le si besoin, puis continuez."
                    ),
                )
                return redirect("report-location")
        if action == "search":
            if not results:
                form.add_error(
                    "address",
                    _(
                        "Aucun lieu trouvé. Vérifiez l'orthographe, ou choisissez plus bas "
                        "le quartier et décrivez le lieu."
                    ),
                )
            return self.render_step(request, form=form, results=results)
        return self._continue(request, form, data)

    def _photo_keep(self, form, upload):
        try:
            photo = photo_clean(upload)
        except ValidationError as exc:
            form.add_error("photo", exc)
            return None
        if len(self.draft.photos) < settings.SIGNALEMENT_MAX_PHOTOS:
            self.draft.photo_add(photo)
        return photo

    def _kept_choices(self, request):
        value = request.POST.get("place_choice")
        return [(value, request.POST.get("place_label", value))] if value else []

    def _continue(self, request, form, data):
        approximate = False
        if data["place_choice"]:
            # The choice comes back from the page (see _kept_choices): it is only as good as the client.
            try:
                lon, lat = (float(v) for v in data["place_choice"].split(","))
            except ValueError:
                lon = lat = math.nan
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):  # NaN included
                form.add_error("place_choice", _("Choisissez un lieu de la liste."))
                return self.render_step(request, form=form)
            label = dict(form.fields["place_choice"].choices).get(data["place_choice"], "")
            data["address"] = data["address"] or label
        elif data["lon"] is not None and data["lat"] is not None:
            lon, lat = data["lon"], data["lat"]
        elif data["district"] and data["place_description"]:
            district = (
                District.objects.annotate(inner=PointOnSurface("geom")).filter(pk=data["district"]).first()
            )
            if district is None:
                form.add_error("district", _("Choisissez un quartier de la liste."))
                return self.render_step(request, form=form)
            lon, lat, approximate = district.inner.x, district.inner.y, True
        else:
            if data["district"] and not data["place_description"]:
                form.add_error("place_description", _("Décrivez le lieu pour que l'équipe le trouve."))
            else:
                form.add_error(
                    None,
                    _(
                        "Indiquez le lieu : touchez la carte, utilisez votre position, cherchez "
                        "une adresse, ou choisissez un quartier et décrivez le lieu."
                    ),
                )
            return self.render_step(request, form=form)
        located = locate(lon=lon, lat=lat, category_id=None)
        if located is None:
            form.add_error(None, _("Ce lieu est en dehors du territoire couvert par la ville."))
            return self.render_step(request, form=form)
        address = data["address"] or (get_geocoder().reverse(lon=lon, lat=lat) if not approximate else "")
        district = (
            District.objects.filter(pk=located.district_id).values_list("name", flat=True).first() or ""
        )
        self.draft.update(lon=lon, lat=lat, address=address, approximate=approximate, district_name=district)
        return redirect("report-problem")


class ProblemStep(StepView):
    step = "report-problem"
    template_name = "signalements/report/problem.html"
    needs = ("location",)

    def groups(self):
        active = Category.objects.filter(is_active=True).order_by("position", "slug")
        return (
            CategoryGroup.objects.filter(categories__is_active=True)
            .distinct()
            .prefetch_related(Prefetch("categories", queryset=active))
        )

    def get(self, request):
        form = ProblemForm(
            initial={
                "category": self.draft.get("category"),
                "description": self.draft.get("description", ""),
            },
            draft_photos=self.draft.photos,
        )
        return self.render_step(request, form=form, groups=self.groups())

    def post(self, request):
        form = ProblemForm(request.POST, request.FILES, draft_photos=self.draft.photos)
        valid = form.is_valid()
        data = form.cleaned_data
        # Photos are kept whatever else is wrong or missing: a file input cannot be filled again.
        for name in data.get("remove_photos", []):
            self.draft.photo_remove(name)
        room = settings.SIGNALEMENT_MAX_PHOTOS - len(self.draft.photos)
        for upload in data.get("photos", []):
            try:
                photo = photo_clean(upload)
            except ValidationError as exc:
                form.add_error("photos", f"{upload.name} : {' '.join(exc.messages)}")
                continue
            if room <= 0:
                form.add_error("photos", _("Trois photos au plus."))
                break
            self.draft.photo_add(photo)
            room -= 1
        self.draft.update(description=request.POST.get("description", "")[:5000])
        if request.POST.get("action") == "back":
            self.draft.update(category=request.POST.get("category") or self.draft.get("category"))
            return redirect("report-location")
        if not valid or form.errors:
            if "category" in data:
                self.draft.update(category=data["category"].slug)
            # Shown from the draft above the field; the remove boxes list them again.
            form.fields["remove_photos"].choices = [(name, name) for name in self.draft.photos]
            return self.render_step(request, form=form, groups=self.groups())
        self.draft.update(category=data["category"].slug, description=data["description"])
        return redirect("report-similar")


class SimilarStep(StepView):
    step = "report-similar"
    template_name = "signalements/report/similar.html"
    needs = ("location", "category")

    def get(self, request):
        category = get_object_or_404(Category, slug=self.draft.get("category"))
        candidates = nearby_open_signalements(category=category, location=self.draft.location)
        if not candidates:
            return redirect("report-problem" if request.GET.get("back") else "report-contact")
        return self.render_step(request, candidates=candidates, category=category, support_form=SupportForm())


class ContactStep(StepView):
    step = "report-contact"
    template_name = "signalements/report/contact.html"
    needs = ("location", "category")
    fields = ("contact_name", "show_name", "contact_email", "contact_phone", "wants_updates")

    def get(self, request):
        initial = {k: self.draft.get(k) for k in self.fields if self.draft.get(k) is not None}
        return self.render_step(request, form=ContactForm(initial={"wants_updates": True, **initial}))

    def post(self, request):
        form = ContactForm(request.POST)
        if request.POST.get("action") == "back":
            self.draft.update(
                **{k: request.POST.get(k, "") for k in ("contact_name", "contact_email", "contact_phone")},
                show_name="show_name" in request.POST,
                wants_updates="wants_updates" in request.POST,
            )
            return redirect(reverse("report-similar") + "?back=1")
        if not form.is_valid():
            return self.render_step(request, form=form)
        self.draft.update(**form.cleaned_data)
        return redirect("report-review")


class ReviewStep(StepView):
    step = "report-review"
    template_name = "signalements/report/review.html"
    needs = ("location", "category")

    def get(self, request):
        category = get_object_or_404(Category, slug=self.draft.get("category"))
        return self.render_step(request, category=category)

    @method_decorator(page_throttle("submit"))
    def post(self, request):
        category = get_object_or_404(Category, slug=self.draft.get("category"))
        try:
            signalement, _created = signalement_submit(
                category=category,
                location=self.draft.location,
                description=self.draft.get("description", ""),
                address=self.draft.get("address", ""),
                place_description=self.draft.get("place_description", "")
                if self.draft.get("approximate")
                else "",
                location_is_approximate=bool(self.draft.get("approximate")),
                channel=Channel.WEB,
                reporter=ReporterData(
                    name=self.draft.get("contact_name", ""),
                    email=self.draft.get("contact_email", ""),
                    phone=self.draft.get("contact_phone", ""),
                    show_name=bool(self.draft.get("show_name")),
                    wants_updates=bool(self.draft.get("wants_updates", True)),
                ),
                photos=self.draft.clean_photos(),
                idempotency_key=f"web-{self.draft.id}",
                author=request.user if request.user.is_authenticated else None,
                language=get_language() or "fr",
            )
        except ValidationError as exc:
            return self.render_step(request, category=category, errors=_errors_of(exc))
        request.session["submitted"] = {
            "reference": signalement.reference,
            "token": signalement.tracking_token,
            "email": self.draft.get("contact_email", ""),
        }
        self.draft.clear()
        return redirect("report-done")


def report_start(request):
    """The start of a report; from the public map's "report a problem here", with the point (lat,
    lon) placed in the draft, for the citizen to check on the location step. A point outside the
    territory is not kept (the step would refuse it): the citizen places it again."""
    try:
        lat, lon = float(request.GET["lat"]), float(request.GET["lon"])
    except (KeyError, ValueError):
        return redirect("report-location")
    if -90 <= lat <= 90 and -180 <= lon <= 180 and locate(lon=lon, lat=lat, category_id=None):
        Draft(request.session).update(lon=lon, lat=lat, approximate=False)
    return redirect("report-location")


def report_done(request):
    submitted = request.session.get("submitted")
    if not submitted:
        return redirect("home")
    tracking_url = request.build_absolute_uri(reverse("tracking", args=[submitted["token"]]))
    return render(
        request, "signalements/report/done.html", {"submitted": submitted, "tracking_url": tracking_url}
    )


def report_restart(request):
    Draft(request.session).clear()
    return redirect("report-location")


def draft_photo(request, index: int):
    photos = Draft(request.session).photos
    if not 0 <= index < len(photos):
        raise Http404
    return FileResponse(default_storage.open(photos[index], "rb"), content_type="image/jpeg")


class SupportView(View):
    """ "Me too": back an open report instead of filing a duplicate."""

    @method_decorator(page_throttle("support"))
    def post(self, request, reference: str):
        signalement = get_object_or_404(signalements_public(), reference=reference)
        form = SupportForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return redirect("report-similar")
        try:
            _support, created = signalement_support(
                signalement=signalement,
                supporter_key=supporter_key(request, reference),
                email=form.cleaned_data["email"],
                language=get_language() or "fr",
            )
        except ValidationError as exc:
            messages.error(request, " ".join(_errors_of(exc)))
            return redirect("report-similar")
        Draft(request.session).clear()
        signalement.refresh_from_db(fields=["support_count"])
        return render(
            request,
            "signalements/report/supported.html",
            {"signalement": signalement, "created": created, "email": form.cleaned_data["email"]},
        )


class TrackingView(View):
    """The reporter's private page, reached through the unguessable link."""

    template_name = "signalements/tracking.html"

    def get_view(self, token):
        view = tracking_view(token=token)
        if view is None:
            raise Http404
        return view

    @method_decorator(page_throttle("tracking", methods=("GET",)))
    def get(self, request, token: str, **forms):
        view = self.get_view(token)
        signalement = view.signalement
        reporter = getattr(signalement, "reporter", None)
        asks_satisfaction = signalement.status in (Status.RESOLVED, Status.CLOSED) and not hasattr(
            signalement, "satisfaction"
        )
        context = {
            "view": view,
            "signalement": signalement,
            "reporter": reporter,
            "comment_form": forms.get("comment_form") or CommentForm(),
            "photo_form": forms.get("photo_form") or PhotoForm(),
            "satisfaction_form": forms.get("satisfaction_form") or SatisfactionForm(),
            "asks_satisfaction": asks_satisfaction,
            "tile_url": settings.LEAFLET_CONFIG["TILES"][0][1],
        }
        response = render(request, self.template_name, context, status=400 if forms else 200)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "same-origin"  # the token must not leak to other sites
        return response

    @method_decorator(page_throttle("comment", when=lambda request: request.POST.get("action") == "comment"))
    @method_decorator(page_throttle("photo", when=lambda request: request.POST.get("action") == "photo"))
    @method_decorator(
        page_throttle("tracking", when=lambda request: request.POST.get("action") not in ("comment", "photo"))
    )
    def post(self, request, token: str):
        signalement = self.get_view(token).signalement
        action = request.POST.get("action")
        try:
            if action == "comment":
                form = CommentForm(request.POST)
                if not form.is_valid():
                    return self.get(request, token, comment_form=form)
                comment_add(signalement=signalement, text=form.cleaned_data["text"], from_citizen=True)
                messages.success(request, _("Votre message est ajouté."))
            elif action == "photo":
                form = PhotoForm(request.POST, request.FILES)
                if not form.is_valid():
                    return self.get(request, token, photo_form=form)
                try:
                    photo_add(
                        signalement=signalement,
                        photo=photo_clean(form.cleaned_data["photo"]),
                        from_citizen=True,
                    )
                except ValidationError as exc:
                    form.add_error("photo", exc.messages)
                    return self.get(request, token, photo_form=form)
                messages.success(request, _("Votre photo est ajoutée."))
            elif action in ("updates-on", "updates-off"):
                reporter_updates_set(signalement=signalement, wants_updates=action == "updates-on")
                messages.success(
                    request,
                    _("Vous recevrez les nouvelles par e-mail.")
                    if action == "updates-on"
                    else _("Vous ne recevrez plus d'e-mail pour ce signalement."),
                )
            elif action == "satisfaction":
                form = SatisfactionForm(request.POST)
                if not form.is_valid():
                    return self.get(request, token, satisfaction_form=form)
                satisfaction_record(signalement=signalement, **form.cleaned_data)
                messages.success(request, _("Merci pour votre réponse."))
        except ValidationError as exc:
            messages.error(request, " ".join(_errors_of(exc)))
        return redirect("tracking", token=token)


def public_signalement(request, reference: str):
    signalement = get_object_or_404(signalements_public(), reference=reference)
    return render(
        request,
        "signalements/public_detail.html",
        {
            "signalement": signalement,
            "history": history_public(signalement),
            "photos": signalement.photos.filter(is_public=True),
            "comments": comments_public(signalement).filter(from_citizen=False),
        },
    )


class EmailConfirmView(View):
    """The link of the confirmation e-mail. Following it shows a button: mail scanners that open
    every link must not confirm an address in its owner's place."""

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "same-origin"
        return response

    def failed(self, request, exc: ConfirmationInvalid):
        expired = isinstance(exc, ConfirmationExpired)
        return render(request, "signalements/confirm_failed.html", {"expired": expired}, status=400)

    def get(self, request, token: str):
        try:
            confirmation_read(token)
        except ConfirmationInvalid as exc:
            return self.failed(request, exc)
        return render(request, "signalements/confirm.html")

    def post(self, request, token: str):
        try:
            confirmed = email_confirm(token=token)
        except ConfirmationInvalid as exc:
            return self.failed(request, exc)
        if confirmed.is_reporter:
            messages.success(
                request, _("Adresse confirmée : vous recevrez les nouvelles de votre signalement.")
            )
            return redirect("tracking", token=confirmed.signalement.tracking_token)
        return render(request, "signalements/confirmed.html", {"signalement": confirmed.signalement})
