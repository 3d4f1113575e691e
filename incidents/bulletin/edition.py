"""Which bulletin is written: the public or the internal edition, its TLP marking, issue date and issuer.

Public edition: what a centre publishes as generated. No command-line hint, no internal check (data
cut-off, published-vs-computed differences, notes on the store), no victim name (the most attacked
targets) unless `name_targets`; marked TLP:CLEAR unless told otherwise. Internal edition: everything,
with the provenance and the checks; marked TLP:AMBER by default.

TLP is FIRST's Traffic Light Protocol 2.0 (https://www.first.org/tlp/): the label is written
`TLP:CLEAR`, `TLP:GREEN`, `TLP:AMBER`, `TLP:AMBER+STRICT` or `TLP:RED`, in capitals, at the top of
the document, and in colour on a black background where colour is possible (RED #FF2B2B,
AMBER #FFC000, GREEN #33FF00, CLEAR #FFFFFF).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from incidents.files import NotRegularFile, read_text

EDITIONS = ("public", "internal")
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
DEFAULT_TLP = {"public": "clear", "internal": "amber"}
# FIRST TLP 2.0, "TLP colour-coding": text colour on a black (#000000) background.
TLP_COLOURS = {
    "clear": "#FFFFFF",
    "green": "#33FF00",
    "amber": "#FFC000",
    "amber+strict": "#FFC000",
    "red": "#FF2B2B",
}


class EditionError(ValueError):
    """An edition, TLP level or configuration the bulletin cannot use."""


@dataclass(frozen=True)
class BulletinSettings:
    """The `[bulletin]` table of the configuration file (contract 2: incidents.config.BulletinConfig)."""

    issuer: str | None = None
    contact: str | None = None
    url: str | None = None
    recommendations: Path | None = None  # a Jinja2/Markdown template the centre edits


@dataclass(frozen=True)
class Edition:
    """How one bulletin is issued. `issued` is the date of issue 'YYYY-MM-DD' (default: today, UTC)."""

    name: str = "internal"
    tlp: str | None = None
    issued: str | None = None
    issuer: str | None = None
    contact: str | None = None
    url: str | None = None
    name_targets: bool | None = None
    recommendations: Path | None = None

    def __post_init__(self) -> None:
        if self.name not in EDITIONS:
            raise EditionError(f"edition must be one of {', '.join(EDITIONS)}, got {self.name!r}")
        if self.tlp is not None and self.tlp.lower() not in TLP_LEVELS:
            raise EditionError(f"TLP must be one of {', '.join(TLP_LEVELS)}, got {self.tlp!r}")

    @property
    def public(self) -> bool:
        """True for the public edition (no internal checks, no victim names unless configured)."""
        return self.name == "public"

    @property
    def internal(self) -> bool:
        """True for the internal edition."""
        return self.name == "internal"

    @property
    def tlp_level(self) -> str:
        """The TLP level in lower case ('clear', 'green', 'amber', 'amber+strict', 'red'), the edition's default unless set
        (FIRST TLP 2.0)."""
        return (self.tlp or DEFAULT_TLP[self.name]).lower()

    @property
    def tlp_label(self) -> str:
        """'TLP:CLEAR', 'TLP:AMBER+STRICT' (FIRST TLP 2.0 spelling)."""
        return "TLP:" + self.tlp_level.upper()

    @property
    def tlp_colour(self) -> str:
        """The colour FIRST TLP 2.0 gives the level's label, as a CSS hex colour ('#FFC000')."""
        return TLP_COLOURS[self.tlp_level]

    @property
    def names_targets(self) -> bool:
        """Whether victim names (targets) appear: always internally, publicly only when asked."""
        return self.internal if self.name_targets is None else bool(self.name_targets)

    @property
    def issue_date(self) -> str:
        """The date of issue, 'YYYY-MM-DD': the one given, else today (UTC)."""
        return self.issued or datetime.now(UTC).strftime("%Y-%m-%d")


def load_settings(path: str | Path | None) -> BulletinSettings:
    """The `[bulletin]` table of a TOML configuration file; no file given or found: empty settings.

    The path resolution and validation of the whole file belong to incidents.config (contract 2);
    until it is present this reads the one table the bulletin needs. Raises EditionError for an
    unreadable or malformed file. A relative `recommendations` path is relative to the file.
    """
    config = _config_module()
    if config is not None:
        try:
            loaded = config.load_config(path, required=path is not None)
        except config.ConfigError as e:
            raise EditionError(str(e)) from None
        b = getattr(loaded, "bulletin", None)
        if b is None:
            return BulletinSettings()
        return BulletinSettings(b.issuer, b.contact, getattr(b, "url", None), b.recommendations)
    return _read_bulletin_table(path)


def _config_module():
    import importlib

    try:
        config = importlib.import_module("incidents.config")
    except ModuleNotFoundError as e:
        if e.name != "incidents.config":
            raise
        return None
    return config if hasattr(config, "load_config") else None


def _read_bulletin_table(path: str | Path | None) -> BulletinSettings:
    import os

    file = Path(path or os.environ.get("INCIDENTS_CONFIG") or "incidents.toml")
    if not file.exists():
        if path is not None:
            raise EditionError(f"no configuration file at {file}")
        return BulletinSettings()
    try:
        data = tomllib.loads(read_text(file))
    except NotRegularFile as e:
        raise EditionError(str(e)) from None
    except OSError as e:
        raise EditionError(f"cannot read {file}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise EditionError(f"cannot read {file}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise EditionError(f"{file}: {e}") from None
    table = data.get("bulletin", {})
    if not isinstance(table, dict):
        raise EditionError(f"{file}: [bulletin] must be a table")
    for key in ("issuer", "contact", "url", "recommendations"):
        if key in table and not isinstance(table[key], str):
            raise EditionError(f"{file}: bulletin.{key} must be a string")
    rec = table.get("recommendations")
    return BulletinSettings(
        issuer=table.get("issuer"),
        contact=table.get("contact"),
        url=table.get("url"),
        recommendations=(file.parent / rec) if rec else None,
    )
