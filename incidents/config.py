"""The configuration contract: `incidents.toml` read with `tomllib` and validated into dataclasses.

Where it is read from: `--config`, else `$INCIDENTS_CONFIG`, else `./incidents.toml`. Tables:
`[smtp]` (the mail server alerts go through), `[[recipients]]` (who receives what), `[bulletin]` (the
issuer and contact the monthly bulletin prints). Every problem is reported on one line by
`check_config`; `load_config` raises `ConfigError` on the first one.

The SMTP password is never part of the file nor of `Config`: it comes from `$INCIDENTS_SMTP_PASSWORD`
or from `password_file`, a file readable by its owner alone, and only `smtp_password()` reads it, at
the moment of logging in. Nothing here prints, logs or stores it.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from incidents.taxonomy import CATEGORIES, SEVERITIES

DEFAULT_PATH = "incidents.toml"
PASSWORD_ENV = "INCIDENTS_SMTP_PASSWORD"
SECURITIES = ("none", "starttls", "tls")
LANGS = ("en", "vi")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
DEFAULT_MAX_PER_HOUR = 12


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid."""


@dataclass(frozen=True)
class SmtpConfig:
    """The mail server: `security` is none (plain, for a local relay), starttls (RFC 3207) or tls (RFC 8314)."""

    host: str
    port: int
    security: str = "starttls"
    user: str = ""  # "" = no login
    sender: str = ""
    password_file: Path | None = None
    timeout: float = 30.0  # seconds, per SMTP command


@dataclass(frozen=True)
class Recipient:
    """One mailbox and what it receives.

    categories: () = every category; spikes: spike episodes in those categories (and the total when
    categories is empty); min_severity: incidents at or above it (None = no incident alerts);
    max_per_hour: mails per rolling hour before the rest fold into one digest; digest_at: 'HH:MM' local
    time (store's zone) of a daily summary, or None; feeds: feed-silence alerts; lang: 'en' or 'vi'.
    """

    email: str
    categories: tuple[str, ...] = ()
    spikes: bool = False
    min_severity: str | None = None
    max_per_hour: int = DEFAULT_MAX_PER_HOUR
    digest_at: str | None = None
    feeds: bool = False
    lang: str = "en"

    def wants_category(self, category: str) -> bool:
        return not self.categories or category in self.categories

    def wants_series(self, series: str) -> bool:
        """Spike episodes of `series` ('total' or a category) go to this recipient."""
        if not self.spikes:
            return False
        if series == "total":
            return not self.categories
        return self.wants_category(series)

    def wants_severity(self, severity: str | None) -> bool:
        if self.min_severity is None or severity not in SEVERITIES:
            return False
        return SEVERITIES.index(severity) >= SEVERITIES.index(self.min_severity)


@dataclass(frozen=True)
class BulletinConfig:
    """What the bulletin prints about its issuer; `recommendations` is a Jinja2/Markdown template path."""

    issuer: str | None = None
    contact: str | None = None
    recommendations: Path | None = None
    url: str | None = None


@dataclass
class Config:
    smtp: SmtpConfig | None
    recipients: list[Recipient]
    bulletin: BulletinConfig
    path: Path
    found: bool = True  # False: no file there (load_config(required=False))
    problems: list[str] = field(default_factory=list, repr=False)


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
    return _parse(file).problems


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
    text = smtp.password_file.read_text(encoding="utf-8")
    return text.splitlines()[0] if text else ""


def _password_file_problem(file: Path) -> str | None:
    try:
        st = file.stat()
    except OSError as e:
        return f"smtp.password_file {file}: {e.strerror or e}"
    if not stat.S_ISREG(st.st_mode):
        return f"smtp.password_file {file} is not a regular file"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"smtp.password_file {file} belongs to another user"
    if st.st_mode & 0o077:
        return f"smtp.password_file {file} is readable by others (run: chmod 600 {file})"
    if not os.access(file, os.R_OK):
        return f"smtp.password_file {file} is not readable"
    return None


# --- validation ----------------------------------------------------------------------------------------

_SMTP_KEYS = ("host", "port", "security", "user", "sender", "password_file", "timeout")
_RECIPIENT_KEYS = (
    "email",
    "categories",
    "spikes",
    "min_severity",
    "max_per_hour",
    "digest_at",
    "feeds",
    "lang",
)
_BULLETIN_KEYS = ("issuer", "contact", "url", "recommendations")
_TABLES = ("smtp", "recipients", "bulletin")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _Problems(list):
    def __init__(self, file: Path):
        super().__init__()
        self.file = file

    def add(self, where: str, what: str) -> None:
        self.append(f"{self.file}: {where}: {what}")


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown_keys(table: dict, known: tuple[str, ...], where: str, problems: _Problems) -> None:
    for key in table:
        if key not in known:
            if key == "password":
                problems.add(
                    f"{where}.password",
                    f"the password is never read from this file: set ${PASSWORD_ENV} or password_file",
                )
                continue
            problems.add(f"{where}.{key}", f"unknown key{_suggest(key, known)} (known: {', '.join(known)})")


def _parse(file: Path) -> Config:
    problems = _Problems(file)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read {file}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        problems.append(f"{file}: not UTF-8 text")
        data = {}
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{file}: not valid TOML: {e}")
        data = {}
    for key in data:
        if key not in _TABLES:
            problems.add(key, f"unknown table or key{_suggest(key, _TABLES)} (known: {', '.join(_TABLES)})")

    smtp = None
    if "smtp" in data:
        if isinstance(data["smtp"], dict):
            smtp = _smtp(data["smtp"], file.parent, problems)
        else:
            problems.add("smtp", "must be a table: [smtp]")
    recipients: list[Recipient] = []
    raw_recipients = data.get("recipients", [])
    if not isinstance(raw_recipients, list):
        problems.add("recipients", "must be an array of tables: [[recipients]]")
        raw_recipients = []
    seen: set[str] = set()
    for number, table in enumerate(raw_recipients, start=1):
        where = f"recipients[{number}]"
        if not isinstance(table, dict):
            problems.add(where, "must be a table: [[recipients]]")
            continue
        recipient = _recipient(table, where, problems)
        if recipient is None:
            continue
        if recipient.email.lower() in seen:
            problems.add(f"{where}.email", f"{recipient.email} is listed twice: merge its two entries")
        seen.add(recipient.email.lower())
        recipients.append(recipient)
    if recipients and smtp is None:
        problems.add("smtp", "recipients are listed but there is no [smtp] table to send through")
    bulletin = BulletinConfig()
    if "bulletin" in data:
        if isinstance(data["bulletin"], dict):
            bulletin = _bulletin(data["bulletin"], file.parent, problems)
        else:
            problems.add("bulletin", "must be a table: [bulletin]")
    return Config(smtp=smtp, recipients=recipients, bulletin=bulletin, path=file, problems=list(problems))


def _str(table: dict, key: str, where: str, problems: _Problems, default: str | None = None) -> str | None:
    value = table.get(key, default)
    if value is not None and not isinstance(value, str):
        problems.add(f"{where}.{key}", f"must be a string, not {value!r}")
        return default
    if value is not None and any(c in value for c in "\r\n\0"):
        problems.add(f"{where}.{key}", "must not contain line breaks or NUL")
        return default
    return value


def _bool(table: dict, key: str, where: str, problems: _Problems) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        problems.add(f"{where}.{key}", f"must be true or false, not {value!r}")
        return False
    return value


def valid_email(address: str) -> str | None:
    """The normalised address, or None when it is not one mailbox (RFC 5321/5322 via email-validator)."""
    from email_validator import EmailNotValidError, validate_email

    if not isinstance(address, str) or any(c in address for c in '\r\n\0,;<>" '):
        return None
    try:
        return validate_email(address, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError:
        return None


def _email_problem(address: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as e:
        return f"{address!r} is not a valid e-mail address: {e}"
    return f"{address!r} is not a valid e-mail address: one mailbox, no name, comma or line break"


def _smtp(table: dict, folder: Path, problems: _Problems) -> SmtpConfig | None:
    _unknown_keys(table, _SMTP_KEYS, "smtp", problems)
    host = _str(table, "host", "smtp", problems)
    if not host:
        problems.add("smtp.host", "missing: the mail server's name or address")
    security = _str(table, "security", "smtp", problems, "starttls")
    if security not in SECURITIES:
        problems.add(
            "smtp.security",
            f"{security!r} is not one of {', '.join(SECURITIES)}{_suggest(security, SECURITIES)}",
        )
        security = "starttls"
    port = table.get("port", DEFAULT_PORTS[security])
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        problems.add("smtp.port", f"must be a port number 1-65535, not {port!r}")
        port = DEFAULT_PORTS[security]
    user = _str(table, "user", "smtp", problems, "") or ""
    sender = _str(table, "sender", "smtp", problems, "") or ""
    if not sender:
        problems.add("smtp.sender", "missing: the From address of the alerts")
    elif valid_email(sender) is None:
        problems.add("smtp.sender", _email_problem(sender))
    timeout = table.get("timeout", 30.0)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 < timeout <= 600:
        problems.add("smtp.timeout", f"must be seconds between 0 and 600, not {timeout!r}")
        timeout = 30.0
    password_file = None
    raw_file = _str(table, "password_file", "smtp", problems)
    if raw_file:
        password_file = Path(raw_file).expanduser()
        if not password_file.is_absolute():
            password_file = folder / password_file
        problem = _password_file_problem(password_file)
        if problem:
            problems.append(f"{problems.file}: {problem}")
    if user and not raw_file and not os.environ.get(PASSWORD_ENV):
        problems.add(
            "smtp.user", f"is set but there is no password: set ${PASSWORD_ENV} or smtp.password_file"
        )
    if not host:
        return None
    return SmtpConfig(
        host=host,
        port=port,
        security=security,
        user=user,
        sender=sender,
        password_file=password_file,
        timeout=float(timeout),
    )


def _recipient(table: dict, where: str, problems: _Problems) -> Recipient | None:
    _unknown_keys(table, _RECIPIENT_KEYS, where, problems)
    email = _str(table, "email", where, problems)
    if not email:
        problems.add(f"{where}.email", "missing: the recipient's address")
        return None
    if valid_email(email) is None:
        problems.add(f"{where}.email", _email_problem(email))
        return None
    categories = table.get("categories", [])
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        problems.add(f"{where}.categories", f"must be a list of category names, not {categories!r}")
        categories = []
    known = []
    for c in categories:
        if c in CATEGORIES:
            known.append(c)
        else:
            problems.add(
                f"{where}.categories",
                f"unknown category {c!r}{_suggest(c, CATEGORIES)} (known: {', '.join(CATEGORIES)})",
            )
    min_severity = _str(table, "min_severity", where, problems)
    if min_severity is not None and min_severity not in SEVERITIES:
        problems.add(
            f"{where}.min_severity",
            f"unknown severity {min_severity!r}{_suggest(min_severity, SEVERITIES)} (known: {', '.join(SEVERITIES)})",
        )
        min_severity = None
    max_per_hour = table.get("max_per_hour", DEFAULT_MAX_PER_HOUR)
    if not isinstance(max_per_hour, int) or isinstance(max_per_hour, bool) or max_per_hour < 1:
        problems.add(
            f"{where}.max_per_hour", f"must be a whole number of mails, at least 1, not {max_per_hour!r}"
        )
        max_per_hour = DEFAULT_MAX_PER_HOUR
    digest_at = _str(table, "digest_at", where, problems)
    if digest_at is not None and not _HHMM.match(digest_at):
        problems.add(f"{where}.digest_at", f"must be a local time 'HH:MM' (24 h), not {digest_at!r}")
        digest_at = None
    lang = _str(table, "lang", where, problems, "en")
    if lang not in LANGS:
        problems.add(f"{where}.lang", f"must be one of {', '.join(LANGS)}, not {lang!r}")
        lang = "en"
    spikes = _bool(table, "spikes", where, problems)
    feeds = _bool(table, "feeds", where, problems)
    if not (spikes or feeds or min_severity or digest_at) and "min_severity" not in table:
        problems.add(where, f"{email} receives nothing: set spikes, min_severity, feeds or digest_at")
    return Recipient(
        email=email,
        categories=tuple(known),
        spikes=spikes,
        min_severity=min_severity,
        max_per_hour=max_per_hour,
        digest_at=digest_at,
        feeds=feeds,
        lang=lang,
    )


def _bulletin(table: dict, folder: Path, problems: _Problems) -> BulletinConfig:
    _unknown_keys(table, _BULLETIN_KEYS, "bulletin", problems)
    issuer = _str(table, "issuer", "bulletin", problems)
    contact = _str(table, "contact", "bulletin", problems)
    url = _str(table, "url", "bulletin", problems)
    if url is not None and not re.match(r"^https?://[^\s/]+", url):
        problems.add("bulletin.url", f"must be an http(s) address, not {url!r}")
        url = None
    recommendations = None
    raw = _str(table, "recommendations", "bulletin", problems)
    if raw:
        recommendations = Path(raw).expanduser()
        if not recommendations.is_absolute():
            recommendations = folder / recommendations
        if not recommendations.is_file():
            problems.add("bulletin.recommendations", f"no template file at {recommendations}")
            recommendations = None
    return BulletinConfig(issuer=issuer, contact=contact, recommendations=recommendations, url=url)


def example_text() -> str:
    """The commented example configuration (incidents/config.example.toml, shipped in the package)."""
    return (Path(__file__).parent / "config.example.toml").read_text(encoding="utf-8")


def write_example(path: str | Path | None = None, *, force: bool = False) -> Path:
    """Write the commented example configuration; refuses to overwrite unless `force`. Returns the path."""
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
