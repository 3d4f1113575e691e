"""Write the README's screenshots of `incidents tui` (SVG, from Textual's own screenshot) from the demo store.

    uv run python scripts/tui_screenshot.py [--db demo.db] [--out docs/]

Without --db the demo store is built first in a temporary folder (the same `incidents demo` data).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

SHOTS = (
    ("tui-overview.svg", "2020-11", ()),
    ("tui-spikes.svg", "2020-11", ("3",)),
)


async def shoot(db: Path, out: Path, name: str, month: str, keys: tuple[str, ...]) -> None:
    from incidents.tui.app import IncidentsApp
    from incidents.tui.data import StoreReader

    app = IncidentsApp(StoreReader(db), month=month, poll=0)
    async with app.run_test(size=(100, 34)) as pilot:
        await ready(app, pilot)
        for key in keys:
            await pilot.press(key)
            await ready(app, pilot)
        app.save_screenshot(name, str(out))


async def ready(app, pilot) -> None:
    """Until the screen shows every part of its data (StoreScreen.ready), then one more frame."""
    while not getattr(app.screen, "ready", True):
        await pilot.pause(0.05)
    await pilot.pause(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.db
    if db is None:
        db = Path(tempfile.mkdtemp()) / "demo.db"
        subprocess.run(["incidents", "demo", "--db", str(db)], check=True, stdout=subprocess.DEVNULL)
    for name, month, keys in SHOTS:
        asyncio.run(shoot(db, args.out, name, month, keys))
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
