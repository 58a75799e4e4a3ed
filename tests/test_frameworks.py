"""The shipped theme frameworks: their content against the seed documents, and the loader."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest

import archive.frameworks as frameworks_module
from archive.frameworks import (
    ICONS,
    Example,
    Framework,
    FrameworkError,
    Theme,
    UnknownFramework,
    UnknownTheme,
    available_frameworks,
    crosswalk,
    load_framework,
    with_custom_themes,
)

DETERMINANT_CODES = {
    "money", "living_conditions", "family", "housing", "peers", "education",
    "employment", "place", "transport", "food", "physical_health", "mental_health",
}

# Copied from the Kirklees workshop write-up, so a reworded label fails here.
KIRKLEES_SEED = {
    "best_start": "Children have the best start in life",
    "well": "People in Kirklees are as well as possible for as long as possible",
    "aspire_achieve": "People in Kirklees have aspiration and achieve their ambition through "
    "education, training and lifelong learning",
    "safe_cohesive": "People in Kirklees live in cohesive communities, feel safe and are "
    "safe/protected from harm",
    "clean_green": "People in Kirklees experience a high quality, clean sustainable and green "
    "environment",
    "economic_growth": "Kirklees has sustainable economic growth and provides good employment "
    "for and with communities and businesses",
    "independent": "People in Kirklees live independently and have control over their lives",
}
CHILDRENS_PLAN_SEED = {
    "be_healthy": "Be healthy",
    "stay_safe": "Stay safe",
    "enjoy_achieve": "Enjoy and achieve",
    "positive_contribution": "Make a positive contribution",
    "economic_wellbeing": "Achieve economic well being",
}


@pytest.fixture
def determinants() -> Framework:
    return load_framework("determinants")


def _custom(code: str = "digital", **changes) -> dict:
    theme = {
        "code": code,
        "label": "Digital access",
        "child_label": "Phones and internet",
        "icon": "place",
        "description": "Whether children have a device and data to get online.",
        "examples": [
            {"text": "We've got no wifi so I do my homework on mum's phone", "polarity": "barrier"},
            {"text": "The library lends out laptops for free", "polarity": "asset"},
        ],
    }
    theme.update(changes)
    return theme


# --- content ----------------------------------------------------------------------------


def test_all_three_frameworks_are_shipped():
    assert available_frameworks() == ["childrens_plan", "determinants", "kirklees_outcomes"]


def test_determinants_has_the_twelve_wigan_themes(determinants):
    assert set(determinants.codes) == DETERMINANT_CODES
    assert len(determinants) == 12
    labels = {t.code: t.label for t in determinants}
    assert labels["physical_health"] == "Physical health"
    assert labels["mental_health"] == "Mental health"
    assert labels["money"] == "Money and resources"
    assert labels["place"] == "Location and place"
    assert labels["peers"] == "Peers and social groups"
    assert determinants.theme("transport").child_label == "Getting around"
    assert "Wigan" in determinants.source


def test_every_theme_has_the_fields_a_picker_needs():
    for fw_code in available_frameworks():
        for theme in load_framework(fw_code):
            assert theme.icon in ICONS, theme.code
            assert theme.label and theme.child_label and theme.description, theme.code
            assert theme.custom is False


def test_every_determinant_has_enough_examples_of_both_polarities_and_all_voices(determinants):
    for theme in determinants:
        assert len(theme.examples) >= 12, theme.code
        barriers = theme.examples_by_polarity("barrier")
        assets = theme.examples_by_polarity("asset")
        assert len(barriers) >= 3 and len(assets) >= 3, theme.code
        assert len(barriers) + len(assets) == len(theme.examples)
        # The tagger must recognise how each age group talks, not just one of them.
        assert {e.speaker for e in theme.examples} == {"child", "teenager", "parent"}, theme.code


def test_examples_are_not_repeated_across_themes(determinants):
    texts = [e.text.casefold() for t in determinants for e in t.examples]
    assert len(texts) == len(set(texts))


def test_kirklees_outcomes_use_the_seed_wording():
    fw = load_framework("kirklees_outcomes")
    assert fw.codes == tuple(KIRKLEES_SEED)
    assert {t.code: t.label for t in fw} == KIRKLEES_SEED
    assert "Kirklees" in fw.source


def test_childrens_plan_uses_the_seed_wording():
    fw = load_framework("childrens_plan")
    assert fw.codes == tuple(CHILDRENS_PLAN_SEED)
    assert {t.code: t.label for t in fw} == CHILDRENS_PLAN_SEED
    assert "Children's Plan" in fw.source


def test_every_determinant_is_crosswalked_to_both_outcome_frameworks(determinants):
    kirklees = set(load_framework("kirklees_outcomes").codes)
    plan = set(load_framework("childrens_plan").codes)
    reached_k, reached_p = set(), set()
    for theme in determinants:
        links = crosswalk(theme.code)
        assert set(links) == {"kirklees_outcomes", "childrens_plan"}, theme.code
        assert links["kirklees_outcomes"] and set(links["kirklees_outcomes"]) <= kirklees
        assert links["childrens_plan"] and set(links["childrens_plan"]) <= plan
        reached_k.update(links["kirklees_outcomes"])
        reached_p.update(links["childrens_plan"])
    # An outcome no theme feeds would always report nothing; that would be a data gap.
    assert reached_k == kirklees
    assert reached_p == plan


def test_crosswalk_spot_checks(determinants):
    assert crosswalk("money")["childrens_plan"] == ["economic_wellbeing"]
    assert "be_healthy" in crosswalk("mental_health")["childrens_plan"]
    assert "well" in crosswalk("physical_health")["kirklees_outcomes"]
    assert "clean_green" in determinants.crosswalk("place")["kirklees_outcomes"]


def test_crosswalk_returns_a_copy_that_cannot_change_the_cache():
    links = crosswalk("food")
    links["childrens_plan"].append("stay_safe")
    links.clear()
    assert "stay_safe" not in crosswalk("food")["childrens_plan"]
    assert crosswalk("food")


def test_outcome_frameworks_have_no_crosswalk_of_their_own():
    assert load_framework("childrens_plan").crosswalk("be_healthy") == {}


# --- loader -----------------------------------------------------------------------------


def test_loaded_objects_are_frozen_and_cached(determinants):
    assert load_framework("determinants") is determinants
    theme = determinants.theme("food")
    assert isinstance(theme, Theme) and isinstance(theme.examples[0], Example)
    with pytest.raises(dataclasses.FrozenInstanceError):
        theme.label = "Something else"
    with pytest.raises(TypeError):
        determinants.links["food"] = {}


def test_unknown_theme_is_a_keyerror_with_a_readable_message(determinants):
    with pytest.raises(UnknownTheme) as caught:
        determinants.theme("weather")
    assert isinstance(caught.value, KeyError)
    message = str(caught.value)
    assert message.startswith("framework 'determinants' has no theme 'weather'")
    assert "housing" in message and "transport" in message
    with pytest.raises(UnknownTheme):
        crosswalk("weather")


def test_unknown_framework_lists_what_is_available():
    with pytest.raises(UnknownFramework, match="available: childrens_plan, determinants"):
        load_framework("nope")
    with pytest.raises(KeyError):
        load_framework("../determinants")


def test_data_is_read_through_importlib_resources():
    package = resources.files("archive.frameworks")
    shipped = sorted(p.name for p in package.iterdir() if p.name.endswith(".json"))
    assert shipped == [f"{code}.json" for code in available_frameworks()]
    raw = json.loads(package.joinpath("determinants.json").read_text(encoding="utf-8"))
    assert set(raw) == {"code", "name", "source", "version", "themes", "crosswalk"}


def test_loader_works_from_a_zipped_install(tmp_path):
    # A zip has no real directory next to __init__.py, so this fails if the loader ever
    # falls back to building filesystem paths from __file__.
    source = Path(frameworks_module.__file__).parent
    bundle = tmp_path / "chorus.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr("archive/__init__.py", "")
        for item in source.iterdir():
            if item.suffix in {".py", ".json"}:
                zf.write(item, f"archive/frameworks/{item.name}")
    script = (
        "import archive.frameworks as f\n"
        "assert '.zip' in f.__spec__.origin, f.__spec__.origin\n"
        "print(f.available_frameworks())\n"
        "print(len(f.load_framework('determinants')), f.crosswalk('money')['childrens_plan'])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(bundle)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "['childrens_plan', 'determinants', 'kirklees_outcomes']",
        "12 ['economic_wellbeing']",
    ]


# --- custom themes ----------------------------------------------------------------------


def test_custom_theme_is_added_without_touching_the_shipped_framework(determinants):
    extended = with_custom_themes(
        determinants, [_custom()], crosswalk={"digital": {"childrens_plan": ["enjoy_achieve"]}}
    )
    assert extended.codes[-1] == "digital" and len(extended) == 13
    assert extended.theme("digital").custom is True
    assert extended.theme("money").custom is False
    assert extended.crosswalk("digital") == {"childrens_plan": ["enjoy_achieve"]}
    assert extended.crosswalk("money") == determinants.crosswalk("money")
    assert "digital" not in load_framework("determinants")


def test_custom_theme_can_be_given_as_a_theme_object(determinants):
    theme = Theme(
        code="young_carers", label="Young carers", child_label="Looking after someone",
        icon="family", description="Children who care for a parent or sibling.",
    )
    extended = with_custom_themes(determinants, [theme])
    assert extended.theme("young_carers").custom is True
    assert extended.crosswalk("young_carers") == {}
    # Custom themes stay marked when a second programme layer is added on top.
    again = with_custom_themes(extended, [_custom()])
    assert again.theme("young_carers").custom and again.theme("digital").custom


def test_custom_theme_shaped_like_the_database_row_is_accepted(determinants):
    # The custom_theme table stores no icon and may hold an empty description.
    row = {"code": "digital", "label": "Digital access", "child_label": "Phones and internet",
           "description": ""}
    theme = with_custom_themes(determinants, [row]).theme("digital")
    assert theme.icon is None and theme.description == "" and theme.examples == ()


def test_shipped_themes_still_need_an_icon_and_description():
    raw = _determinants_raw()
    del raw["themes"][0]["icon"]
    with pytest.raises(FrameworkError, match=r"theme 1 \('money'\): missing icon"):
        frameworks_module._build(raw)
    raw = _determinants_raw()
    raw["themes"][1]["description"] = " "
    with pytest.raises(FrameworkError, match="description must be a non-empty string"):
        frameworks_module._build(raw)


def test_custom_theme_clashing_with_a_shipped_code_is_refused(determinants):
    with pytest.raises(ValueError, match="'housing' clashes with an existing theme"):
        with_custom_themes(determinants, [_custom("housing")])


def test_two_custom_themes_with_one_code_are_refused(determinants):
    with pytest.raises(ValueError, match="'digital' appears more than once"):
        with_custom_themes(determinants, [_custom(), _custom()])


@pytest.mark.parametrize(
    ("changes", "crosswalk_links", "message"),
    [
        ({"examples": [{"text": "x y z", "polarity": "neutral"}]}, None,
         "polarity 'neutral' is not one of asset, barrier"),
        ({"icon": "rocket"}, None, "icon 'rocket' is not one of"),
        ({"code": "Digital Access"}, None, "code 'Digital Access' must be snake_case"),
        ({"code": "d" * 65}, None, "at most 64 long"),
        ({"child_label": ""}, None, "child_label must be a non-empty string"),
        ({"colour": "red"}, None, "unexpected colour"),
        ({"examples": [{"text": "There's no park near my house", "polarity": "barrier"}]}, None,
         "appears under both 'place' and 'digital'"),
        ({}, {"digital": {"childrens_plan": ["be_wealthy"]}}, "childrens_plan has no outcome 'be_wealthy'"),
        ({}, {"digital": {"nhs_plan": ["x"]}}, "unknown framework 'nhs_plan'"),
        ({}, {"money": {"childrens_plan": ["be_healthy"]}}, "only the custom themes' links"),
        ({}, {"digital": {"determinants": ["money"]}}, "cannot crosswalk to itself"),
    ],
)
def test_custom_themes_are_validated(determinants, changes, crosswalk_links, message):
    with pytest.raises(FrameworkError, match=message):
        with_custom_themes(determinants, [_custom(**changes)], crosswalk=crosswalk_links)


def test_frameworkerror_is_a_valueerror():
    assert issubclass(FrameworkError, ValueError)


# --- validation of shipped data ---------------------------------------------------------


def _determinants_raw() -> dict:
    text = resources.files("archive.frameworks").joinpath("determinants.json").read_text("utf-8")
    return json.loads(text)


def test_duplicate_theme_codes_in_data_are_refused():
    raw = _determinants_raw()
    raw["themes"].append(dict(raw["themes"][0], examples=[]))
    with pytest.raises(FrameworkError, match="theme code 'money' appears more than once"):
        frameworks_module._build(raw)


def test_crosswalk_to_a_missing_outcome_is_refused():
    raw = _determinants_raw()
    raw["crosswalk"]["money"]["kirklees_outcomes"].append("prosperous")
    with pytest.raises(FrameworkError, match="kirklees_outcomes has no outcome 'prosperous'"):
        frameworks_module._build(raw)


def test_crosswalk_from_a_missing_theme_is_refused():
    raw = _determinants_raw()
    raw["crosswalk"]["weather"] = {"childrens_plan": ["be_healthy"]}
    with pytest.raises(FrameworkError, match="crosswalk for 'weather': no such theme"):
        frameworks_module._build(raw)


def test_bad_polarity_in_data_is_refused():
    raw = _determinants_raw()
    raw["themes"][3]["examples"][0]["polarity"] = "Barrier"
    with pytest.raises(FrameworkError, match=r"theme 4 \('housing'\), example 1: polarity 'Barrier'"):
        frameworks_module._build(raw)


def test_missing_top_level_field_is_refused():
    raw = _determinants_raw()
    del raw["source"]
    with pytest.raises(FrameworkError, match="framework 'determinants': missing source"):
        frameworks_module._build(raw)
