"""User settings and the API key.

Settings live in `settings.json` in the user's config folder (platformdirs; `LOOMWARE_CONFIG_DIR` overrides it).
The API key is looked up in this order: the `RUNWARE_API_KEY` environment variable, the system keyring
(service "loomware"), then an `api_key` entry in the settings file. The key is never part of `Settings`, so
nothing that serialises settings, workflows or reports can carry it by accident.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from graph_runtime.api_facts import OUTPUT_FORMATS
from graph_runtime.atomic import write_text_atomic

log = logging.getLogger(__name__)

APP_NAME = "loomware"
KEYRING_SERVICE = "loomware"
KEYRING_USER = "runware-api-key"
API_KEY_ENV = "RUNWARE_API_KEY"
CONFIG_DIR_ENV = "LOOMWARE_CONFIG_DIR"
CACHE_DIR_ENV = "LOOMWARE_CACHE_DIR"
SETTINGS_NAME = "settings.json"
_FILE_KEY = "api_key"  # where a key saved with store="file" lives in settings.json


class ConfigError(ValueError):
    """A settings problem a person can fix; the message says how."""


@dataclass
class Settings:
    default_backend: str = "local"  # "cloud", "local" or the URL of a Runware-compatible server
    output_dir: str = "output"
    #: outputFormat given to image tasks that do not set one (None: the API's default, JPG).
    default_save_format: str | None = None

    def problems(self) -> list[str]:
        out = []
        b = self.default_backend
        if b not in ("cloud", "local") and not b.startswith(("http://", "https://")):
            out.append(f"default_backend {b!r}: use cloud, local or an http(s):// URL")
        if self.default_save_format is not None and self.default_save_format not in OUTPUT_FORMATS:
            out.append(f"default_save_format {self.default_save_format!r}: one of {', '.join(OUTPUT_FORMATS)}")
        return out


def config_dir() -> Path:
    if env := os.environ.get(CONFIG_DIR_ENV):
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME))


def cache_dir() -> Path:
    """Where results and upload UUIDs are cached: `LOOMWARE_CACHE_DIR`, else the user cache folder."""
    if env := os.environ.get(CACHE_DIR_ENV):
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME))


def settings_path() -> Path:
    return config_dir() / SETTINGS_NAME


def _read_file() -> dict[str, Any]:
    path = settings_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the settings file {path} is unreadable ({exc}); fix or delete it") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"the settings file {path} must hold a JSON object")
    return raw


def load_settings() -> Settings:
    """The saved settings; unknown keys are ignored and missing ones take their defaults."""
    raw = _read_file()
    known = {f.name for f in fields(Settings)}
    settings = Settings(**{k: v for k, v in raw.items() if k in known})
    if problems := settings.problems():
        raise ConfigError(f"{settings_path()}: " + "; ".join(problems))
    return settings


def save_settings(settings: Settings) -> Path:
    """Write atomically, keeping keys this version does not know (and a file-stored key) as they were."""
    if problems := settings.problems():
        raise ConfigError("; ".join(problems))
    data = _read_file()
    data.update(asdict(settings))
    return _write(data)


def _write(data: dict[str, Any]) -> Path:
    path = write_text_atomic(settings_path(), json.dumps(data, indent=2, sort_keys=True) + "\n")
    if _FILE_KEY in data:
        path.chmod(0o600)  # the file holds a secret
    return path


def _keyring() -> Any | None:
    try:
        import keyring
        import keyring.errors  # the caller's except clauses use it
    except Exception:  # a broken keyring install means "no keyring"
        return None
    return keyring


def get_api_key() -> str | None:
    """RUNWARE_API_KEY, else the keyring, else the settings file; None when no key is configured."""
    if key := os.environ.get(API_KEY_ENV, "").strip():
        return key
    kr = _keyring()
    if kr is not None:
        try:
            if key := (kr.get_password(KEYRING_SERVICE, KEYRING_USER) or "").strip():
                return key
        except Exception as exc:  # no usable keyring backend (headless Linux)
            log.debug("keyring unavailable: %s", type(exc).__name__)
    try:
        value = _read_file().get(_FILE_KEY)
    except ConfigError:
        return None
    return value.strip() if isinstance(value, str) and value.strip() else None


def set_api_key(key: str | None, *, store: str = "keyring") -> str:
    """Save (or, with None, forget) the key: in the system keyring, or with store="file" in settings.json
    (mode 0600). Returns where it went. Raises ConfigError when the keyring cannot be used."""
    if store not in ("keyring", "file"):
        raise ConfigError(f"store {store!r}: use keyring or file")
    if store == "file":
        data = _read_file()
        if key:
            data[_FILE_KEY] = key.strip()
        else:
            data.pop(_FILE_KEY, None)
        _write(data)
        return "file"
    kr = _keyring()
    if kr is None:
        raise ConfigError("the keyring package cannot be used here; set RUNWARE_API_KEY or store the key in the file")
    try:
        if key:
            kr.set_password(KEYRING_SERVICE, KEYRING_USER, key.strip())
            if kr.get_password(KEYRING_SERVICE, KEYRING_USER) != key.strip():  # e.g. the null backend
                raise RuntimeError("the key did not persist")
        else:
            with contextlib.suppress(kr.errors.PasswordDeleteError):
                kr.delete_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception as exc:  # every keyring backend failure reads the same to a person
        raise ConfigError(
            f"the system keyring refused the key ({exc}); set RUNWARE_API_KEY instead, "
            "or store the key in the settings file"
        ) from exc
    return "keyring"


def api_key_help() -> str:
    """How to configure a key, for error messages."""
    return (
        f"set the {API_KEY_ENV} environment variable, save the key in the editor's Settings (system keyring, "
        f'service "{KEYRING_SERVICE}"), or add "{_FILE_KEY}": "..." to {settings_path()}'
    )
