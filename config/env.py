"""Small typed readers for environment variables, and model-root discovery.

Every reader raises ``ImproperlyConfigured`` with a message that names the
variable, so a malformed value stops start-up with something a person can fix.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# ComfyUI's standard model folder names (folder_paths.py), used when no roots
# are configured and as the folders looked for under COMFYUI_PATH/models.
STANDARD_MODEL_TYPES: tuple[str, ...] = (
    "checkpoints",
    "clip",
    "clip_vision",
    "configs",
    "controlnet",
    "diffusers",
    "diffusion_models",
    "embeddings",
    "gligen",
    "hypernetworks",
    "loras",
    "photomaker",
    "style_models",
    "text_encoders",
    "unet",
    "upscale_models",
    "vae",
    "vae_approx",
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

ModelRoots = dict[str, list[str]]


def env_str(name: str, default: str, environ: Mapping[str, str] = os.environ) -> str:
    return environ.get(name, default).strip() or default


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(
    name: str, default: int, environ: Mapping[str, str] = os.environ, minimum: int = 1
) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_choice(
    name: str, choices: tuple[str, ...], default: str, environ: Mapping[str, str] = os.environ
) -> str:
    """One of ``choices`` (any case), or ImproperlyConfigured naming the variable."""
    raw = environ.get(name, "").strip()
    value = raw.lower() or default
    if value not in choices:
        allowed = " or ".join(choices)
        raise ImproperlyConfigured(f"{name} must be {allowed}, not {raw!r}.")
    return value


def env_time_zone(name: str, default: str, environ: Mapping[str, str] = os.environ) -> str:
    """An IANA time zone name such as Europe/Berlin, checked against the zone database."""
    import zoneinfo

    value = environ.get(name, "").strip() or default
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name} must be a time zone name such as UTC or Europe/Berlin, not {value!r}."
        ) from None
    return value


def env_list(name: str, default: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def proxy_ssl_header_from(
    name: str, environ: Mapping[str, str] = os.environ
) -> tuple[str, str] | None:
    """``X-Forwarded-Proto`` or ``X-Forwarded-Proto=https`` -> Django's META tuple."""
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    header, _, value = raw.partition("=")
    header, value = header.strip(), value.strip() or "https"
    if not re.fullmatch(r"[A-Za-z0-9-]+", header):
        raise ImproperlyConfigured(
            f"{name} must be a header name such as X-Forwarded-Proto, not {raw!r}."
        )
    return "HTTP_" + header.upper().replace("-", "_"), value


def secret_key_from(data_dir: Path, environ: Mapping[str, str] = os.environ) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in DATA_DIR."""
    if environ.get("SECRET_KEY", "").strip():
        return environ["SECRET_KEY"].strip()
    key_file = data_dir / "secret_key"
    existing = _read_key(key_file)
    if existing:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    # An empty file is a leftover of a process stopped while writing: replace it.
    if existing == "":
        key_file.unlink(missing_ok=True)
    key = secrets.token_urlsafe(50)
    # Written to a private file first, then linked into place: the key file never
    # exists half-written, and when several processes start at once the first
    # link wins and the others read the winner's key.
    draft = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(8)}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    try:
        os.link(draft, key_file)
    except FileExistsError:
        return _read_key(key_file) or key
    finally:
        draft.unlink()
    return key


def _read_key(key_file: Path) -> str | None:
    """The stripped key file, or None when there is no key file."""
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        return None


def parse_model_roots(raw: str, variable: str = "MODEL_ROOTS") -> ModelRoots:
    """Parse ``type=folder;type=folder`` pairs; a type may repeat."""
    roots: ModelRoots = {}
    for pair in raw.split(";"):
        if not pair.strip():
            continue
        model_type, sep, folder = pair.partition("=")
        model_type, folder = model_type.strip(), folder.strip()
        if not sep or not model_type or not folder:
            raise ImproperlyConfigured(
                f"{variable} must be type=folder pairs separated by ';', "
                f"and {pair.strip()!r} is not one."
            )
        if model_type.lower() == "others":
            raise ImproperlyConfigured(f"{variable} cannot configure the type 'others'.")
        _add_root(roots, model_type, folder)
    return roots


def discover_comfyui_roots(comfyui_path: str, variable: str = "COMFYUI_PATH") -> ModelRoots:
    """Roots of a ComfyUI installation: ``models/<type>`` and extra_model_paths.yaml.

    The YAML is read the way ComfyUI's ``load_extra_path_config`` reads it: each
    top-level section may set ``base_path`` (relative to the YAML's folder);
    every other key is a folder type whose value holds one or more folders, one
    per line, relative to ``base_path``.
    """
    base = Path(comfyui_path).expanduser()
    if not base.is_dir():
        raise ImproperlyConfigured(f"{variable} must be a ComfyUI folder; {base} is not a folder.")
    roots: ModelRoots = {}
    models_dir = base / "models"
    if models_dir.is_dir():
        for child in sorted(models_dir.iterdir()):
            if child.is_dir() and not child.name.startswith("."):
                _add_root(roots, child.name, str(child))
    yaml_file = base / "extra_model_paths.yaml"
    if yaml_file.is_file():
        for model_type, folder in _extra_model_paths(yaml_file, variable):
            _add_root(roots, model_type, folder)
    return roots


# Keys of an extra_model_paths.yaml section that are not model folder types.
_NOT_MODEL_TYPES = {"base_path", "is_default", "custom_nodes"}


def _extra_model_paths(yaml_file: Path, variable: str) -> list[tuple[str, str]]:
    import yaml

    try:
        config = yaml.safe_load(yaml_file.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        raise ImproperlyConfigured(f"{variable}: {yaml_file} is not valid YAML ({exc}).") from None
    if not isinstance(config, dict):
        raise ImproperlyConfigured(f"{variable}: {yaml_file} must hold sections of folder types.")
    # As ComfyUI does: a relative base_path, and relative folders of a section
    # without one, are relative to the YAML's own folder.
    yaml_dir = Path(os.path.abspath(yaml_file.parent))
    found: list[tuple[str, str]] = []
    for section in config.values():
        if not isinstance(section, dict):
            continue
        base_path = section.get("base_path")
        base = yaml_dir
        if base_path:
            base = yaml_dir / os.path.expandvars(os.path.expanduser(str(base_path)))
        for key, value in section.items():
            if key in _NOT_MODEL_TYPES or value is None:
                continue
            for folder in _folder_lines(value):
                # Joining an absolute folder onto base gives the folder itself.
                found.append((str(key), os.path.normpath(base / Path(folder).expanduser())))
    return found


def _folder_lines(value: object) -> list[str]:
    """Folders of one type: a block of lines, as ComfyUI reads them, or a YAML list."""
    items = value if isinstance(value, list) else str(value).split("\n")
    return [str(item).strip() for item in items if str(item).strip()]


def _add_root(roots: ModelRoots, model_type: str, folder: str) -> None:
    folder = os.path.normpath(os.path.abspath(os.path.expanduser(folder)))
    folders = roots.setdefault(model_type, [])
    if folder not in folders:
        folders.append(folder)


def model_roots_from(environ: Mapping[str, str] = os.environ) -> ModelRoots:
    """MODEL_ROOTS and COMFYUI_PATH together; both may be set."""
    roots: ModelRoots = {}
    comfyui = environ.get("COMFYUI_PATH", "").strip()
    if comfyui:
        for model_type, folders in discover_comfyui_roots(comfyui).items():
            for folder in folders:
                _add_root(roots, model_type, folder)
    for model_type, folders in parse_model_roots(environ.get("MODEL_ROOTS", "")).items():
        for folder in folders:
            _add_root(roots, model_type, folder)
    return roots
