"""Cheap upper bounds of the converted rules: which rows a rule may select (cover.py: which raw lines).

The rules stay what pySigma makes of them: SQL conditions over the events table, run by SQLite. This
module reads that SQL (the small grammar pysigma-backend-sqlite emits: AND/OR/NOT, COALESCE, LIKE ...
ESCAPE, =, comparisons, REGEXP, IS [NOT] NULL, IN) and derives two filters that may say "yes" too often
but never "no" wrongly:

- `row_filter`: may this parsed row satisfy the condition? Only rows it passes are written to the scratch
  table, where SQLite then judges them exactly — so the incidents are the same as with every row written.
- `cover.line_cover`: what the raw line must hold (literal strings, case aside) for the condition to
  hold, or None when nothing is known. Lines that hold none of it skip field extraction.

Soundness arguments: SQLite's LIKE and NOCASE fold ASCII case only, RE2's (?i) folds Unicode simple case;
`str.casefold` maps every character of such a fold orbit to the same string, character by character, so
a substring (prefix, suffix, equal string) under either folding is one under casefold too. NOT is
bounded by "yes" (a filter that errs only towards "yes" cannot bound a negation). Anything this module
cannot read raises Unsupported, and the caller then writes every row (the exact, slower path).
"""

from __future__ import annotations

import re
from collections.abc import Callable


class Unsupported(ValueError):
    """The SQL condition uses a construct this module does not read."""


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])|(?P<op><=|>=|!=|<>|=|<|>|\(|\)|,)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<quoted>`[^`]*`))"
)
_CMP = {"<", "<=", ">", ">="}


def _tokens(sql: str) -> list[tuple[str, object]]:
    out, pos = [], 0
    sql = sql.rstrip()
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if m is None or m.end() == pos:
            raise Unsupported(f"cannot read {sql[pos : pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        text = m.group(kind)
        if kind == "str":
            out.append(("str", text[1:-1].replace("''", "'")))
        elif kind == "num":
            out.append(("num", float(text) if "." in text else int(text)))
        elif kind == "name":
            upper = text.upper()
            keywords = (
                "AND",
                "OR",
                "NOT",
                "LIKE",
                "ESCAPE",
                "REGEXP",
                "GLOB",
                "IS",
                "NULL",
                "IN",
                "COALESCE",
            )
            out.append(("kw", upper) if upper in keywords else ("name", text))
        elif kind == "quoted":
            out.append(("name", text[1:-1]))
        else:
            out.append(("op", text))
    return out


class _Parser:
    """Recursive descent over the tokens; nodes are tuples ('or'|'and', [nodes]), ('not', node),
    ('like', field, pattern, escape), ('eq', field, value), ('regexp', field, pattern),
    ('null', field, is_null), ('cmp', field, op, number), ('true',)."""

    def __init__(self, tokens):
        self.t = tokens
        self.i = 0

    def peek(self, kind=None, value=None):
        if self.i >= len(self.t):
            return False
        k, v = self.t[self.i]
        return (kind is None or k == kind) and (value is None or v == value)

    def take(self, kind, value=None):
        if not self.peek(kind, value):
            got = self.t[self.i] if self.i < len(self.t) else "the end"
            raise Unsupported(f"expected {value or kind}, found {got}")
        self.i += 1
        return self.t[self.i - 1][1]

    def parse(self):
        node = self.expr()
        if self.i != len(self.t):
            raise Unsupported(f"unexpected {self.t[self.i]}")
        return node

    def expr(self):
        parts = [self.conj()]
        while self.peek("kw", "OR"):
            self.i += 1
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def conj(self):
        parts = [self.neg()]
        while self.peek("kw", "AND"):
            self.i += 1
            parts.append(self.neg())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def neg(self):
        if self.peek("kw", "NOT"):
            self.i += 1
            return ("not", self.neg())
        return self.primary()

    def primary(self):
        if self.peek("op", "("):
            self.i += 1
            node = self.expr()
            self.take("op", ")")
            return node
        if self.peek("kw", "COALESCE"):
            self.i += 1
            self.take("op", "(")
            node = self.expr()
            self.take("op", ",")
            default = self.take("num")
            self.take("op", ")")
            return node if default == 0 else ("true",)
        field = self.take("name")
        if self.peek("kw", "NOT"):
            self.i += 1
            return ("not", self.predicate(field))
        return self.predicate(field)

    def predicate(self, field):
        if self.peek("kw", "LIKE"):
            self.i += 1
            pattern = self.take("str")
            escape = None
            if self.peek("kw", "ESCAPE"):
                self.i += 1
                escape = self.take("str")
            return ("like", field, pattern, escape)
        if self.peek("kw", "REGEXP"):
            self.i += 1
            return ("regexp", field, self.take("str"))
        if self.peek("kw", "GLOB"):
            self.i += 1
            self.take("str")
            return ("notnull", field)
        if self.peek("kw", "IS"):
            self.i += 1
            negated = self.peek("kw", "NOT")
            if negated:
                self.i += 1
            self.take("kw", "NULL")
            return ("notnull", field) if negated else ("null", field)
        if self.peek("kw", "IN"):
            self.i += 1
            self.take("op", "(")
            values = [self.value()]
            while self.peek("op", ","):
                self.i += 1
                values.append(self.value())
            self.take("op", ")")
            return ("or", [("eq", field, v) for v in values])
        op = self.take("op")
        if op == "=":
            if self.peek("name"):  # field = field
                self.i += 1
                return ("notnull", field)
            return ("eq", field, self.value())
        if op in ("!=", "<>"):
            self.value()
            return ("notnull", field)
        if op in _CMP:
            return ("cmp", field, op, self.take("num"))
        raise Unsupported(f"operator {op}")

    def value(self):
        if self.peek("str"):
            return self.take("str")
        return self.take("num")


def parse_sql(predicate: str):
    """The condition tree of a converted rule's SQL WHERE clause (Unsupported if it cannot be read)."""
    return _Parser(_tokens(predicate)).parse()


def like_pieces(pattern: str, escape: str | None) -> list[str]:
    """The literal runs of a LIKE pattern (between the % and _ wildcards), escapes resolved."""
    pieces, current, i = [], [], 0
    while i < len(pattern):
        c = pattern[i]
        if escape and c == escape and i + 1 < len(pattern):
            current.append(pattern[i + 1])
            i += 2
            continue
        if c in "%_":
            pieces.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    pieces.append("".join(current))
    return [p for p in pieces if p]


# ---- rows -------------------------------------------------------------------------------------------


def row_filter(node, columns: tuple[str, ...]) -> Callable[[tuple], bool]:
    """A function of a row (in `columns` order) that is True whenever SQLite would select it.

    A field the reader does not fill is NULL in the events table.
    """
    mask = row_masks([node], columns)
    return lambda row: mask(row) != 0


def row_masks(nodes: list, columns: tuple[str, ...]) -> Callable[[tuple], int]:
    """A function of a row giving a bit mask: bit k is set whenever SQLite would select the row by
    condition k. Compiled to one Python function (each field read and casefolded once)."""
    index = {name: i for i, name in enumerate(columns)}
    used: set[int] = set()
    folded: set[int] = set()  # fields compared as text: casefolded once ("" for NULL, which no piece is in)
    consts: list[str] = []
    bodies = [_code(node, index, used, consts, folded) for node in nodes]
    lines = ["def mask(row):"]
    for i in sorted(used):
        lines.append(f"    v{i} = row[{i}]")
        if i in folded:
            lines.append(
                f"    f{i} = '' if v{i} is None else v{i}.casefold() if type(v{i}) is str else str(v{i}).casefold()"
            )
    terms = " | ".join(f"({1 << k} if {body} else 0)" for k, body in enumerate(bodies)) or "0"
    lines.append(f"    return {terms}")
    from incidents.scan.events import regexp

    namespace: dict = {"regexp": regexp, "C": consts}
    exec("\n".join(lines), namespace)  # noqa: S102 - code built from the parsed condition, literals by repr()
    return namespace["mask"]


def _code(node, index, used: set[int], consts: list[str], folded: set[int]) -> str:
    kind = node[0]
    if kind in ("true", "not"):
        return "True"
    if kind in ("or", "and"):
        joiner = " or " if kind == "or" else " and "
        return "(" + joiner.join(_code(n, index, used, consts, folded) for n in node[1]) + ")"
    i = index.get(node[1])
    if i is None:  # never filled by this reader: NULL
        return "True" if kind == "null" else "False"
    used.add(i)
    if kind == "null":
        return f"(v{i} is None)"
    if kind in ("notnull", "cmp"):
        return f"(v{i} is not None)"
    if kind == "like":
        pieces = [p.casefold() for p in like_pieces(node[2], node[3])]
        if not pieces:
            return f"(v{i} is not None)"
        folded.add(i)  # NULL folds to "", which holds no (non-empty) piece
        return "(" + " and ".join(f"{p!r} in f{i}" for p in pieces) + ")"
    if kind == "eq":
        if type(node[2]) is str:
            folded.add(i)
            return f"(v{i} is not None and (type(v{i}) is not str or f{i} == {node[2].casefold()!r}))"
        return f"(v{i} is not None)"
    if kind == "regexp":
        consts.append(node[2])
        return f"regexp(C[{len(consts) - 1}], v{i})"
    raise Unsupported(f"node {kind}")
