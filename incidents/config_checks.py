"""Validating `incidents.toml`: every problem of the file on one line, with the key it is about."""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from pathlib import Path

from incidents.config_model import (
    DEFAULT_MAX_PER_HOUR,
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
from incidents.files import NotRegularFile, read_text, regular_problem
from incidents.taxonomy import CATEGORIES, SEVERITIES


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
        data = tomllib.loads(read_text(file))
    except NotRegularFile as e:
        raise ConfigError(str(e)) from None
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


def _beside(raw: str, folder: Path) -> Path:
    """A path written in the file: `~` expanded, a relative one taken from the file's own folder."""
    path = Path(raw).expanduser()
    return path if path.is_absolute() else folder / path


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
        password_file = _beside(raw_file, folder)
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
        recommendations = _beside(raw, folder)
        if not recommendations.exists():
            problems.add("bulletin.recommendations", f"no template file at {recommendations}")
            recommendations = None
        elif problem := regular_problem(recommendations):
            problems.add("bulletin.recommendations", problem)
            recommendations = None
    return BulletinConfig(issuer=issuer, contact=contact, recommendations=recommendations, url=url)
