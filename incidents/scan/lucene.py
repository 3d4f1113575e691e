"""Sigma values and RE2/Python regexes as Lucene regular expressions (for the OpenSearch/Elasticsearch export).

Lucene matches a regex against the WHOLE term, has no inline flags, no anchors, no `\\d \\w \\s`, and
treats `# @ & < > ~ "` as operators (Lucene RegExp syntax; the classic query parser also ends a regex
at an unescaped `/`). Keyword fields are matched case-sensitively. So a Sigma value (case-insensitive,
`*` wildcards, substring by `contains`) becomes `/.*[uU][nN][iI][oO][nN].*/`, and a rule regex `x` that
scan searches for anywhere becomes `/.*(x).*/` with each construct rewritten. What has no Lucene form
(word boundaries, anchors inside the pattern, back-references, look-arounds) raises Untranslatable
with the reason, so the export names the rule instead of shipping a query that means something else.
"""

from __future__ import annotations

_CLASSES = {"d": "0-9", "w": "a-zA-Z0-9_", "s": " \\t\\n\\r\\f\\v"}


class Untranslatable(ValueError):
    """A regex construct Lucene's RegExp cannot express."""


def literal(char: str, caseless: bool) -> str:
    """One literal character as Lucene regex, both cases when `caseless`."""
    if caseless and char.lower() != char.upper() and len(char.lower()) == len(char.upper()) == 1:
        return f"[{_esc(char.lower())}{_esc(char.upper())}]"
    return _esc(char)


def _esc(char: str) -> str:
    return char if char.isalnum() and char.isascii() else "\\" + char


def sigma_string(parts, *, caseless: bool = True) -> str:
    """A pySigma SigmaString's parts (str and SpecialChars) as a Lucene regex body (whole-term match)."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.extend(literal(c, caseless) for c in part)
        elif getattr(part, "name", "") == "WILDCARD_MULTI":
            out.append(".*")
        elif getattr(part, "name", "") == "WILDCARD_SINGLE":
            out.append(".")
        else:
            raise Untranslatable(f"value part {part!r}")
    return "".join(out)


def regex(pattern: str) -> str:
    """A search regex (matching anywhere, as scan's REGEXP does) as a Lucene regex body."""
    caseless = False
    while pattern.startswith("(?"):
        end = pattern.find(")")
        flags = pattern[2:end]
        if not flags or not set(flags) <= set("ims") or end < 0:
            break
        caseless = caseless or "i" in flags
        pattern = pattern[end + 1 :]
    if pattern.startswith("(^|"):  # "(^|&)x": at the start or after &, i.e. ^(.*&)?x
        close = _group_end(pattern, 0)
        pattern = "^(?:.*(?:" + pattern[3:close] + "))?" + pattern[close + 1 :]
    start = pattern.startswith("^")
    if start:
        pattern = pattern[1:]
    end = pattern.endswith("$") and not _escaped_at(pattern, len(pattern) - 1)
    if end:
        pattern = pattern[:-1]
    body = _translate(pattern, caseless)
    return ("" if start else ".*") + f"({body})" + ("" if end else ".*")


def _group_end(p: str, i: int) -> int:
    """Index of the ')' closing the group opened at p[i]."""
    depth, j, in_class = 0, i, False
    while j < len(p):
        c = p[j]
        if c == "\\":
            j += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    raise Untranslatable("an unclosed group")


def _escaped_at(text: str, i: int) -> bool:
    n = 0
    while i - 1 - n >= 0 and text[i - 1 - n] == "\\":
        n += 1
    return n % 2 == 1


def _translate(p: str, caseless: bool) -> str:
    out: list[str] = []
    i, n = 0, len(p)
    while i < n:
        c = p[i]
        if c == "\\":
            if i + 1 >= n:
                raise Untranslatable("a trailing backslash")
            e = p[i + 1]
            i += 2
            if e in _CLASSES:
                out.append(f"[{_CLASSES[e]}]")
            elif e in "DWS":
                out.append(f"[^{_CLASSES[e.lower()]}]")
            elif e in "bBAZz" or e.isdigit():
                raise Untranslatable(
                    f"\\{e} (word boundaries, anchors and back-references have no Lucene form)"
                )
            elif e in "ntrfv":
                out.append({"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}[e])
            elif e == "x" and i + 2 <= n:
                out.append(literal(chr(int(p[i : i + 2], 16)), caseless))
                i += 2
            else:
                out.append(literal(e, caseless))
            continue
        if c == "[":
            j, cls = _class(p, i + 1, caseless)
            out.append(cls)
            i = j
            continue
        if c == "(":
            if p.startswith("(?:", i):
                i += 3
            elif p.startswith("(?P<", i):
                i = p.index(">", i) + 1
            elif p.startswith("(?", i):
                raise Untranslatable("look-arounds and inline flags inside the pattern have no Lucene form")
            else:
                i += 1
            out.append("(")
            continue
        if c in "*+?":
            out.append(c)
            i += 1
            if i < n and p[i] in "?+":  # lazy or possessive: the same set of whole matches
                i += 1
            continue
        if c == "{":
            j = p.find("}", i)
            if j < 0:
                out.append(literal(c, caseless))
                i += 1
                continue
            out.append(p[i : j + 1])
            i = j + 1
            if i < n and p[i] == "?":
                i += 1
            continue
        if c in ")|.":
            out.append(c)
            i += 1
            continue
        if c in "^$":
            raise Untranslatable(f"the anchor {c} inside the pattern has no Lucene form")
        out.append(literal(c, caseless))
        i += 1
    return "".join(out)


def _class(p: str, i: int, caseless: bool) -> tuple[int, str]:
    """Translate a character class starting after '['; returns (index after ']', Lucene class)."""
    out = ["["]
    if i < len(p) and p[i] == "^":
        out.append("^")
        i += 1
    first = True
    items: list[str] = []
    while i < len(p) and (p[i] != "]" or first):
        first = False
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            e = p[i + 1]
            i += 2
            if e in _CLASSES:
                items.append(_CLASSES[e])
            elif e in "DWS":
                raise Untranslatable(f"\\{e} inside a class has no Lucene form")
            elif e in "ntrfv":
                items.append({"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}[e])
            else:
                items.append(_esc(e))
            continue
        if i + 2 < len(p) and p[i + 1] == "-" and p[i + 2] != "]":
            lo, hi = c, p[i + 2]
            items.append(f"{_esc(lo)}-{_esc(hi)}")
            if caseless and lo.isalpha() and hi.isalpha():
                items.append(f"{_esc(lo.swapcase())}-{_esc(hi.swapcase())}")
            i += 3
            continue
        items.append(_esc(c))
        if caseless and c.isalpha() and c.swapcase() != c:
            items.append(_esc(c.swapcase()))
        i += 1
    if i >= len(p):
        raise Untranslatable("an unclosed character class")
    out.extend(items)
    out.append("]")
    return i + 1, "".join(out)
