"""Reading a suite file: YAML whose every key keeps its line, with the YAML that silently means
something else refused.

`yaml.safe_load` lets a key given twice replace the first (dropping, say, an SNR floor without a word)
and reads `.nan` / `.inf` as numbers that no threshold can compare. Both are errors here, naming the
key path and the line. The line of every key and list item is kept so later validation errors can
name it too.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import InvalidInputError

Location = tuple[Hashable, ...]


def key_path(loc: Location) -> str:
    """A location as written in docs and messages: `targets[0].path`."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


@dataclass(frozen=True)
class SuiteSource:
    """Suite data read from YAML (`data`) and the 1-based line of each key and list item (`lines`)."""

    data: Any
    lines: Mapping[Location, int] = field(default_factory=dict)

    def line_of(self, loc: Location) -> int | None:
        """The line of `loc`, or of its nearest enclosing key that has one (None if none does)."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None


def read_yaml(text: str, where: str) -> SuiteSource:
    """Parse YAML `text` (named `where` in messages) with safe constructors only.

    Raises InvalidInputError for invalid YAML (with its line and column), a key given twice in one
    mapping, or a non-finite number (`.nan`, `.inf`, `-.inf`), each naming the key path and line.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return SuiteSource(None)
        lines: dict[Location, int] = {}
        _walk(loader, node, (), lines, where, set())
        return SuiteSource(loader.construct_document(node), lines)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InvalidInputError(f"{where} is not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    finally:
        loader.dispose()


def _walk(loader: yaml.SafeLoader, node: yaml.Node, loc: Location, lines: dict[Location, int], where: str,
          seen: set[int]) -> None:
    """Record lines under `loc`; refuse repeated keys and non-finite numbers. Aliased nodes are walked
    once, so a YAML "billion laughs" costs nothing here."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[Hashable, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # an unhashable key is refused by the constructor with its own message
            line = key_node.start_mark.line + 1
            if key in first:
                raise InvalidInputError(
                    f"{where}: line {line}: {key_path((*loc, key))}: key given twice in one mapping (first on "
                    f"line {first[key]}); expected each key once, as a repeated key silently replaces the first"
                )
            first[key] = line
            lines[(*loc, key)] = line
            _walk(loader, value_node, (*loc, key), lines, where, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            _walk(loader, item, (*loc, index), lines, where, seen)
    elif isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:float":
        value = loader.construct_object(node)
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInputError(
                f"{where}: line {node.start_mark.line + 1}: {key_path(loc) or 'the document'}: {node.value} is not "
                f"a finite number; expected a finite number"
            )
