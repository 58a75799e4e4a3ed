"""Web forms (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from .. import labels
from ..models import AgeBand, PlaceType

LEVEL_CHOICES = [
    ("team", lazy_gettext("Only the team running this project can see it")),
    ("report", lazy_gettext("It can be used in reports, without my name")),
    ("exhibit", lazy_gettext("It can be shown in public exhibitions too")),
]


class SignInForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(message="Enter your email address")])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password")])


AVATAR_LABELS = {
    "fox": lazy_gettext("Fox"), "owl": lazy_gettext("Owl"), "star": lazy_gettext("Star"), "rocket": lazy_gettext("Rocket"),
    "cat": lazy_gettext("Cat"), "tree": lazy_gettext("Tree"), "sun": lazy_gettext("Sun"), "fish": lazy_gettext("Fish"),
}
AGE_BAND_LABELS = {band.value: label for band, label in labels.AGE_BAND.items()}


class ParticipantDetailsForm(FlaskForm):
    """Who someone is in a session: a made-up nickname, a picture and an age group, never a real name."""

    alias = StringField(
        lazy_gettext("Choose a nickname"),
        validators=[DataRequired(message=lazy_gettext("Choose a nickname")), Length(max=40, message=lazy_gettext("Use 40 letters or fewer"))],
    )
    avatar = RadioField(
        lazy_gettext("Pick a picture"), choices=list(AVATAR_LABELS.items()),
        validators=[DataRequired(message=lazy_gettext("Pick a picture"))],
    )
    age_band = RadioField(
        lazy_gettext("How old are you?"),
        choices=list(AGE_BAND_LABELS.items()),
        validators=[DataRequired(message=lazy_gettext("Tell us your age group"))],
    )


class JoinForm(ParticipantDetailsForm):
    code = StringField(
        lazy_gettext("Session code"),
        validators=[DataRequired(message=lazy_gettext("Enter the code for your session")), Length(max=16)],
    )


PIN_VALIDATORS = [
    DataRequired(message=lazy_gettext("Enter your PIN")),
    Regexp(r"^\d{4,6}$", message=lazy_gettext("A PIN is 4 to 6 numbers")),
]


class PinForm(FlaskForm):
    pin = PasswordField(lazy_gettext("Choose a PIN of 4 to 6 numbers"), validators=PIN_VALIDATORS)


class ComeBackForm(FlaskForm):
    code = StringField(lazy_gettext("Session code"), validators=[DataRequired(message=lazy_gettext("Enter the code for your session")), Length(max=16)])
    alias = StringField(lazy_gettext("Your nickname"), validators=[DataRequired(message=lazy_gettext("Enter your nickname")), Length(max=40)])
    pin = PasswordField(lazy_gettext("Your PIN"), validators=PIN_VALIDATORS)


class ConsentForm(FlaskForm):
    level = RadioField(
        lazy_gettext("Who can see what you share?"), choices=LEVEL_CHOICES, validators=[DataRequired(message=lazy_gettext("Choose one"))]
    )
    credit = BooleanField(lazy_gettext("Show my nickname next to my things"))
    face = BooleanField(lazy_gettext("My face can be shown"))
    voice = BooleanField(lazy_gettext("My voice can be played"))


class ParentConsentForm(ConsentForm):
    """A parent or carer's consent for a child under 13, on the child's device or through their own link."""

    level = RadioField(
        lazy_gettext("Who can see what your child shares?"),
        choices=[
            ("team", lazy_gettext("Only the team running this project")),
            ("report", lazy_gettext("It can be used in reports, without a name")),
            ("exhibit", lazy_gettext("It can be shown in public exhibitions too")),
        ],
        validators=[DataRequired(message=lazy_gettext("Choose one"))],
    )
    credit = BooleanField(lazy_gettext("My child's nickname can be shown next to their things"))
    face = BooleanField(lazy_gettext("My child's face can be shown"))
    voice = BooleanField(lazy_gettext("My child's voice can be played"))
    is_parent = BooleanField(
        lazy_gettext("I am this child's parent or carer"),
        validators=[DataRequired(message=lazy_gettext("Only a parent or carer can answer here. Tick the box if that is you."))],
    )
    witness = StringField(
        lazy_gettext("Facilitator with you (optional)"),
        validators=[Optional(), Length(max=200, message=lazy_gettext("Use 200 letters or fewer"))],
    )


class FacilitatorParticipantForm(ParticipantDetailsForm):
    """A participant who is present, added by the facilitator on their tablet."""

    alias = StringField(
        lazy_gettext("Nickname"),
        validators=[DataRequired(message=lazy_gettext("Enter a nickname")), Length(max=40, message=lazy_gettext("Use 40 letters or fewer"))],
    )
    avatar = RadioField(
        lazy_gettext("Picture"), choices=list(AVATAR_LABELS.items()), validators=[DataRequired(message=lazy_gettext("Pick a picture"))]
    )
    age_band = RadioField(
        lazy_gettext("Age group"),
        choices=list(AGE_BAND_LABELS.items()),
        validators=[DataRequired(message=lazy_gettext("Choose their age group"))],
    )


class VerbalConsentForm(ConsentForm):
    """Consent said aloud to a facilitator, with someone else there to witness it."""

    level = RadioField(
        lazy_gettext("What did they agree to?"), choices=LEVEL_CHOICES, validators=[DataRequired(message=lazy_gettext("Choose one"))]
    )
    credit = BooleanField(lazy_gettext("Their nickname can be shown next to their things"))
    face = BooleanField(lazy_gettext("Their face can be shown"))
    voice = BooleanField(lazy_gettext("Their voice can be played"))
    given_by = RadioField(
        lazy_gettext("Who said it?"),
        choices=[
            ("participant", lazy_gettext("The participant themself")),
            ("parent", lazy_gettext("Their parent or carer, with the child agreeing")),
        ],
        default="participant",
        validators=[DataRequired(message=lazy_gettext("Say who gave consent"))],
    )
    witness = StringField(
        lazy_gettext("Witness"),
        validators=[
            DataRequired(message=lazy_gettext("Enter the name or role of the person who heard it with you")),
            Length(max=200, message=lazy_gettext("Use 200 letters or fewer")),
        ],
    )


class ConfirmForm(FlaskForm):
    """A button-only form: its CSRF token is the point."""


class SessionForm(FlaskForm):
    name = StringField("Session name", validators=[DataRequired(message="Enter a session name"), Length(max=200)])
    place_type = SelectField("Where", choices=[(p.value, p.value.replace("_", " ").title()) for p in PlaceType])
    area_code = StringField("Area or ward code", validators=[DataRequired(message="Enter an area code"), Length(max=32)])
    age_band = SelectField(
        "Age group", choices=[("", "Mixed ages")] + [(b.value, b.label) for b in AgeBand], validators=[Optional()]
    )


# The share pages' pickers: the keys are archive.sharing's THEME_PICKS and PLACE_PICKS.
THEME_PICK_LABELS = {
    "home": lazy_gettext("Home"), "food": lazy_gettext("Food"), "school": lazy_gettext("School"), "getting_around": lazy_gettext("Getting around"),
    "money": lazy_gettext("Money"), "family": lazy_gettext("Family"), "friends": lazy_gettext("Friends"), "places_to_play": lazy_gettext("Places to play"),
    "feeling_safe": lazy_gettext("Feeling safe"), "health": lazy_gettext("Health"), "feelings": lazy_gettext("Feelings"),
}
PLACE_LABELS = {
    "home": lazy_gettext("Home"), "school": lazy_gettext("School"), "street": lazy_gettext("Street"), "park": lazy_gettext("Park"),
    "shop": lazy_gettext("Shop"), "bus": lazy_gettext("Bus"), "online": lazy_gettext("Online"),
}


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ShareForm(FlaskForm):
    """One form for every kind of sharing; the view decides which fields a kind shows.

    Picks are checked against what the programme offers by archive.sharing, and the text by
    the upload acceptor, so a tampered form gets the same kind message as everyone else.
    """

    upload_id = HiddenField()
    media = FileField(lazy_gettext("Choose a file"))
    voice_note = FileField(lazy_gettext("Or tell its story out loud with a voice note"))
    title = StringField(lazy_gettext("Give it a name"), validators=[
        Optional(), Length(max=200, message=lazy_gettext("Please keep the name under 200 letters."))])
    story = TextAreaField(lazy_gettext("Tell us about it"), validators=[Optional()])
    place = RadioField(lazy_gettext("Where did it happen?"), choices=list(PLACE_LABELS.items()), validators=[Optional()],
                       validate_choice=False)
    themes = CheckboxesField(lazy_gettext("What is it about?"), validators=[Optional()], validate_choice=False)
