"""The `chorus` command line: setup, records, reports, and clear failures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.settings import ConfigurationError, load_settings


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("CHORUS_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def test_init_programme_session_user_and_reports(run):
    assert run("init").exit_code == 0
    assert run("programme", "add", "riverside", "Riverside listening").exit_code == 0
    added = run("session", "add", "riverside", "After school club", "--place", "school", "--area", "rv01", "--json")
    code = json.loads(added.output)["join_code"]
    assert len(code) == 6 and code.isupper()
    user = run("user", "add", "fac@example.org", "--name", "Fran", "--programme", "riverside", "--role", "facilitator", "--json")
    assert json.loads(user.output)["password"]
    report = run("fsck", "--json")
    assert report.exit_code == 0 and json.loads(report.output)["clean"] is True


def test_bad_arguments_exit_non_zero_with_a_message(run):
    run("init")
    duplicate = [run("programme", "add", "same", "One"), run("programme", "add", "same", "Two")]
    assert duplicate[1].exit_code == 1 and "already a programme" in duplicate[1].output
    unknown = run("session", "add", "nope", "S", "--place", "school", "--area", "RV01")
    assert unknown.exit_code == 1 and "no programme" in unknown.output
    bad_place = run("session", "add", "same", "S", "--place", "moon", "--area", "RV01")
    assert bad_place.exit_code == 2
    short = run("user", "add", "x@example.org", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "12 characters" in short.output
    lonely = run("user", "add", "y@example.org", "--role", "analyst")
    assert lonely.exit_code == 2 and "go together" in lonely.output


def test_unmigrated_database_and_unreachable_services_say_what_to_do(run, monkeypatch, tmp_path):
    result = run("fsck")
    assert result.exit_code == 2 and "chorus init" in result.output
    monkeypatch.setenv("CHORUS_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    result = run("init")
    assert result.exit_code == 2 and "cannot migrate the database" in result.output
    monkeypatch.delenv("CHORUS_DATABASE_URL")
    monkeypatch.setenv("CHORUS_QUEUE_URL", "redis://127.0.0.1:1/0")
    result = run("init")
    assert result.exit_code == 2 and "job queue is unavailable" in result.output
    monkeypatch.delenv("CHORUS_QUEUE_URL")
    for name, value in (("CHORUS_STORAGE", "s3"), ("CHORUS_S3_BUCKET", "chorus-media"),
                        ("CHORUS_S3_ENDPOINT_URL", "http://127.0.0.1:1"), ("AWS_ACCESS_KEY_ID", "invented"),
                        ("AWS_SECRET_ACCESS_KEY", "invented")):
        monkeypatch.setenv(name, value)
    result = run("init")
    assert result.exit_code == 2 and "chorus-media" in result.output


def test_bad_configuration_is_refused_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("CHORUS_STORAGE", "s3")
    with pytest.raises(ConfigurationError, match="CHORUS_S3_BUCKET"):
        load_settings(data_dir=tmp_path)
    monkeypatch.setenv("CHORUS_STORAGE", "floppy")
    with pytest.raises(ConfigurationError, match="storage"):
        load_settings(data_dir=tmp_path)
    monkeypatch.delenv("CHORUS_STORAGE")
    (tmp_path / "chorus.toml").write_text("database_url = [unclosed")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_settings(data_dir=tmp_path)
    (tmp_path / "chorus.toml").write_text('storage = "local"\npresigned_url_seconds = 60\n')
    assert load_settings(data_dir=tmp_path).presigned_url_seconds == 60
    monkeypatch.setenv("CHORUS_PRESIGNED_URL_SECONDS", "120")
    assert load_settings(data_dir=tmp_path).presigned_url_seconds == 120  # environment beats the file


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = load_settings(data_dir=tmp_path).secret_key
    assert len(first) >= 48 and load_settings(data_dir=tmp_path).secret_key == first
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0


def test_console_script_is_installed():
    chorus = shutil.which("chorus", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    assert chorus, "the `chorus` console script is not installed: run `pip install -e '.[test]'`"
    result = subprocess.run([chorus, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "consented archive" in result.stdout


def test_tag_prints_the_json_contract_per_input_line(run):
    result = run("tag", "--json", "-", input="my mum can't afford the bus\n\nthe youth club is free and I go with my mates\n")
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["text"] for r in records] == ["my mum can't afford the bus", "the youth club is free and I go with my mates"]
    first = {t["theme"]: t for t in records[0]["tags"]}
    assert {"money", "transport"} <= set(first) and first["money"]["polarity"] == "barrier"
    assert set(records[0]["tags"][0]) == {"theme", "label", "confidence", "polarity", "evidence"}
    assert run("tag", "--framework", "nope", "hello").exit_code == 2
