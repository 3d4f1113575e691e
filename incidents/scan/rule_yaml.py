"""A rule file's YAML, checked before pySigma reads it: one clear line for what would otherwise be a
traceback or a silent loss (a key written twice, a document nested too deep, a value YAML cannot
build, a document that is no mapping). YAML 1.1 spec; PyYAML's safe loader."""

from __future__ import annotations

import yaml


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a key written twice in one mapping: YAML forbids it, and PyYAML
    keeps the last one in silence (a second `sel:` would drop the first selection from the rule)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key is not None and key != "<<":
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"the key {key!r} is written twice", key_node.start_mark
                        )
                    seen.add(key)
        return super().construct_mapping(node, deep=deep)


def yaml_problem(text: str) -> str | None:
    """One line saying why `text` is not YAML documents that are each a mapping (or empty); None if it is.

    Besides YAML's own errors: a key written twice, a document nested too deep for the parser (a
    RecursionError), a value YAML cannot build (an integer past Python's 4,300 digits, 2021-02-30).
    """
    try:
        documents = list(yaml.load_all(text, Loader=_StrictLoader))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        return f"{where}YAML error: {getattr(e, 'problem', None) or e}"
    except RecursionError:
        return "YAML error: nested too deep"
    except ValueError as e:  # int() past its digit limit, a date that does not exist
        return f"YAML error: a value that cannot be read ({str(e).split(';')[0]})"
    for document in documents:
        if document is not None and not isinstance(document, dict):
            kind = "list" if isinstance(document, list) else "single value"
            return f"a rule is a YAML mapping (title:, detection:, ...), not a {kind}"
    return None
