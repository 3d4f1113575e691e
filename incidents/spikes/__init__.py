"""Spike detection on incident counts: a prospective improved-Farrington detector (detector.py) and an
IsolationForest over the daily mix of incidents (mix.py)."""
