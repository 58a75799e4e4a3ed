"""Bulk import of media collected offline (phones, SD cards, scanned drawings) into one session.

Three stages, each small enough to test on its own:

* :func:`plan_import` reads everything before anything is written: the session, the manifest
  (every problem in it is reported at once, naming its line) and the folder. A bad manifest
  raises :class:`ManifestError` and the database is untouched.
* :func:`run_import` takes each planned file through the same door as a web upload
  (:func:`ingest.accept.accept_upload`), so content sniffing, metadata stripping, size caps and
  refusal messages are exactly the ones participants get.
* :class:`ImportSummary` is what happened to each file: accepted, already imported, refused and why.

Resuming needs no state file. A file's ``upload_id`` is derived from its SHA-256 and its path
inside the folder, and ``accept_upload`` returns the first artefact for a repeated upload id, so
running the same import again after an interruption skips what was already accepted and imports
the rest. Participants are found again by alias and a consent decision already recorded is not
recorded twice.
"""

from __future__ import annotations

import csv
import hashlib
import os
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.consent_records import ConsentChoice, record_consent
from archive.frameworks import Framework, load_framework
from archive.models import (
    AgeBand,
    Artefact,
    ArtefactKind,
    ArtefactStatus,
    ConsentGiver,
    ConsentLevel,
    ConsentMethod,
    ConsentRecord,
    ConsentScope,
    ListeningSession,
    Participant,
    Programme,
    utcnow,
)
from archive.principal import SYSTEM, Principal
from archive.programmes import JoinError, clean_alias, join_session, normalise_join_code
from archive.services import Services

from .accept import PLACES, MAX_STORY, Submission, UploadRejected, accept_upload
from .sniff import UnsupportedFile, sniff

COLUMNS = (
    "file", "participant", "age_band", "kind", "title", "story", "themes", "place",
    "level", "credit", "face", "voice", "giver", "method", "witness", "child_assent", "given_at",
)  # fmt: skip
REQUIRED_COLUMNS = ("file", "participant", "age_band", "level", "given_at")
CONSENT_COLUMNS = ("level", "credit", "face", "voice", "giver", "method", "witness", "child_assent", "given_at")
KIND_OF_FAMILY = {"image": ArtefactKind.PHOTO, "audio": ArtefactKind.VOICE_NOTE, "video": ArtefactKind.VIDEO_DIARY}
TEXT_SUFFIX = ".txt"
# A written story is capped at MAX_STORY characters; four bytes each is the most UTF-8 needs.
MAX_TEXT_BYTES = MAX_STORY * 4
MAX_PROBLEMS_SHOWN = 20
_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}


class ImportSetupError(ValueError):
    """The import cannot start (unknown session, bad participant, unreadable folder); nothing was written."""


class ManifestError(ValueError):
    """The manifest cannot be used as written; ``problems`` names each line and what is wrong with it."""

    def __init__(self, manifest: Path, problems: list[str]):
        self.manifest = manifest
        self.problems = problems
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        lines = [f"{manifest.name}: {p}" for p in shown] + ([f"... and {more} more"] if more > 0 else [])
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Outcome:
    """What happened to one file. ``status`` is ``accepted``, ``already_imported`` or ``refused``."""

    file: str
    status: str
    reason: str = ""
    kind: str | None = None
    participant: str | None = None
    artefact_id: str | None = None
    processing: str | None = None  # "queued", "done", or a failure message when processed inline

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


# --- the manifest ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentEntry:
    """A consent form as the manifest records it; ``given_at`` dates it (a child's age counts then)."""

    choice: ConsentChoice
    given_at: datetime


@dataclass(frozen=True)
class Person:
    """A participant the import files items under, created in the session if the alias is new."""

    alias: str
    age_band: AgeBand
    consent: ConsentEntry | None = None
    line: int = 0

    @property
    def key(self) -> str:
        return self.alias.casefold()


@dataclass(frozen=True)
class ManifestRow:
    line: int
    file: str
    person: Person
    kind: ArtefactKind | None = None
    title: str = ""
    story: str = ""
    themes: tuple[str, ...] = ()
    place: str | None = None


@dataclass
class _RowReader:
    """Reads one CSV row's cells, collecting problems instead of stopping at the first."""

    line: int
    cells: dict[str, str]
    problems: list[str]

    def text(self, column: str) -> str:
        return (self.cells.get(column) or "").strip()

    def problem(self, message: str) -> None:
        self.problems.append(f"line {self.line}: {message}")

    def choice(self, column: str, parse: Callable[[str], object], allowed: str):
        value = self.text(column)
        if not value:
            return None
        try:
            return parse(_token(value))
        except (ValueError, KeyError):
            self.problem(f"{column} {value!r} is not one of {allowed}")
            return None

    def flag(self, column: str) -> bool | None:
        value = self.text(column).lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False if value else None
        self.problem(f"{column} {self.text(column)!r} should be yes or no")
        return None


def _token(value: str) -> str:
    return value.strip().lower().replace(" ", "_").replace("-", "_")


def _enum_values(enum_cls) -> str:
    return ", ".join(member.value for member in enum_cls)


def parse_given_at(value: str, now: datetime | None = None) -> datetime:
    """A consent date as written on a form: ``2025-03-14``, or with a time (UTC unless it says).

    Raises ValueError for anything else, and for a date still to come.
    """
    value = value.strip()
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value or " " in value else None
        when = when or datetime.combine(date.fromisoformat(value), time(0, 0))
    except ValueError:
        raise ValueError(f"given_at {value!r} is not a date like 2025-03-14 (or 2025-03-14T15:30)") from None
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    if when > (now or utcnow()):
        raise ValueError(f"given_at {value!r} is in the future")
    return when


def _given_at(reader: _RowReader, now: datetime | None) -> datetime | None:
    if not reader.text("given_at"):
        reader.problem("given_at is empty: write the date the consent form was signed")
        return None
    try:
        return parse_given_at(reader.text("given_at"), now)
    except ValueError as exc:
        reader.problem(str(exc))
        return None


def _consent(reader: _RowReader, now: datetime | None) -> ConsentEntry | None:
    if not reader.text("level"):
        if any(reader.text(c) for c in CONSENT_COLUMNS):
            reader.problem("consent columns are filled in but level is empty")
        return None
    level = reader.choice("level", ConsentLevel.parse, "none, team, report, exhibit")
    when = _given_at(reader, now)
    giver = reader.choice("giver", ConsentGiver, _enum_values(ConsentGiver)) or ConsentGiver.PARTICIPANT
    # Offline collection means a paper form unless the manifest says otherwise.
    method = reader.choice("method", ConsentMethod, _enum_values(ConsentMethod)) or ConsentMethod.PAPER
    witness = reader.text("witness") or None
    if method == ConsentMethod.VERBAL_WITNESSED and not witness:
        reader.problem("verbal_witnessed consent needs a witness (a name or role)")
    flags = {name: reader.flag(name) for name in ("credit", "face", "voice", "child_assent")}
    if level is None or when is None:
        return None
    choice = ConsentChoice(
        level=level, credit=bool(flags["credit"]), face=bool(flags["face"]), voice=bool(flags["voice"]),
        giver=giver, method=method, witness=witness, child_assent=flags["child_assent"],
    )
    return ConsentEntry(choice, when)


def _person(reader: _RowReader, now: datetime | None) -> Person | None:
    try:
        alias = clean_alias(reader.text("participant"))
    except JoinError:
        reader.problem(f"participant {reader.text('participant')!r} is not a usable alias "
                       "(1 to 40 letters, digits, spaces, dashes or apostrophes)")
        alias = None
    band = reader.choice("age_band", AgeBand, _enum_values(AgeBand))
    if band is None and not reader.text("age_band"):
        reader.problem(f"age_band is empty: use one of {_enum_values(AgeBand)}")
    consent = _consent(reader, now)
    if alias is None or band is None:
        return None
    return Person(alias, band, consent, reader.line)


def _themes(reader: _RowReader, framework: Framework) -> tuple[str, ...]:
    """Theme codes separated by commas, semicolons or bars, each checked against the framework."""
    written = reader.text("themes").replace(";", ",").replace("|", ",").split(",")
    codes = tuple(dict.fromkeys(code.strip().lower() for code in written if code.strip()))
    for code in codes:
        if code not in framework.codes:
            reader.problem(f"unknown theme {code!r} (the {framework.code} framework has {', '.join(framework.codes)})")
    return codes


def _row(reader: _RowReader, framework: Framework, now: datetime | None) -> ManifestRow | None:
    file = reader.text("file").replace("\\", "/").removeprefix("./")
    if not file:
        reader.problem("file is empty")
    person = _person(reader, now)
    kind = reader.choice("kind", ArtefactKind, _enum_values(ArtefactKind))
    place = reader.text("place").lower() or None
    if place is not None and place not in PLACES:
        reader.problem(f"place {place!r} is not one of {', '.join(PLACES)}")
    themes = _themes(reader, framework)
    story = reader.text("story")
    if story and file.lower().endswith(TEXT_SUFFIX):
        reader.problem(f"{file} is a written story itself: leave its story column empty")
    if not file or person is None:
        return None
    return ManifestRow(reader.line, file, person, kind, reader.text("title"), story, themes, place)


def _header(line: int, row: list[str], problems: list[str]) -> list[str]:
    names = [_token(name) for name in row]
    for name in names:
        # Spreadsheets often save a few empty columns after the last one.
        if name and name not in COLUMNS:
            problems.append(f"line {line}: unknown column {name!r}; the columns are {', '.join(COLUMNS)}")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        problems.append(f"line {line}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    duplicated = sorted({name for name in names if name and names.count(name) > 1})
    if duplicated:
        problems.append(f"line {line}: column {', '.join(duplicated)} appears twice")
    return names


def _records(path: Path) -> Iterable[tuple[int, list[str]]]:
    """(first line number, cells) per CSV record; a quoted story may span several lines."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        start = 1
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1


def _check_people(rows: list[ManifestRow], problems: list[str]) -> None:
    """One participant has one age band and one consent form, however many rows carry their files."""
    first: dict[str, Person] = {}
    form: dict[str, Person] = {}
    for row in rows:
        person = row.person
        seen = first.setdefault(person.key, person)
        if seen.age_band != person.age_band:
            problems.append(f"line {row.line}: {person.alias}'s age_band differs from line {seen.line}")
        if person.consent is None:
            continue
        signed = form.setdefault(person.key, person)
        if signed.consent != person.consent:
            problems.append(f"line {row.line}: {person.alias}'s consent differs from line {signed.line}; "
                            "a participant has one consent form: repeat it exactly or leave it empty")


def _check_files(rows: list[ManifestRow], problems: list[str]) -> None:
    lines: dict[str, int] = {}
    for row in rows:
        key = _match_key(row.file)
        if key in lines:
            problems.append(f"line {row.line}: {row.file} is already listed on line {lines[key]}")
        lines.setdefault(key, row.line)


def read_manifest(path: Path, framework: Framework, now: datetime | None = None) -> list[ManifestRow]:
    """Read and check the whole manifest; raises ManifestError listing every problem by line."""
    path = Path(path)
    problems: list[str] = []
    rows: list[ManifestRow] = []
    try:
        records = list(_records(path))
    except UnicodeDecodeError:
        raise ManifestError(path, ["it is not UTF-8 text: save it as \"CSV UTF-8\""]) from None
    except (OSError, csv.Error) as exc:
        raise ManifestError(path, [f"it cannot be read as CSV ({exc})"]) from None
    records = [(line, cells) for line, cells in records if any(c.strip() for c in cells)]
    if not records:
        raise ManifestError(path, ["it is empty: the first line names the columns"])
    header = _header(*records[0], problems)
    for line, cells in records[1:]:
        if len(cells) > len(header):
            problems.append(f"line {line}: more values than columns (put a value holding a comma in double quotes)")
            continue
        row = _row(_RowReader(line, dict(zip(header, cells)), problems), framework, now)
        if row is not None:
            rows.append(row)
    if len(records) == 1:
        problems.append("it lists no files")
    _check_people(rows, problems)
    _check_files(rows, problems)
    if problems:
        raise ManifestError(path, problems)
    return rows


# --- the folder --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundFile:
    """A file inside the import folder; ``name`` is its path there, with forward slashes."""

    name: str
    path: Path


def shown_name(raw: str) -> str:
    """A path safe to print and store: undecodable bytes in a name become replacement characters."""
    return os.fsencode(raw).decode("utf-8", "replace")


def _hidden(name: str) -> bool:
    return name.startswith(".")


LINK_REASON = ("This is a shortcut (symbolic link), not a file; links are not followed. "
               "Copy the file itself into the folder.")
UNREADABLE_REASON = "This folder could not be read ({error}), so nothing in it was imported."


def walk_folder(folder: Path, skip: Iterable[Path] = ()) -> tuple[list[FoundFile], list[Outcome]]:
    """Regular files under ``folder``, and refusals for what was seen but not taken.

    Hidden files and folders (``.DS_Store``, ``._IMG_0001.JPG``, ``.Trashes``) are camera and
    operating-system litter and are skipped without comment. Symbolic links are never followed,
    so an import cannot reach outside the folder it was given; they are reported instead.
    """
    skipped = {p.resolve() for p in skip}
    found: list[FoundFile] = []
    refused: list[Outcome] = []

    def unreadable(error: OSError) -> None:
        name = _relative(Path(error.filename), folder) if error.filename else "."
        refused.append(Outcome(name, "refused", UNREADABLE_REASON.format(error=error.strerror or error)))

    for root, dirs, files in os.walk(folder, onerror=unreadable, followlinks=False):
        root_path = Path(root)
        dirs[:] = sorted(d for d in dirs if not _hidden(d))
        refused += [Outcome(_relative(root_path / d, folder), "refused", LINK_REASON)
                    for d in dirs if (root_path / d).is_symlink()]
        for name in sorted(files):
            path = root_path / name
            if _hidden(name) or path.resolve() in skipped:
                continue
            if path.is_symlink():
                refused.append(Outcome(_relative(path, folder), "refused", LINK_REASON))
            elif path.is_file():
                found.append(FoundFile(_relative(path, folder), path))
    return sorted(found, key=lambda f: f.name), sorted(refused, key=lambda o: o.file)


def _relative(path: Path, folder: Path) -> str:
    return shown_name(PurePosixPath(*path.relative_to(folder).parts).as_posix())


def _match_key(name: str) -> str:
    # Phones, Macs and spreadsheets disagree on Unicode normal form and on case.
    return unicodedata.normalize("NFC", name).casefold()


# --- planning ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedFile:
    file: FoundFile
    person: Person
    row: ManifestRow | None = None


@dataclass
class ImportPlan:
    session_id: int
    session_code: str
    session_name: str
    framework: str
    files: list[PlannedFile] = field(default_factory=list)
    refused: list[Outcome] = field(default_factory=list)


UNLISTED_REASON = "This file is not in the manifest, so nobody's consent covers it. Add a line for it to import it."
MISSING_REASON = "The manifest lists this file (line {line}) but it is not in the folder."


def find_session(db: Session, code: str) -> ListeningSession:
    """The session with this join code, even if the code has expired: offline material arrives late."""
    session = db.scalar(select(ListeningSession).where(ListeningSession.join_code == normalise_join_code(code)))
    if session is None:
        raise ImportSetupError(f"there is no session with the code {code!r}")
    return session


def _match(rows: list[ManifestRow], files: list[FoundFile], manifest: Path) -> tuple[list[PlannedFile], list[Outcome]]:
    """Pair manifest rows with files: by path inside the folder, or by bare name when that is unique."""
    by_path = {_match_key(f.name): f for f in files}
    by_name: dict[str, list[FoundFile]] = {}
    for f in files:
        by_name.setdefault(_match_key(PurePosixPath(f.name).name), []).append(f)
    planned: dict[str, PlannedFile] = {}
    missing: list[Outcome] = []
    problems: list[str] = []
    people = _people(rows)
    for row in rows:
        key = _match_key(row.file)
        candidates = [by_path[key]] if key in by_path else ([] if "/" in row.file else by_name.get(key, []))
        if len(candidates) > 1:
            where = ", ".join(c.name for c in candidates)
            problems.append(f"line {row.line}: {len(candidates)} files are called {row.file} ({where}); "
                            "write the folder too, e.g. " + candidates[0].name)
        elif not candidates:
            reason = MISSING_REASON.format(line=row.line)
            missing.append(Outcome(row.file, "refused", reason, participant=row.person.alias))
        elif candidates[0].name in planned:
            first = planned[candidates[0].name].row.line
            problems.append(f"line {row.line}: {row.file} is the same file as line {first}")
        else:
            planned[candidates[0].name] = PlannedFile(candidates[0], people[row.person.key], row)
    if problems:
        raise ManifestError(manifest, problems)
    unlisted = [Outcome(f.name, "refused", UNLISTED_REASON) for f in files if f.name not in planned]
    return sorted(planned.values(), key=lambda p: p.file.name), missing + unlisted


def _people(rows: list[ManifestRow]) -> dict[str, Person]:
    """Each participant with the consent form from whichever of their rows carries it."""
    people: dict[str, Person] = {}
    for row in rows:
        if row.person.key not in people or people[row.person.key].consent is None:
            people[row.person.key] = row.person
    return people


def plan_import(
    db: Session,
    folder: Path,
    session_code: str,
    manifest: Path | None = None,
    participant: str | None = None,
    age_band: AgeBand | None = None,
    now: datetime | None = None,
) -> ImportPlan:
    """Check everything and decide what each file will become; writes nothing.

    Raises ImportSetupError (unknown session, no participant, not a folder) or ManifestError.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ImportSetupError(f"{folder} is not a folder")
    session = find_session(db, session_code)
    framework = load_framework(db.get(Programme, session.programme_id).framework)
    plan = ImportPlan(session.id, session.join_code, session.name, framework.code)
    skip = [manifest] if manifest is not None else []
    files, plan.refused = walk_folder(folder, skip)
    if manifest is not None:
        matched, refused = _match(read_manifest(manifest, framework, now), files, Path(manifest))
        plan.files, plan.refused = matched, plan.refused + refused
        return plan
    plan.files = [PlannedFile(f, _single_person(participant, age_band)) for f in files]
    return plan


def _single_person(participant: str | None, age_band: AgeBand | None) -> Person:
    if not participant or age_band is None:
        raise ImportSetupError(
            "say whose files these are: give --manifest consent.csv, or --participant ALIAS and --age-band BAND"
        )
    try:
        return Person(clean_alias(participant), age_band)
    except JoinError as exc:
        raise ImportSetupError(str(exc)) from None


# --- deciding what a file is -------------------------------------------------------------------

_KIND_WORDS = {
    ArtefactKind.PHOTO: "a photo", ArtefactKind.DRAWING: "a drawing", ArtefactKind.VOICE_NOTE: "a voice note",
    ArtefactKind.VIDEO_DIARY: "a video diary", ArtefactKind.TEXT_STORY: "a written story",
}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def upload_id_for(found: FoundFile, sha256: str | None = None) -> str:
    """The same file at the same place in the folder always gets the same upload id."""
    content = sha256 or file_sha256(found.path)
    key = hashlib.sha256(f"{content}\0{_match_key(found.name)}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"import-{key[:48]}"


def _content_kind(path: Path) -> ArtefactKind:
    """The kind the bytes say; raises UploadRejected with the sniffer's message for anything else."""
    try:
        sniffed = sniff(path)
    except UnsupportedFile as exc:
        if exc.reason == "document" and path.suffix.lower() == TEXT_SUFFIX:
            return ArtefactKind.TEXT_STORY
        hint = " A written story can be imported from a .txt file." if exc.reason == "document" else ""
        raise UploadRejected(exc.message + hint, 415) from None
    if sniffed.needs_probe:
        return _probed_kind(path, sniffed.media_type)
    return KIND_OF_FAMILY[sniffed.kind_family]


def _probed_kind(path: Path, media_type: str) -> ArtefactKind:
    # MP4 and WebM hold either a recording or a video; only the streams inside tell.
    from media.av import MediaError, MediaRejected, probe

    try:
        return ArtefactKind.VIDEO_DIARY if probe(path, media_type=media_type).has_video else ArtefactKind.VOICE_NOTE
    except MediaRejected as exc:
        raise UploadRejected(str(exc), 422) from None
    except MediaError:
        raise UploadRejected("This recording could not be read. It may be damaged.", 422) from None


def decide_kind(path: Path, wanted: ArtefactKind | None = None) -> ArtefactKind:
    """What the file becomes: its content decides, the manifest may only say a picture is a drawing."""
    found = _content_kind(path)
    if wanted is None or wanted == found:
        return found
    if found == ArtefactKind.PHOTO and wanted == ArtefactKind.DRAWING:
        return wanted
    raise UploadRejected(f"The manifest says this is {_KIND_WORDS[wanted]}, but the file is {_KIND_WORDS[found]}.", 415)


def _story_text(path: Path) -> str:
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise UploadRejected(f"This story is too long: please keep it under {MAX_STORY:,} characters.", 413)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UploadRejected(
            "This text file is not saved as UTF-8; please save it as UTF-8 text and import it again.", 415
        ) from None


def submission_for(planned: PlannedFile, upload_id: str) -> tuple[Submission, Path | None]:
    """The upload the web form would have sent for this file, and the file to send with it."""
    row = planned.row
    kind = decide_kind(planned.file.path, row.kind if row else None)
    story = _story_text(planned.file.path) if kind == ArtefactKind.TEXT_STORY else (row.story if row else "")
    submission = Submission(
        kind=kind, title=row.title if row else "", story=story, place=row.place if row else None,
        upload_id=upload_id, original_name=PurePosixPath(planned.file.name).name,
        themes=row.themes if row else (),
    )
    return submission, None if kind == ArtefactKind.TEXT_STORY else planned.file.path


# --- running -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Processing:
    """How accepted items get processed: ``run(artefact_id)`` and which leftovers a re-run picks up."""

    run: Callable[[uuid.UUID], None]
    resumes: frozenset[ArtefactStatus]
    label: str


def queued_processing() -> Processing:
    """Hand each item to the job queue, as a web upload does."""
    from .jobs import process_artefact_job

    # Only never-started items are queued again: one marked processing may be in a worker's hands now.
    return Processing(lambda artefact_id: process_artefact_job(str(artefact_id)),
                      frozenset({ArtefactStatus.RECEIVED}), "queued")


def inline_processing(services: Services) -> Processing:
    """Run each item's pipeline here before moving on (``--wait``)."""
    from .pipeline import run_pipeline

    # Inline, an item left "processing" was cut off by an interrupted run of this command.
    return Processing(lambda artefact_id: run_pipeline(services, artefact_id),
                      frozenset({ArtefactStatus.RECEIVED, ArtefactStatus.PROCESSING}), "done")


@dataclass
class ImportSummary:
    session_code: str
    session_name: str
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False
    # Aliases with no consent on record: their items are kept but nobody may see them yet.
    without_consent: list[str] = field(default_factory=list)

    def having(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def accepted(self) -> list[Outcome]:
        return self.having("accepted")

    @property
    def already_imported(self) -> list[Outcome]:
        return self.having("already_imported")

    @property
    def refused(self) -> list[Outcome]:
        return self.having("refused")

    @property
    def processing_failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.processing not in (None, "queued", "done")]

    def as_dict(self) -> dict:
        return {
            "session": {"code": self.session_code, "name": self.session_name},
            "counts": {"accepted": len(self.accepted), "already_imported": len(self.already_imported),
                       "refused": len(self.refused), "processing_failed": len(self.processing_failed)},
            "interrupted": self.interrupted,
            "without_consent": self.without_consent,
            "accepted": [o.as_dict() for o in self.accepted],
            "already_imported": [o.as_dict() for o in self.already_imported],
            "refused": [o.as_dict() for o in self.refused],
        }


@dataclass
class _Importer:
    services: Services
    db: Session
    plan: ImportPlan
    processing: Processing
    actor: Principal
    participants: dict[str, Participant] = field(default_factory=dict)

    def participant_for(self, person: Person) -> Participant:
        """Find or create the participant, with their consent form recorded once; committed."""
        if person.key not in self.participants:
            participant = self._find(person) or self._create(person)
            if person.consent is not None and not _already_recorded(self.db, participant, person.consent):
                record_consent(self.db, self.actor, participant, person.consent.choice, at=person.consent.given_at)
            self.db.commit()
            self.participants[person.key] = participant
        return self.participants[person.key]

    def _find(self, person: Person) -> Participant | None:
        # The same case-blind match join_session uses to call an alias taken; "_" may be part of
        # an alias but is a wildcard in LIKE, hence the escaping.
        pattern = person.alias.replace("_", "\\_")
        return self.db.scalar(select(Participant).where(
            Participant.session_id == self.plan.session_id, Participant.alias.ilike(pattern, escape="\\")))

    def _create(self, person: Person) -> Participant:
        session = self.db.get(ListeningSession, self.plan.session_id)
        return join_session(self.db, session, person.alias, person.age_band)

    def import_file(self, planned: PlannedFile) -> Outcome:
        name, alias = planned.file.name, planned.person.alias
        try:
            upload_id = upload_id_for(planned.file)
            submission, upload = submission_for(planned, upload_id)
            participant = self.participant_for(planned.person)
            existing = _existing(self.db, participant, upload_id)
            if existing is not None:
                return self._already(name, alias, existing)
            artefact, created = accept_upload(
                self.db, self.services.storage, self.actor, participant, submission, upload)
        except (UploadRejected, JoinError) as exc:
            self.db.rollback()
            return Outcome(name, "refused", getattr(exc, "message", None) or str(exc), participant=alias)
        except OSError as exc:
            self.db.rollback()
            return Outcome(name, "refused", f"The file could not be read ({exc.strerror or exc}).", participant=alias)
        if not created:
            return self._already(name, alias, artefact)
        return Outcome(name, "accepted", kind=artefact.kind.value, participant=alias,
                       artefact_id=str(artefact.id), processing=self._process(artefact.id))

    def _already(self, name: str, alias: str, artefact: Artefact) -> Outcome:
        resumed = self._process(artefact.id) if artefact.status in self.processing.resumes else None
        return Outcome(name, "already_imported", kind=artefact.kind.value, participant=alias,
                       artefact_id=str(artefact.id), processing=resumed)

    def _process(self, artefact_id: uuid.UUID) -> str:
        from .pipeline import failure_message

        try:
            self.processing.run(artefact_id)
        except Exception as exc:  # the pipeline recorded it on the item; the import carries on
            return f"processing failed: {failure_message(exc)}"
        return self.processing.label


def _existing(db: Session, participant: Participant, upload_id: str) -> Artefact | None:
    return db.scalar(select(Artefact).where(Artefact.participant_id == participant.id, Artefact.upload_id == upload_id))


def _already_recorded(db: Session, participant: Participant, consent: ConsentEntry) -> bool:
    """Is this form already the participant's latest decision? Then a re-run must not append it again."""
    latest = db.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.participant_id == participant.id, ConsentRecord.scope == ConsentScope.PARTICIPANT)
        .order_by(ConsentRecord.version.desc())
        .limit(1)
    )
    if latest is None:
        return False
    choice = consent.choice
    recorded = (latest.level, latest.credit, latest.face, latest.voice, latest.giver, latest.method,
                latest.witness, latest.child_assent, latest.created_at)
    wanted = (choice.level, choice.credit, choice.face, choice.voice, choice.giver, choice.method,
              choice.witness, choice.child_assent, consent.given_at)
    return recorded == wanted


def _without_consent(db: Session, participants: Iterable[Participant]) -> list[str]:
    ids = [p.id for p in participants]
    covered = set(db.scalars(select(ConsentRecord.participant_id).where(
        ConsentRecord.participant_id.in_(ids), ConsentRecord.scope == ConsentScope.PARTICIPANT)))
    return sorted(p.alias for p in participants if p.id not in covered)


def run_import(
    services: Services,
    plan: ImportPlan,
    processing: Processing,
    *,
    actor: Principal = SYSTEM,
    on_file: Callable[[Outcome], None] = lambda outcome: None,
) -> ImportSummary:
    """Import every planned file in order; each accepted file is committed before the next starts.

    Ctrl-C stops after the file in hand and returns what was done so far with
    ``interrupted=True``; a crash loses at most that file. Either way, running the same plan
    again brings everything already accepted back as ``already_imported`` and carries on.
    """
    summary = ImportSummary(plan.session_code, plan.session_name, list(plan.refused))
    with services.session() as db:
        importer = _Importer(services, db, plan, processing, actor)
        try:
            for planned in plan.files:
                outcome = importer.import_file(planned)
                summary.outcomes.append(outcome)
                on_file(outcome)
        except KeyboardInterrupt:
            db.rollback()  # a participant half-created when the interrupt came is dropped, not flushed
            summary.interrupted = True
        summary.without_consent = _without_consent(db, importer.participants.values())
    return summary
