"""Reading a log a block at a time, parsing only the lines some rule may select.

A reader that supports it (auth, web) describes the lines it certainly reads as one plain row: an RE2
regex over bytes (`Reader.fast_line()`), plus the strings (`PARSE_ATOMS`) whose lines it must read in
full to count them right (sshd events, "message repeated"). The rules give the other literals
(cover.line_cover). In each 1 MiB block, an anchored RE2 match takes whole runs of plain lines at once,
`bytes.find` and one RE2 search find the lines holding a string or literal; only those lines and the
ones that are not plain go through `Reader.parse`, in file order, and only the rows some rule may
select (prefilter.row_filter) are written to the events table. Every other line is counted as the one
row it would have given (an event for web logs, a syslog line that is no sshd/PAM event for auth), so
lines = events + skipped + rejected holds as before. A block with a CR or bad UTF-8 is read line by line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import re2

from incidents.scan import cover, prefilter


@dataclass
class Plan:
    """What the rules of one format need from a file: which rows to keep, which lines to read."""

    # Bit k set: rule k (in the order given) may select this row; 0: no rule may. None: every row may.
    keep: Callable[[tuple], int] | None
    cover: str | None  # RE2 regex finding the lines some rule may select ('': none; None: any line may)
    parse_atoms: tuple[bytes, ...] = ()  # lines holding these are read in full anyway


def make_plan(module, predicates: list[str]) -> Plan:
    """The plan for rules (their SQL conditions) over the rows of reader `module`."""
    verbatim = getattr(module, "VERBATIM", frozenset())
    derived = getattr(module, "DERIVED", {})
    markers = {k: v.decode() for k, v in getattr(module, "MARKERS", {}).items()}
    parse_atoms = tuple(getattr(module, "PARSE_ATOMS", ()))
    nodes, covers = [], []
    for sql in predicates:
        try:
            node = prefilter.parse_sql(sql)
        except prefilter.Unsupported:
            return Plan(None, None, tuple(a.encode() for a in parse_atoms))
        nodes.append(node)
        covers.append(cover.line_cover(node, verbatim, derived))
    keep = prefilter.row_masks(nodes, module.COLUMNS)
    if any(c is None for c in covers):
        return Plan(keep, None, tuple(a.encode() for a in parse_atoms))
    # A rule whose lines all hold one of the reader's own PARSE_ATOMS needs no search of its own.
    pruned = [cover.prune(c, parse_atoms) for c in covers]
    parts = [x for c in pruned if c is not cover.COVERED for x in cover.or_leaves(c)]
    regex = cover.cover_regex(("or", parts), markers) if parts else ""  # '': no search needed
    if regex:
        try:
            _matcher(regex.encode(), "search")
        except re2.error:  # too big for RE2's memory budget (thousands of literals): read every line
            regex = None
    return Plan(keep, regex, tuple(a.encode() for a in parse_atoms))


def _matcher(regex: bytes, anchor: str):
    """`match(text, pos) -> (start, end) | None` of an RE2 regex over bytes. google-re2's own Match
    (spans only) when it has one: its Python match objects cost microseconds each."""
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 64 << 20
    compiled = re2.compile(regex, options)
    raw = getattr(compiled, "_regexp", None)
    kinds = getattr(re2, "_Anchor", None)
    if raw is not None and kinds is not None and hasattr(raw, "Match"):
        how = kinds.ANCHOR_START if anchor == "start" else kinds.UNANCHORED
        low = raw.Match

        def match(text: bytes, pos: int):
            span = low(how, text, pos, len(text))[0]
            return None if span[0] < 0 else span

        return match
    method = compiled.match if anchor == "start" else compiled.search

    def fallback(text: bytes, pos: int):
        m = method(text, pos)
        return None if m is None else m.span()

    return fallback


class Finder:
    """Start offsets of the lines of a block that hold any of some exact strings (bytes.find: cheap per
    hit) or match an RE2 regex (one pass over many literals and the reader's markers)."""

    def __init__(self, regex: str | None, exact: tuple[bytes, ...] = ()):
        self.exact = exact
        self.search = _matcher(regex.encode(), "search") if regex else None

    def starts(self, block: bytes) -> set[int]:
        found: set[int] = set()
        for atom in self.exact:
            _scan(block, atom, found)
        if self.search is None:
            return found
        search, find, rfind = self.search, block.find, block.rfind
        pos = 0
        while (span := search(block, pos)) is not None:
            found.add(rfind(b"\n", 0, span[0]) + 1)
            pos = find(b"\n", span[1])
            if pos < 0:
                break
        return found


def _scan(block: bytes, atom: bytes, found: set[int]) -> None:
    find, rfind = block.find, block.rfind
    p = find(atom)
    while p >= 0:
        found.add(rfind(b"\n", 0, p) + 1)
        end = find(b"\n", p)
        if end < 0:
            return
        p = find(atom, end)


# A block with more unusual lines than this is read line by line (each costs one anchored RE2 call).
_MAX_ODD = 200


def read_blocks(
    lines, reader, module, plan: Plan, take: Callable[[int, str], None], plain: Callable[[int], None]
):
    """Feed `take(number, text)` the lines of LineReader `lines` that need the reader, in order, and
    `plain(count)` the count of the others (each one plain row). Lines of a block with CR, bad UTF-8 or
    anything unusual all go to `take`."""
    finder = Finder(plan.cover, plan.parse_atoms)
    everything = plan.cover is None
    one_pass = OnePass(plan.cover) if plan.cover and not plan.parse_atoms and "\n" not in plan.cover else None
    pattern, runs = None, None
    for before, block in lines.blocks():
        if everything or block[-1:] != b"\n" or b"\r" in block or not _utf8(block):
            _each_line(lines, before, block, take)
            continue
        if one_pass is not None and reader.fast_line() is not None:
            one_pass.block(lines, reader, before, block, take, plain)
            continue
        wanted = sorted(finder.starts(block))
        wi, nw = 0, len(wanted)
        size = len(block)
        counted, number_at = 0, before  # lines before offset `counted` of the block: number_at
        taken = odd = 0
        total = None  # lines in the block, counted once: the counts up to each taken line, then the rest
        pos = 0
        while pos < size:
            current = reader.fast_line()
            if current is not pattern:  # a new pattern (the reader learnt a new hour)
                pattern = current
                runs = _matcher(b"(?:" + current + b"\n)+", "start") if current is not None else None
            span = runs(block, pos) if runs is not None else None
            run_end = span[1] if span is not None else pos  # lines in [pos, run_end) are plain
            while wi < nw and wanted[wi] < run_end:
                s = wanted[wi]
                number_at += block.count(b"\n", counted, s)
                counted = s
                take(number_at + 1, block[s : block.index(b"\n", s)].decode("utf-8"))
                taken += 1
                wi += 1
            if run_end >= size:
                break
            e = block.index(b"\n", run_end)  # the line at run_end is not plain: the reader reads it
            number_at += block.count(b"\n", counted, run_end)
            counted = run_end
            take(number_at + 1, block[run_end:e].decode("utf-8"))
            taken += 1
            if wi < nw and wanted[wi] == run_end:
                wi += 1
            pos = e + 1
            odd += 1
            if odd > _MAX_ODD:  # mostly unusual lines: the rest of the block line by line
                rest = block[pos:]
                _each_line(lines, number_at + 1, rest, take)
                taken += rest.count(b"\n")
                total = block.count(b"\n")
                break
        if total is None:
            total = number_at - before + block.count(b"\n", counted)
        plain(total - taken)


class OnePass:
    """One RE2 pass for a reader whose wanted lines are those holding the rules' literals (web): an
    anchored match of `(?:PLAIN\\n)*?(?:[^\\n]*(?:COVER)|\\z)` takes the plain lines up to the FIRST line
    holding a literal (leftmost-first: the lazy loop stops at the earliest), which is read, or up to
    the end of the block (all plain, no literal: done). When it fails, a line that is not plain comes
    before any line with a literal: the runs regex finds it (a second pass over that stretch only), it
    is read, and the search goes on after it. So literals and plain lines are checked in one DFA pass."""

    def __init__(self, cover: str):
        self.cover = cover.encode()
        self.pattern = None
        self.runs = self.first = None

    def block(self, lines, reader, before: int, block: bytes, take, plain) -> None:
        size = len(block)
        counted, number_at = 0, before  # lines before offset `counted` of the block: number_at
        taken = odd = 0
        total = None
        pos = 0
        while pos < size:
            current = reader.fast_line()
            if current is not self.pattern:
                self.pattern = current
                self.runs = _matcher(b"(?:" + current + b"\n)+", "start")
                self.first = _matcher(
                    b"(?:(?:" + current + b")\n)*?(?:[^\n]*(?:" + self.cover + b")|\\z)", "start"
                )
            span = self.first(block, pos)
            if span is not None and span[1] == size:  # the rest is plain and holds no literal
                break
            if span is not None:  # lines [pos, s) are plain; the line at s holds a literal
                nl = block.rfind(b"\n", pos, span[1])
                s = pos if nl < 0 else nl + 1
            else:
                span = self.runs(block, pos)
                s = span[1] if span is not None else pos  # the first line that is not plain
                if s >= size:
                    break
                odd += 1
            e = block.index(b"\n", s)
            number_at += block.count(b"\n", counted, s)
            counted = s
            take(number_at + 1, block[s:e].decode("utf-8"))
            taken += 1
            pos = e + 1
            if odd > _MAX_ODD:  # mostly unusual lines: the rest of the block line by line
                rest = block[pos:]
                _each_line(lines, number_at + 1, rest, take)
                taken += rest.count(b"\n")
                total = block.count(b"\n")
                break
        if total is None:
            total = number_at - before + block.count(b"\n", counted)
        plain(total - taken)


def _utf8(block: bytes) -> bool:
    if block.isascii():
        return True
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _each_line(lines, before: int, block: bytes, take) -> None:
    """Every line of a block through the reader, decoded as LineReader decodes it."""
    raws = block.split(b"\n")
    if block[-1:] == b"\n":
        raws.pop()
    for i, raw in enumerate(raws, before + 1):
        take(i, lines._decode(i, raw).rstrip("\r"))
