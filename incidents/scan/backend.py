"""pysigma-backend-sqlite as scan uses it: over the events table, with Sigma keyword searches supported."""

from __future__ import annotations


def _on_message(cond):
    """A Sigma keyword (a value bound to no field) as `message|contains: value`."""
    from sigma.conditions import ConditionFieldEqualsValueExpression
    from sigma.types import SigmaString, SpecialChars

    value = cond.value if isinstance(cond.value, SigmaString) else SigmaString(str(cond.value))
    parts = tuple(value.s)
    if not parts or parts[0] != SpecialChars.WILDCARD_MULTI:
        parts = (SpecialChars.WILDCARD_MULTI, *parts)
    if parts[-1] != SpecialChars.WILDCARD_MULTI:
        parts = (*parts, SpecialChars.WILDCARD_MULTI)
    contains = SigmaString("")
    contains.s = parts
    bound = ConditionFieldEqualsValueExpression("message", contains)
    bound.parent = cond.parent
    return bound


def make_backend(pipeline, table: str = "events"):
    """pysigma-backend-sqlite over the events table, with Sigma keyword searches (a `keywords:` list, no
    field) sent to the message text as a case-insensitive substring match (LIKE '%...%')."""
    from sigma.backends.sqlite import sqliteBackend

    class Backend(sqliteBackend):
        def convert_condition_val_str(self, cond, state):
            return self.convert_condition_field_eq_val_str(_on_message(cond), state)

        def convert_condition_val_num(self, cond, state):
            return self.convert_condition_field_eq_val_str(_on_message(cond), state)

    return Backend(pipeline, table=table, timestamp_field="epoch", timestamp_format="unix")
