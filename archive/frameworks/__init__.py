"""Theme frameworks shipped as JSON data inside the package, and a small loader for them.

A framework is a named list of themes that voices can be tagged with: the wider
determinants of health from the Wigan brief, and the two Kirklees outcome frameworks.
The determinants file also carries a crosswalk from each theme to the outcomes it bears
on, so findings tagged by determinant can be reported against a council's outcomes.

The data is read through ``importlib.resources`` rather than from a path next to this
file, so it loads the same from a source checkout, an installed wheel or a zip.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

__all__ = [
    "ICONS",
    "POLARITIES",
    "SPEAKERS",
    "Example",
    "Framework",
    "FrameworkError",
    "Theme",
    "UnknownFramework",
    "UnknownTheme",
    "available_frameworks",
    "crosswalk",
    "load_framework",
    "with_custom_themes",
]

# The icon picker draws from this fixed set; a theme naming anything else would render blank.
ICONS = frozenset(
    {
        "home", "food", "school", "getting_around", "money", "family", "friends",
        "places_to_play", "feeling_safe", "health", "feelings", "work", "place",
    }
)
POLARITIES = frozenset({"barrier", "asset"})
# Who an example phrase is written as, so coverage of each age group can be checked.
SPEAKERS = frozenset({"child", "teenager", "parent"})

# 64 matches the theme columns in the database, so any valid code can be stored as a tag.
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TOP_KEYS = {"code", "name", "source", "version", "themes", "crosswalk"}
_THEME_REQUIRED = {"code", "label", "child_label", "icon", "description"}
_THEME_KEYS = _THEME_REQUIRED | {"examples"}
# A programme's own themes come from a form that asks for no icon and may leave the
# description blank, so those two are optional for custom themes only.
_CUSTOM_REQUIRED = {"code", "label", "child_label"}
_EXAMPLE_KEYS = {"text", "polarity", "speaker"}


class FrameworkError(ValueError):
    """Framework data is malformed; the message names the framework, theme and problem."""


class _LookupError(KeyError):
    # KeyError's str() is the repr of its argument, which wraps messages in quotes.
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnknownFramework(_LookupError):
    """No framework with that code is shipped."""


class UnknownTheme(_LookupError):
    """The framework has no theme with that code."""


@dataclass(frozen=True)
class Example:
    text: str
    polarity: str
    speaker: str | None = None


@dataclass(frozen=True)
class Theme:
    code: str
    label: str
    child_label: str
    # None only for a custom theme added without one; pickers show a fallback for it.
    icon: str | None
    description: str
    examples: tuple[Example, ...] = ()
    # Set for codes a programme added itself, so exports can tell them from the shared ones.
    custom: bool = False

    def examples_by_polarity(self, polarity: str) -> tuple[Example, ...]:
        return tuple(e for e in self.examples if e.polarity == polarity)


@dataclass(frozen=True)
class Framework:
    code: str
    name: str
    source: str
    version: str
    themes: tuple[Theme, ...]
    # theme code -> target framework code -> outcome codes; read-only so the cached
    # instance shared by every caller cannot be changed under them.
    links: Mapping[str, Mapping[str, tuple[str, ...]]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.themes)

    def theme(self, code: str) -> Theme:
        for candidate in self.themes:
            if candidate.code == code:
                return candidate
        raise UnknownTheme(
            f"framework {self.code!r} has no theme {code!r}; known themes: {', '.join(self.codes)}"
        )

    def crosswalk(self, theme_code: str) -> dict[str, list[str]]:
        """Outcome codes per framework that this theme bears on (a fresh, mutable copy)."""
        self.theme(theme_code)
        return {target: list(codes) for target, codes in self.links.get(theme_code, {}).items()}

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __iter__(self) -> Iterator[Theme]:
        return iter(self.themes)

    def __len__(self) -> int:
        return len(self.themes)


def available_frameworks() -> list[str]:
    """Codes of the frameworks shipped with the package, sorted."""
    return sorted(_shipped())


@cache
def _shipped() -> frozenset[str]:
    return frozenset(
        entry.name[: -len(".json")]
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".json") and entry.is_file()
    )


@cache
def load_framework(code: str) -> Framework:
    """Load, validate and cache the shipped framework with this code."""
    if code not in _shipped():
        raise UnknownFramework(
            f"no framework {code!r}; available: {', '.join(available_frameworks())}"
        )
    return _build(_raw(code))


def crosswalk(theme_code: str, framework: str = "determinants") -> dict[str, list[str]]:
    """Outcome codes, per outcome framework, that a theme bears on."""
    return load_framework(framework).crosswalk(theme_code)


def with_custom_themes(
    framework: Framework,
    extra_themes: Iterable[Theme | Mapping[str, Any]],
    crosswalk: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
) -> Framework:
    """A copy of `framework` with a programme's own themes appended.

    Extra themes are `Theme` objects or dicts shaped like the JSON themes, where `icon`,
    `description` and `examples` may be left out. `crosswalk` optionally links the new
    codes to outcomes, in the same shape as the data file.
    A code that is already in the framework is refused, because tags already stored
    under the shared code would silently change meaning.
    """
    extras = [_theme_to_raw(t) if isinstance(t, Theme) else dict(t) for t in extra_themes]
    existing = set(framework.codes)
    for extra in extras:
        code = extra.get("code")
        if isinstance(code, str) and code in existing:
            raise FrameworkError(
                f"custom theme {code!r} clashes with an existing theme in framework "
                f"{framework.code!r}; choose another code"
            )
    raw = _framework_to_raw(framework)
    raw["themes"].extend(extras)
    for theme_code, targets in (crosswalk or {}).items():
        if theme_code in existing:
            raise FrameworkError(
                f"crosswalk for {theme_code!r}: only the custom themes' links can be added here"
            )
        raw["crosswalk"][theme_code] = {fw: list(codes) for fw, codes in targets.items()}
    custom = {t.code for t in framework.themes if t.custom} | {
        e["code"] for e in extras if isinstance(e.get("code"), str)
    }
    return _build(raw, custom_codes=frozenset(custom))


def _raw(code: str) -> dict[str, Any]:
    name = f"{code}.json"
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FrameworkError(f"{name} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise FrameworkError(f"{name}: expected an object at the top level")
    if data.get("code") != code:
        raise FrameworkError(f"{name}: code is {data.get('code')!r}, expected {code!r}")
    return data


def _target_codes(framework_code: str) -> set[str]:
    # Read the target's raw theme codes rather than loading it, so two frameworks that
    # crosswalk to each other cannot recurse; the target validates itself when loaded.
    if framework_code not in _shipped():
        raise KeyError(framework_code)
    return {t.get("code") for t in _raw(framework_code).get("themes", []) if isinstance(t, dict)}


def _build(raw: Mapping[str, Any], custom_codes: frozenset[str] = frozenset()) -> Framework:
    where = f"framework {raw.get('code')!r}"
    _check_keys(raw, _TOP_KEYS, _TOP_KEYS, where)
    for key in ("code", "name", "source", "version"):
        _check_text(raw[key], f"{where}: {key}")
    if not _CODE.match(raw["code"]):
        raise FrameworkError(f"{where}: code must be snake_case")
    if not isinstance(raw["themes"], list) or not raw["themes"]:
        raise FrameworkError(f"{where}: themes must be a non-empty list")

    themes: list[Theme] = []
    seen_codes: set[str] = set()
    seen_examples: dict[str, str] = {}
    for index, item in enumerate(raw["themes"]):
        theme = _build_theme(item, f"{where}, theme {index + 1}", custom_codes)
        if theme.code in seen_codes:
            raise FrameworkError(f"{where}: theme code {theme.code!r} appears more than once")
        seen_codes.add(theme.code)
        for example in theme.examples:
            # The tagger learns from these phrases; one phrase under two themes would
            # pull both towards the same point and blur the line between them.
            key = " ".join(example.text.casefold().split())
            if key in seen_examples:
                raise FrameworkError(
                    f"{where}: example {example.text!r} appears under both "
                    f"{seen_examples[key]!r} and {theme.code!r}"
                )
            seen_examples[key] = theme.code
        themes.append(theme)

    links = _build_links(raw["crosswalk"], seen_codes, raw["code"], where)
    return Framework(
        code=raw["code"],
        name=raw["name"],
        source=raw["source"],
        version=raw["version"],
        themes=tuple(themes),
        links=links,
    )


def _build_theme(item: Any, where: str, custom_codes: frozenset[str]) -> Theme:
    if not isinstance(item, Mapping):
        raise FrameworkError(f"{where}: expected an object")
    code = item.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise FrameworkError(
            f"{where}: code {code!r} must be snake_case (lower-case letters, digits, _), "
            "at most 64 long"
        )
    where = f"{where} ({code!r})"
    custom = code in custom_codes
    required = _CUSTOM_REQUIRED if custom else _THEME_REQUIRED
    _check_keys(item, required, _THEME_KEYS, where)
    for key in required:
        _check_text(item[key], f"{where}: {key}")
    icon = item.get("icon")
    if not (icon is None and custom) and icon not in ICONS:
        raise FrameworkError(f"{where}: icon {icon!r} is not one of {', '.join(sorted(ICONS))}")
    description = item.get("description") or ""
    if not isinstance(description, str):
        raise FrameworkError(f"{where}: description must be a string")
    raw_examples = item.get("examples", [])
    if not isinstance(raw_examples, list):
        raise FrameworkError(f"{where}: examples must be a list")
    examples = []
    for number, ex in enumerate(raw_examples, start=1):
        ex_where = f"{where}, example {number}"
        if not isinstance(ex, Mapping):
            raise FrameworkError(f"{ex_where}: expected an object")
        _check_keys(ex, {"text", "polarity"}, _EXAMPLE_KEYS, ex_where)
        _check_text(ex["text"], f"{ex_where}: text")
        if ex["polarity"] not in POLARITIES:
            raise FrameworkError(
                f"{ex_where}: polarity {ex['polarity']!r} is not one of "
                f"{', '.join(sorted(POLARITIES))}"
            )
        speaker = ex.get("speaker")
        if speaker is not None and speaker not in SPEAKERS:
            raise FrameworkError(
                f"{ex_where}: speaker {speaker!r} is not one of {', '.join(sorted(SPEAKERS))}"
            )
        examples.append(Example(text=ex["text"].strip(), polarity=ex["polarity"], speaker=speaker))
    return Theme(
        code=code,
        label=item["label"].strip(),
        child_label=item["child_label"].strip(),
        icon=icon,
        description=description.strip(),
        examples=tuple(examples),
        custom=custom,
    )


def _build_links(
    raw_links: Any, theme_codes: set[str], own_code: str, where: str
) -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    if not isinstance(raw_links, Mapping):
        raise FrameworkError(f"{where}: crosswalk must be an object")
    links: dict[str, Mapping[str, tuple[str, ...]]] = {}
    for theme_code, targets in raw_links.items():
        cw_where = f"{where}: crosswalk for {theme_code!r}"
        if theme_code not in theme_codes:
            raise FrameworkError(f"{cw_where}: no such theme in this framework")
        if not isinstance(targets, Mapping):
            raise FrameworkError(f"{cw_where}: expected an object of framework -> codes")
        per_target: dict[str, tuple[str, ...]] = {}
        for target, codes in targets.items():
            if target == own_code:
                raise FrameworkError(f"{cw_where}: a framework cannot crosswalk to itself")
            try:
                known = _target_codes(target)
            except KeyError:
                raise FrameworkError(
                    f"{cw_where}: unknown framework {target!r}; "
                    f"available: {', '.join(available_frameworks())}"
                ) from None
            if isinstance(codes, str) or not isinstance(codes, Iterable):
                raise FrameworkError(f"{cw_where}: {target} must be a list of codes")
            codes = list(codes)
            missing = [c for c in codes if c not in known]
            if missing:
                raise FrameworkError(
                    f"{cw_where}: {target} has no outcome {', '.join(map(repr, missing))}"
                )
            if len(set(codes)) != len(codes):
                raise FrameworkError(f"{cw_where}: {target} lists a code more than once")
            per_target[target] = tuple(codes)
        links[theme_code] = MappingProxyType(per_target)
    return MappingProxyType(links)


def _check_keys(obj: Mapping[str, Any], required: set[str], allowed: set[str], where: str) -> None:
    missing = required - obj.keys()
    if missing:
        raise FrameworkError(f"{where}: missing {', '.join(sorted(missing))}")
    # Unknown keys are refused because a misspelt optional key would otherwise be ignored.
    extra = obj.keys() - allowed
    if extra:
        raise FrameworkError(f"{where}: unexpected {', '.join(sorted(extra))}")


def _check_text(value: Any, where: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise FrameworkError(f"{where} must be a non-empty string")


def _theme_to_raw(theme: Theme) -> dict[str, Any]:
    return {
        "code": theme.code,
        "label": theme.label,
        "child_label": theme.child_label,
        "icon": theme.icon,
        "description": theme.description,
        "examples": [
            {"text": e.text, "polarity": e.polarity}
            | ({"speaker": e.speaker} if e.speaker else {})
            for e in theme.examples
        ],
    }


def _framework_to_raw(framework: Framework) -> dict[str, Any]:
    return {
        "code": framework.code,
        "name": framework.name,
        "source": framework.source,
        "version": framework.version,
        "themes": [_theme_to_raw(t) for t in framework.themes],
        "crosswalk": {
            theme: {target: list(codes) for target, codes in targets.items()}
            for theme, targets in framework.links.items()
        },
    }
