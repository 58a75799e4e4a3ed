"""`chorus search`: the service at a consent level, as text or exactly-shaped JSON."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.models import ConsentLevel, Polarity, TagSource, TagStatus, ThemeTag
from search.index import index_artefact


@pytest.fixture
def run(settings, services, monkeypatch):
    monkeypatch.setenv("CHORUS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CHORUS_QUEUE_URL", "memory://")
    runner = CliRunner()
    return lambda *args: runner.invoke(main, ["search", *args], catch_exceptions=False)


@pytest.fixture
def items(make, db, services):
    programme = make.programme("riverside")
    made = {}
    for level in (ConsentLevel.TEAM, ConsentLevel.REPORT, ConsentLevel.EXHIBIT):
        artefact = make.shared(level=level, programme=programme, story=f"The {level.name.lower()} bus & the park")
        artefact.tags.append(ThemeTag(framework="determinants", theme="transport", source=TagSource.MODEL,
                                      polarity=Polarity.BARRIER, status=TagStatus.ACCEPTED))
        db.commit()
        index_artefact(services.settings.index_dir, artefact)
        made[level] = str(artefact.id)
    other = make.shared(level=ConsentLevel.EXHIBIT, programme=make.programme("hillside"), story="A bus elsewhere")
    index_artefact(services.settings.index_dir, other)
    made["other"] = str(other.id)
    return made


def test_json_has_exactly_the_documented_shape(run, items):
    result = run("bus", "--json", "--programme", "riverside")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"total", "hits", "facets"}
    assert data["total"] == 2  # report level: the report and exhibit items
    assert {h["id"] for h in data["hits"]} == {items[ConsentLevel.REPORT], items[ConsentLevel.EXHIBIT]}
    assert all(set(h) == {"id", "kind", "themes", "snippet"} for h in data["hits"])
    assert data["hits"][0]["themes"] == ["transport"] and "<mark>bus</mark>" in data["hits"][0]["snippet"]
    assert data["facets"]["themes"] == {"transport": 2}


@pytest.mark.parametrize(("level", "expected"), [("team", 3), ("report", 2), ("exhibit", 1)])
def test_levels(run, items, level, expected):
    data = json.loads(run("bus", "--level", level, "--programme", "riverside", "--json").output)
    assert data["total"] == expected


def test_every_programme_without_the_option(run, items):
    data = json.loads(run("bus", "--level", "exhibit", "--json").output)
    assert {h["id"] for h in data["hits"]} == {items[ConsentLevel.EXHIBIT], items["other"]}


def test_text_output_and_facets(run, items):
    result = run("bus", "--programme", "riverside", "--facets")
    assert result.exit_code == 0
    assert "2 found" in result.output
    assert items[ConsentLevel.REPORT] in result.output and items[ConsentLevel.TEAM] not in result.output
    assert "*bus* & the park" in result.output  # marks shown plainly, entities decoded
    assert "themes: transport 2" in result.output


def test_bad_query_and_unknown_programme_exit_with_a_message(run, items):
    bad = run('"unbalanced', "--programme", "nowhere")
    assert bad.exit_code == 2 and "no programme" in bad.output
    refused = run("consent_level:3")
    assert refused.exit_code == 1 and "not something you can search by" in refused.output
