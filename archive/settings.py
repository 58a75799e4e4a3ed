"""One settings object, read from ``CHORUS_*`` environment variables and an optional TOML file.

Precedence: keyword arguments, then environment, then the instance file
(``CHORUS_CONFIG`` or ``<data_dir>/chorus.toml``), then the embedded defaults, which
put everything (SQLite, media, queue, index) under ``./chorus-data``.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(Exception):
    """The configuration cannot work; the message says which setting and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHORUS_", extra="forbid")

    data_dir: Path = Path("chorus-data")
    database_url: str = ""
    queue_url: str = ""
    storage: Literal["local", "s3"] = "local"
    media_dir: Path | None = None
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "eu-west-2"
    s3_prefix: str = ""
    index_dir: Path | None = None
    # A council's own compiled catalogs (<locale>/LC_MESSAGES/messages.mo), used before the shipped ones.
    translations_dir: Path | None = None
    secret_key: str = ""
    ratelimit_storage_url: str = "memory://"
    presigned_url_seconds: int = Field(default=300, ge=10, le=3600)
    participant_session_minutes: int = Field(default=60, ge=5, le=24 * 60)
    join_code_hours: int = Field(default=72, ge=1, le=24 * 90)
    max_request_bytes: int = Field(default=300 * 1024 * 1024, ge=1024)
    secure_cookies: bool = False
    whisper_model: str = "base"
    whisper_backend: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    search_backend: Literal["whoosh", "postgres"] = "whoosh"  # postgres needs a PostgreSQL database_url (docs/search.md)

    @model_validator(mode="after")
    def _fill_defaults(self) -> "Settings":
        self.data_dir = self.data_dir.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'chorus.sqlite3'}"
        if not self.queue_url:
            self.queue_url = f"sqlite:///{self.data_dir / 'queue.sqlite3'}"
        if self.media_dir is None:
            self.media_dir = self.data_dir / "media"
        if self.index_dir is None:
            self.index_dir = self.data_dir / "index"
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("CHORUS_STORAGE=s3 needs CHORUS_S3_BUCKET")
        if not self.database_url.startswith(("sqlite://", "postgresql")):
            raise ValueError("CHORUS_DATABASE_URL must be sqlite:///... or postgresql+psycopg://...")
        if not self.queue_url.startswith(("sqlite://", "redis://", "rediss://", "memory://")):
            raise ValueError("CHORUS_QUEUE_URL must be sqlite:///..., redis://... or memory://")
        return self

    @property
    def instance_dir(self) -> Path:
        return self.data_dir / "instance"

    @property
    def uses_embedded_queue(self) -> bool:
        return not self.queue_url.startswith(("redis://", "rediss://"))


def _config_file_values(overrides: dict) -> dict:
    explicit = os.environ.get("CHORUS_CONFIG")
    data_dir = Path(overrides.get("data_dir") or os.environ.get("CHORUS_DATA_DIR") or "chorus-data")
    path = Path(explicit) if explicit else data_dir / "chorus.toml"
    if not path.exists():
        if explicit:
            raise ConfigurationError(f"CHORUS_CONFIG names {path}, which does not exist")
        return {}
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from exc
    env_set = {k[len("CHORUS_"):].lower() for k in os.environ if k.startswith("CHORUS_")}
    return {k: v for k, v in values.items() if k not in env_set}


def load_settings(**overrides) -> Settings:
    """Build the settings; raises ConfigurationError with a readable message when they are wrong.

    Side effect: on first use the secret key is generated and kept in the instance folder
    (mode 0600), so it survives restarts and is never part of the repository.
    """
    values = {**_config_file_values(overrides), **overrides}
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"bad configuration: {problems}") from None
    if not settings.secret_key:
        settings.secret_key = _instance_secret(settings.instance_dir)
    return settings


def _instance_secret(instance_dir: Path) -> str:
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    try:
        os.link(tmp, path)  # fails if another process won the race; theirs is kept
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()
