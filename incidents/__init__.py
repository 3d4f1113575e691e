"""incidents: count, watch and report cyber-security incidents."""

__version__ = "0.1.0"
