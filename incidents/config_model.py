"""The configuration's shape: the dataclasses `load_config` returns, its defaults and its one error."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from incidents.taxonomy import SEVERITIES

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
        """True when the recipient takes `category` (no categories listed means every one)."""
        return not self.categories or category in self.categories

    def wants_series(self, series: str) -> bool:
        """Spike episodes of `series` ('total' or a category) go to this recipient."""
        if not self.spikes:
            return False
        if series == "total":
            return not self.categories
        return self.wants_category(series)

    def wants_severity(self, severity: str | None) -> bool:
        """True when an incident of `severity` is at or above min_severity (taxonomy.SEVERITIES order);
        False without min_severity or for an unknown severity."""
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
