from django import forms
from django.utils.translation import gettext_lazy as _

from ..forms import Form
from ..models import Category


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class LocationForm(Form):
    lon = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    address = forms.CharField(
        label=_("Adresse ou nom du lieu"),
        required=False,
        max_length=300,
        help_text=_("Par exemple : « 12 rue Féronstrée » ou « place Saint-Lambert »."),
    )
    place_choice = forms.ChoiceField(label=_("Lieux trouvés"), required=False, widget=forms.RadioSelect)
    district = forms.TypedChoiceField(label=_("Quartier"), required=False, coerce=int, empty_value=None)
    place_description = forms.CharField(
        label=_("Décrivez le lieu"),
        required=False,
        max_length=300,
        help_text=_("Par exemple : « devant l'école, côté parc »."),
    )
    photo = forms.FileField(
        label=_("Partir d'une photo (facultatif)"),
        required=False,
        help_text=_("Si la photo contient sa position, nous l'utilisons pour placer le point."),
    )

    def __init__(self, *args, place_choices=(), districts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place_choice"].choices = list(place_choices)
        self.fields["district"].choices = [("", _("— choisir —")), *districts]


class ProblemForm(Form):
    category = forms.ModelChoiceField(
        label=_("Catégorie"),
        queryset=Category.objects.filter(is_active=True),
        to_field_name="slug",
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez une catégorie."),
            "invalid_choice": _("Choisissez une catégorie de la liste."),
        },
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Ce que vous voyez, depuis quand, le danger éventuel."),
    )
    photos = MultipleFileField(
        label=_("Photos (jusqu'à 3)"),
        required=False,
        help_text=_("JPEG, PNG ou WebP ; leur position et leurs données sont effacées."),
    )
    remove_photos = forms.MultipleChoiceField(
        label=_("Retirer"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, draft_photos=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["remove_photos"].choices = [(name, name) for name in draft_photos]


class ContactForm(Form):
    contact_name = forms.CharField(label=_("Nom"), required=False, max_length=200)
    show_name = forms.BooleanField(label=_("Mon nom peut être affiché publiquement"), required=False)
    contact_email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("Pour recevoir le lien de suivi et les nouvelles de votre signalement."),
    )
    contact_phone = forms.RegexField(
        label=_("Téléphone"),
        required=False,
        regex=r"^\+?[0-9 ./()-]{6,25}$",
        error_messages={"invalid": _("Numéro de téléphone invalide.")},
        help_text=_("Seulement si l'équipe doit pouvoir vous rappeler."),
    )
    wants_updates = forms.BooleanField(
        label=_("M'écrire quand le statut change"), required=False, initial=True
    )


class SupportForm(Form):
    email = forms.EmailField(
        label=_("E-mail (facultatif)"),
        required=False,
        help_text=_("Pour être prévenu quand ce problème avance."),
    )


class CommentForm(Form):
    text = forms.CharField(
        label=_("Votre message"), max_length=3000, widget=forms.Textarea(attrs={"rows": 3})
    )


class PhotoForm(Form):
    photo = forms.FileField(label=_("Ajouter une photo"))


class SatisfactionForm(Form):
    solved = forms.TypedChoiceField(
        label=_("Le problème est-il réglé ?"),
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        choices=[("yes", _("Oui")), ("no", _("Non"))],
    )
    rating = forms.TypedChoiceField(
        label=_("Votre satisfaction, de 1 (pas du tout) à 5 (tout à fait)"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=[(i, str(i)) for i in range(1, 6)],
    )
    text = forms.CharField(
        label=_("Un commentaire ?"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
