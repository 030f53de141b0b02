"""The learner's own certificate: the name printed on it."""

import re

from django import forms
from django.core.exceptions import ValidationError

# What a name on a certificate may be: one line of printable text. Control characters (NUL, tabs,
# line breaks) and the invisible marks that reverse the direction of text (which could make the
# printed name read differently from what was typed) are refused, not silently dropped.
NAME_MAX_LENGTH = 120
FORBIDDEN_IN_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")


class CertificateNameForm(forms.Form):
    learner_name = forms.CharField(
        label="Name to print on the certificate",
        strip=True,
        error_messages={"required": "Type the name to print on the certificate."},
        help_text="As you want it to appear, for example your full name. Anyone with the link sees it.",
        widget=forms.TextInput(attrs={"autocomplete": "name", "maxlength": NAME_MAX_LENGTH}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # CharField refuses NUL characters on its own, in words of its own; clean_learner_name says
        # what to do, for NUL and every other control character alike.
        self.fields["learner_name"].validators = []

    def clean_learner_name(self):
        name = self.cleaned_data["learner_name"]
        if FORBIDDEN_IN_NAME.search(name):
            raise ValidationError(
                "The name contains a control character (such as a tab, a line break or an invisible mark) that "
                "cannot be printed: type the name again on one line."
            )
        if len(name) > NAME_MAX_LENGTH:
            raise ValidationError(
                f"A name on the certificate is at most {NAME_MAX_LENGTH} characters long (this one has "
                f"{len(name)}): shorten it."
            )
        return name
