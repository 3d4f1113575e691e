"""The configuration contract: `incidents.toml` read with `tomllib` and validated into dataclasses.

Where it is read from: `--config`, else `$INCIDENTS_CONFIG`, else `./incidents.toml`. Tables:
`[smtp]` (the mail server alerts go through), `[[recipients]]` (who receives what), `[bulletin]` (the
issuer and contact the monthly bulletin prints). Every problem is reported on one line by
`check_config`; `load_config` raises `ConfigError` on the first one.

The SMTP password is never part of the file nor of `Config`: it comes from `$INCIDENTS_SMTP_PASSWORD`
or from `password_file`, a file readable by its owner alone, and only `smtp_password()` reads it, at
the moment of logging in. Nothing here prints, logs or stores it.
"""

import os
from pathlib import Path

from incidents.config_checks import _parse, _password_file_problem, valid_email
from incidents.config_model import (
    DEFAULT_MAX_PER_HOUR,
    DEFAULT_PATH,
    DEFAULT_PORTS,
    LANGS,
    PASSWORD_ENV,
    SECURITIES,
    BulletinConfig,
    Config,
    ConfigError,
    Recipient,
    SmtpConfig,
)
from incidents.files import read_text
from incidents.taxonomy import SEVERITIES

# The dataclasses (config_model.py) and the validation (config_checks.py) live in their own modules;
# every public name stays importable from here.
__all__ = [
    "DEFAULT_MAX_PER_HOUR",
    "DEFAULT_PATH",
    "DEFAULT_PORTS",
    "LANGS",
    "PASSWORD_ENV",
    "SECURITIES",
    "SEVERITIES",
    "BulletinConfig",
    "Config",
    "ConfigError",
    "Recipient",
    "SmtpConfig",
    "check_config",
    "example_text",
    "load_config",
    "resolve_config_path",
    "smtp_password",
    "valid_email",
    "write_example",
]


def resolve_config_path(path: str | Path | None = None) -> Path:
    """The configuration path: the argument, else $INCIDENTS_CONFIG, else ./incidents.toml."""
    return Path(path or os.environ.get("INCIDENTS_CONFIG") or DEFAULT_PATH).expanduser()


def load_config(path: str | Path | None = None, *, required: bool = True) -> Config:
    """Read and validate the configuration. Raises ConfigError (one line) on the first problem.

    With `required=False` a missing file gives an empty Config (no smtp, no recipients, found=False).
    """
    file = resolve_config_path(path)
    if not file.exists():
        if required:
            raise ConfigError(f"no configuration at {file} (write one with 'incidents config init')")
        return Config(smtp=None, recipients=[], bulletin=BulletinConfig(), path=file, found=False)
    config = _parse(file)
    if config.problems:
        more = len(config.problems) - 1
        tail = f" (and {more} more: run 'incidents config check')" if more else ""
        raise ConfigError(config.problems[0] + tail)
    return config


def check_config(path: str | Path | None = None) -> list[str]:
    """Every problem of the configuration, one line each; [] when it is valid."""
    file = resolve_config_path(path)
    if not file.exists():
        return [f"no configuration at {file} (write one with 'incidents config init')"]
    try:
        return _parse(file).problems
    except ConfigError as e:  # unreadable, a folder, a FIFO: one line, as load_config gives
        return [str(e)]


def smtp_password(smtp: SmtpConfig) -> str | None:
    """The SMTP password: $INCIDENTS_SMTP_PASSWORD, else password_file's first line; None when neither.

    Raises ConfigError when password_file is missing, not a regular file, owned by someone else or
    readable by group or others (the check OpenSSH applies to private keys).
    """
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    if smtp.password_file is None:
        return None
    problem = _password_file_problem(smtp.password_file)
    if problem:
        raise ConfigError(problem)
    try:
        text = read_text(smtp.password_file)
    except OSError as e:
        raise ConfigError(f"smtp.password_file {smtp.password_file}: {e.strerror or e}") from None
    return text.splitlines()[0] if text else ""


def example_text() -> str:
    """The commented example configuration (incidents/config.example.toml, shipped in the package)."""
    return (Path(__file__).parent / "config.example.toml").read_text(encoding="utf-8")


def write_example(path: str | Path | None = None, *, force: bool = False) -> Path:
    """Write the commented example configuration; refuses to overwrite unless `force`. Returns the path.

    Raises ConfigError when the file exists (without `force`), its folder does not, or it cannot be written."""
    file = resolve_config_path(path)
    if file.exists() and not force:
        raise ConfigError(f"{file} already exists (use --force to overwrite it)")
    if not file.parent.exists():
        raise ConfigError(f"folder {file.parent} does not exist")
    try:
        file.write_text(example_text(), encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot write {file}: {e.strerror or e}") from None
    return file
