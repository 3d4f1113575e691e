"""What a raw log line must hold for a converted rule to select its row: literals found without parsing.

See prefilter.py for the conditions this reads and why a bound that errs towards "yes" is safe.
"""

from __future__ import annotations

import re

# The regex parser of the standard library (sre; private, but stable across 3.11-3.13): RE2's syntax is
# close enough to it for literal extraction, and regex_literals refuses what they read differently.
import re._parser as _sre
from re._constants import (
    ANY,
    ASSERT,
    ASSERT_NOT,
    AT,
    BRANCH,
    CATEGORY,
    IN,
    LITERAL,
    MAX_REPEAT,
    MIN_REPEAT,
    NEGATE,
    NOT_LITERAL,
    RANGE,
    SUBPATTERN,
)  # fmt: skip

from incidents.scan.prefilter import like_pieces

_MAX_EXACT = 64


def line_cover(node, verbatim: frozenset[str], derived: dict[str, tuple]):
    """What every raw line whose row satisfies `node` holds, as a tree: ('lit', s) a string (case aside),
    ('atom', s) a reader's atom (exact case, or the name of one of its MARKERS), ('or'|'and', [trees]);
    None when nothing is known (any line may match).

    `verbatim`: fields whose value is always a substring of the raw line. `derived`: field -> (atoms,
    spaces, null_otherwise): a line whose value of that field is not a substring of it, with each of the
    characters `spaces` read as a space (a '+' in a query string), holds one of `atoms` — or, with
    null_otherwise, the value is NULL unless the line holds one of `atoms`.
    """
    kind = node[0]
    if kind in ("true", "not", "null", "notnull", "cmp"):
        return None
    if kind == "or":
        parts = []
        for n in node[1]:
            c = line_cover(n, verbatim, derived)
            if c is None:
                return None
            parts.append(c)
        return parts[0] if len(parts) == 1 else ("or", parts)
    if kind == "and":
        parts = [c for c in (line_cover(n, verbatim, derived) for n in node[1]) if c is not None]
        if not parts:
            return None
        parts.sort(key=_score, reverse=True)
        return parts[0] if len(parts) == 1 else ("and", parts[:3])
    field = node[1]
    if kind == "like":
        pieces = like_pieces(node[2], node[3])
    elif kind == "eq":
        pieces = [node[2]] if type(node[2]) is str and node[2] else []
    elif kind == "regexp":
        lits = regex_literals(node[2])
        return _field_cover(field, lits, verbatim, derived)
    else:
        return None
    if not pieces:
        return None
    return _field_cover(field, {max(pieces, key=len)}, verbatim, derived)


def _field_cover(field, literals, verbatim, derived):
    """`literals`: strings one of which the field's value contains (None: not known)."""
    if field in derived:
        atoms, spaces, null_otherwise = derived[field]
        out = [("atom", x) for x in atoms]
        if not null_otherwise:  # the value is a substring of the line unless an atom is present
            if not literals:
                return None
            out += [("lit", x) for x in sorted({v for lit in literals for v in _spellings(lit, spaces)})]
        return out[0] if len(out) == 1 else ("or", out)
    if field in verbatim and literals:
        lits = [("lit", x) for x in sorted(literals)]
        return lits[0] if len(lits) == 1 else ("or", lits)
    return None


def _spellings(literal: str, spaces: str) -> list[str]:
    """How `literal` may be written in the raw line when each of `spaces` reads as a space (a '+' in a
    query string): every mix for up to 3 spaces, else its longest piece without one."""
    count = literal.count(" ")
    if not spaces or not count:
        return [literal]
    if count > 3:
        return [max(literal.split(" "), key=len)]
    out = [""]
    for c in literal:
        out = [o + x for o in out for x in ((" ", *spaces) if c == " " else (c,))]
    return out


def cover_strings(cover) -> list[tuple[str, str]]:
    """The ('lit'|'atom', string) leaves of a cover tree."""
    if cover[0] in ("lit", "atom"):
        return [cover]
    return [leaf for part in cover[1] for leaf in cover_strings(part)]


def cover_regex(cover, markers: dict[str, str]) -> str:
    """An RE2 regex that finds, in a block of lines, every line the cover tree allows (and maybe more).

    AND: two sets of literals are sought in either order or overlapping (fields may overlap in the
    line); anything else under AND is bounded by its best part alone.
    """
    kind = cover[0]
    if kind == "lit":
        return "(?i:" + re.escape(cover[1]) + ")"
    if kind == "atom":
        return markers[cover[1]] if cover[1] in markers else re.escape(cover[1])
    if kind == "or":
        lits, others = set(), []
        for leaf in or_leaves(cover):
            if leaf[0] == "lit":
                lits.add(leaf[1])
            else:
                text = cover_regex(leaf, markers)
                if text not in others:
                    others.append(text)
        return "(?:" + "|".join(([_alt(lits)] if lits else []) + others) + ")"
    first, second = (_literal_set(c) for c in cover[1][:2])
    if first is None or second is None:
        return cover_regex(cover[1][0], markers)
    either = [a + "[^\\n]*" + b for a, b in ((_alt(first), _alt(second)), (_alt(second), _alt(first)))]
    merged = {m for a in first for b in second for m in (*_overlaps(a, b), *_overlaps(b, a))}
    return "(?:" + "|".join(either + ([_alt(merged)] if merged else [])) + ")"


def or_leaves(cover) -> list:
    """The parts of nested ORs."""
    if cover[0] != "or":
        return [cover]
    return [leaf for part in cover[1] for leaf in or_leaves(part)]


def prune(cover, atoms: tuple[str, ...]):
    """The cover without what lines holding one of `atoms` satisfy (they are read anyway); COVERED if
    every line it allows holds one."""
    kind = cover[0]
    if kind == "atom":
        return COVERED if cover[1] in atoms else cover
    if kind == "lit":
        return cover
    parts = [prune(c, atoms) for c in cover[1]]
    if kind == "and":
        return COVERED if COVERED in parts else (kind, parts)
    parts = [p for p in parts if p is not COVERED]
    if not parts:
        return COVERED
    return parts[0] if len(parts) == 1 else (kind, parts)


COVERED = ("covered",)


def _literal_set(cover) -> set[str] | None:
    """Lower-cased ASCII literals one of which every line the cover tree allows holds, else None.

    An AND inside is bounded by its best part that has such a set (a line meeting all its parts meets
    each): "a .php path AND (an upload folder AND POST, OR cmd=)" still needs .php beside one of the
    folders or cmd=, not .php alone, so a site whose every page is PHP is not read line by line.
    """
    kind = cover[0]
    if kind == "lit":
        return {cover[1].lower()} if cover[1].isascii() else None
    if kind == "or":
        found: set[str] = set()
        for part in cover[1]:
            sub = _literal_set(part)
            if sub is None:
                return None
            found |= sub
        return found
    if kind == "and":
        sets = [x for x in (_literal_set(part) for part in cover[1]) if x]
        return max(sets, key=_score) if sets else None
    return None


def _alt(strings) -> str:
    return "(?i:" + "|".join(re.escape(x) for x in sorted(strings)) + ")"


def _overlaps(a: str, b: str) -> list[str]:
    """The shortest strings holding both `a` and `b` where they share characters (a first)."""
    if b in a:
        return [a]
    return [a + b[k:] for k in range(1, min(len(a), len(b))) if a.endswith(b[:k])]


# Characters in nearly every log line: a one-character literal made of these filters nothing.
_COMMON = frozenset("=/?&.-_ :;,+%0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _score(cover) -> tuple[int, int, int]:
    """Prefer covers whose shortest literal is longest (fewer chance hits), then literals with a rarer
    character, then fewer literals. `cover`: a set of strings or a cover tree."""
    if isinstance(cover, tuple):
        strings = [s for _, s in cover_strings(cover)]
        if any(kind == "atom" for kind, _ in cover_strings(cover)):
            return (2, 1, -len(strings))  # a reader's own atoms are chosen to be selective
    else:
        strings = list(cover)
    rare = min(int(any(c not in _COMMON for c in x)) for x in strings)
    return (min(len(x) for x in strings), rare, -len(strings))


def regex_literals(pattern: str) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` contains (case aside), or None if none is known.

    Read with Python's own regex parser; a pattern it reads differently from RE2 (POSIX classes) or
    cannot read gives None, which only costs speed.
    """
    if "[:" in pattern or "\\Q" in pattern or "\\p" in pattern or "\\P" in pattern:
        return None
    try:
        parsed = _sre.parse(pattern)
    except Exception:  # noqa: BLE001 - any syntax Python does not share with RE2: no literal known
        return None
    _, required = _seq(list(parsed))
    if not required or min(len(x) for x in required) == 0 or any("\n" in x for x in required):
        return None
    return frozenset(required)


def _seq(items) -> tuple[set[str] | None, set[str] | None]:
    """(exact, required) of a concatenation: the finite set of strings it matches (or None), and a set of
    strings one of which any match contains (or None)."""
    options: list[set[str]] = []
    run: set[str] | None = {""}
    whole: set[str] | None = {""}
    for op, av in items:
        exact, required = _item(op, av)
        if exact is not None and run is not None:
            joined = {a + b for a in run for b in exact}
            if len(joined) <= _MAX_EXACT:
                run = joined
                if whole is not None:
                    whole = run
                continue
        if run:
            options.append(run)
        whole = None
        if required:
            options.append(required)
        run = set(exact) if exact is not None and len(exact) <= _MAX_EXACT else {""}
    if run:
        options.append(run)
    options = [o for o in options if o and min(len(x) for x in o) > 0]
    best = max(options, key=_score, default=None)
    return whole, best


def _item(op, av) -> tuple[set[str] | None, set[str] | None]:
    if op is LITERAL:
        return {chr(av)}, {chr(av)}
    if op is AT:
        return {""}, None
    if op is SUBPATTERN:
        return _seq(list(av[-1]))
    if op is BRANCH:
        exacts, reqs = [], []
        for branch in av[1]:
            e, r = _seq(list(branch))
            exacts.append(e)
            reqs.append(r if r else e)
        exact = set().union(*exacts) if all(e is not None for e in exacts) else None
        if exact is not None and len(exact) > _MAX_EXACT:
            exact = None
        req = set().union(*reqs) if all(r for r in reqs) else None
        if req is not None and min(len(x) for x in req) == 0:
            req = None
        return exact, req
    if op in (MAX_REPEAT, MIN_REPEAT):
        low, high, sub = av
        e, r = _seq(list(sub))
        if low == 0:
            return None, None
        exact = e if (low == high == 1) else None
        return exact, (r if r else e)
    if op is IN:
        chars = set()
        for kind, value in av:
            if kind is LITERAL:
                chars.add(chr(value))
            elif kind is RANGE and value[1] - value[0] < 16:
                chars.update(chr(c) for c in range(value[0], value[1] + 1))
            else:  # NEGATE, CATEGORY, wide ranges
                return None, None
        return chars, chars
    if op in (ANY, NOT_LITERAL, CATEGORY, ASSERT, ASSERT_NOT, NEGATE):
        return None, None
    return None, None
