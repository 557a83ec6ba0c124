"""What every form of the site shares, citizen's and staff's alike."""

from django import forms


class Form(forms.Form):
    """No colon after labels: screen readers read it aloud, and French wants a space before it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
