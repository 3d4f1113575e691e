"""The `incidents` command line: each command opens the store, calls one library function, prints.

The commands live one area a module (store, rules, spikes, bulletin); importing a module registers its
commands on `app`, in the order `incidents --help` lists them, which follows the data: sources, store,
detection, reports. Heavy libraries (pandas, scikit-learn, matplotlib, pySigma) are imported inside the
commands that use them, so `incidents --help` stays instant. Only this package imports typer.
"""

# isort: off
from incidents.cli.common import app, main
from incidents.cli import store_commands, rules_commands, spikes_commands, bulletin_commands  # noqa: F401
from incidents.cli import alert_commands  # noqa: F401
from incidents.cli import tui_commands  # noqa: F401
from incidents.cli import doctor_commands  # noqa: F401
# isort: on

__all__ = ["app", "main"]
