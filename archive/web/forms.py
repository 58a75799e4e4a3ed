"""Web forms (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

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

from ..models import AgeBand, PlaceType
from ..programmes import AVATARS

LEVEL_CHOICES = [
    ("team", "Only the team running this project can see it"),
    ("report", "It can be used in reports, without my name"),
    ("exhibit", "It can be shown in public exhibitions too"),
]


class SignInForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(message="Enter your email address")])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password")])


class JoinForm(FlaskForm):
    code = StringField(
        "Session code",
        validators=[DataRequired(message="Enter the code for your session"), Length(max=16)],
    )
    alias = StringField(
        "Choose a nickname",
        validators=[DataRequired(message="Choose a nickname"), Length(max=40, message="Use 40 letters or fewer")],
    )
    avatar = RadioField(
        "Pick a picture", choices=[(a, a.title()) for a in AVATARS], validators=[DataRequired(message="Pick a picture")]
    )
    age_band = RadioField(
        "How old are you?",
        choices=[(b.value, b.label) for b in AgeBand],
        validators=[DataRequired(message="Tell us your age group")],
    )


PIN_VALIDATORS = [
    DataRequired(message="Enter your PIN"),
    Regexp(r"^\d{4,6}$", message="A PIN is 4 to 6 numbers"),
]


class PinForm(FlaskForm):
    pin = PasswordField("Choose a PIN of 4 to 6 numbers", validators=PIN_VALIDATORS)


class ComeBackForm(FlaskForm):
    code = StringField("Session code", validators=[DataRequired(message="Enter the code for your session"), Length(max=16)])
    alias = StringField("Your nickname", validators=[DataRequired(message="Enter your nickname"), Length(max=40)])
    pin = PasswordField("Your PIN", validators=PIN_VALIDATORS)


class ConsentForm(FlaskForm):
    level = RadioField(
        "Who can see what you share?", choices=LEVEL_CHOICES, validators=[DataRequired(message="Choose one")]
    )
    credit = BooleanField("Show my nickname next to my things")
    face = BooleanField("My face can be shown")
    voice = BooleanField("My voice can be played")


class ConfirmForm(FlaskForm):
    """A button-only form: its CSRF token is the point."""


class SessionForm(FlaskForm):
    name = StringField("Session name", validators=[DataRequired(message="Enter a session name"), Length(max=200)])
    place_type = SelectField("Where", choices=[(p.value, p.value.replace("_", " ").title()) for p in PlaceType])
    area_code = StringField("Area or ward code", validators=[DataRequired(message="Enter an area code"), Length(max=32)])
    age_band = SelectField(
        "Age group", choices=[("", "Mixed ages")] + [(b.value, b.label) for b in AgeBand], validators=[Optional()]
    )


PLACE_CHOICES = [("", "Choose a place")] + [
    (p, p.title()) for p in ("home", "school", "street", "park", "shop", "bus", "online")
]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ShareForm(FlaskForm):
    """One form for every kind of sharing; the view decides which fields a kind shows."""

    upload_id = HiddenField()
    media = FileField("Choose a file")
    title = StringField("Give it a name", validators=[Optional(), Length(max=200, message="Use 200 letters or fewer")])
    story = TextAreaField("Tell us about it", validators=[Optional()])
    place = SelectField("Where did it happen?", choices=PLACE_CHOICES, validators=[Optional()])
    themes = CheckboxesField("What is it about?", validators=[Optional()])
