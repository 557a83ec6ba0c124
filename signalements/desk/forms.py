from functools import cached_property

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cartography.models import District, Team

from ..forms import Form
from ..models import (
    OPEN_STATUSES,
    STAFF_CHANNELS,
    Category,
    Channel,
    Priority,
    ResponseTemplate,
    Signalement,
    Status,
)
from ..selectors import search_is_email, signalements_queue, signalements_search
from ..trust.moderation import Action, Target
from ..trust.policy import Capability, can

STAFF_CHANNEL_CHOICES = [(c.value, c.label) for c in STAFF_CHANNELS]


def _no_email_search(value: str) -> None:
    if search_is_email(value):
        raise ValidationError(
            _(
                "Votre rôle ne voit pas les coordonnées des citoyens : "
                "cherchez par référence, adresse ou description."
            ),
            code="email_search",
        )


class QueueFilter(django_filters.FilterSet):
    """The desk's queue and its filters. Open reports only, unless the filters ask for a closed
    status or a search, which look through every report the user may read: the filter chooses its
    queryset (signalements_queue) and ignores one given to it, as DRF's filter backend does."""

    related: tuple[str, ...] = ()

    q = django_filters.CharFilter(
        label=_("Rechercher"),
        method="filter_search",
        max_length=200,
        help_text=_("Référence, adresse, mots de la description ou e-mail du citoyen."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    category = django_filters.ModelChoiceFilter(queryset=Category.objects.all(), label=_("Catégorie"))
    district = django_filters.ModelChoiceFilter(
        queryset=District.objects.filter(layer="districts"), label=_("Quartier")
    )
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("Équipe"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Canal"))
    status = django_filters.ChoiceFilter(choices=Status.choices, label=_("Statut"))
    priority = django_filters.ChoiceFilter(choices=Priority.choices, label=_("Priorité"))
    overdue = django_filters.BooleanFilter(
        label=_("En retard"), method="filter_overdue", widget=forms.CheckboxInput
    )
    deadline_before = django_filters.DateFilter(
        field_name="deadline_at",
        lookup_expr="date__lte",
        label=_("Échéance au plus tard le"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, data=None, queryset=None, *, request=None, user=None, **kwargs):
        self.user = user if user is not None else request.user
        self.with_contacts = can(self.user, Capability.VIEW_CONTACT)
        super().__init__(data, queryset=Signalement.objects.none(), request=request, **kwargs)
        if not self.with_contacts:
            search = self.form.fields["q"]
            search.help_text = _("Référence, adresse ou mots de la description.")
            search.validators.append(_no_email_search)

    @cached_property
    def every_status(self) -> bool:
        """Whether the valid filters reach past the open reports."""
        if not self.is_bound:
            return False
        self.errors  # noqa: B018 - validates the form, so that cleaned_data holds the valid fields
        chosen = self.form.cleaned_data
        status = chosen.get("status")
        return bool(chosen.get("q")) or bool(status and status not in OPEN_STATUSES)

    @property
    def qs(self):
        if not hasattr(self, "_qs"):
            queue = signalements_queue(self.user, every_status=self.every_status)
            self.queryset = queue.select_related(*self.related) if self.related else queue
        return super().qs

    def filter_search(self, queryset, name, value):
        if not value.strip():
            return queryset
        return signalements_search(queryset, text=value, with_contacts=self.with_contacts)

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue=True) if value else queryset


class BulkForm(Form):
    ACTIONS = [("acknowledge", _("Marquer « pris en compte »")), ("assign", _("Confier à l'équipe"))]
    action = forms.ChoiceField(label=_("Action groupée"), choices=ACTIONS)
    team = forms.ModelChoiceField(
        label=_("Équipe"), queryset=Team.objects.filter(is_active=True), required=False
    )
    selected = forms.MultipleChoiceField(
        required=True,
        widget=forms.MultipleHiddenInput,
        error_messages={"required": _("Cochez au moins un signalement.")},
    )

    def __init__(self, *args, references=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["selected"].choices = [(r, r) for r in references]

    def clean(self):
        data = super().clean()
        if data.get("action") == "assign" and not data.get("team"):
            self.add_error("team", _("Choisissez l'équipe."))
        return data


class TransitionForm(Form):
    # The status the agent saw: a report moved since by someone else is a conflict, not a silent overwrite.
    from_status = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput, required=False)
    to_status = forms.ChoiceField(label=_("Nouveau statut"))
    text = forms.CharField(
        label=_("Message au citoyen (facultatif)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, allowed=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [(s, Status(s).label) for s in allowed]


class MessageForm(Form):
    text = forms.CharField(label=_("Texte"), widget=forms.Textarea(attrs={"rows": 4}))
    internal = forms.BooleanField(label=_("Note interne (jamais montrée au citoyen)"), required=False)


class TriageForm(Form):
    category = forms.ModelChoiceField(label=_("Catégorie"), queryset=Category.objects.filter(is_active=True))
    priority = forms.ChoiceField(label=_("Priorité"), choices=Priority.choices)
    team = forms.ModelChoiceField(
        label=_("Équipe"), queryset=Team.objects.filter(is_active=True), required=False
    )


class RegisterForm(Form):
    channel = forms.ChoiceField(label=_("Reçu par"), choices=STAFF_CHANNEL_CHOICES)
    category = forms.ModelChoiceField(label=_("Catégorie"), queryset=Category.objects.filter(is_active=True))
    lon = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    address = forms.CharField(
        label=_("Adresse"),
        max_length=300,
        required=False,
        help_text=_("Placez le point sur la carte, ou tapez l'adresse puis « Chercher »."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    contact_name = forms.CharField(label=_("Nom du citoyen"), max_length=200, required=False)
    contact_email = forms.EmailField(label=_("E-mail du citoyen"), required=False)
    contact_phone = forms.RegexField(
        label=_("Téléphone du citoyen"), regex=r"^\+?[0-9 ./()-]{6,25}$", required=False
    )


class TemplatePickForm(Form):
    """Choose a ready-made reply: without JavaScript the page comes back with it in the reply box."""

    template = forms.ModelChoiceField(
        label=_("Modèle de réponse"),
        queryset=ResponseTemplate.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Ce modèle ne s'applique pas à ce signalement.")},
    )

    def __init__(self, *args, templates=None, **kwargs):
        kwargs.setdefault("auto_id", "pick_%s")
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates


class ModerationForm(Form):
    """One moderation action on a report's description, public message or photo."""

    target = forms.ChoiceField(choices=Target.CHOICES, widget=forms.HiddenInput)
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    action = forms.ChoiceField(label=_("Action"), choices=Action.CHOICES)
    text = forms.CharField(
        label=_("Version publique"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Pour « Modifier la version publique » : le texte que le public verra."),
    )
