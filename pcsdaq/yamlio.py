"""Reading station and plan YAML strictly: duplicate keys and non-finite numbers refused.

PyYAML's SafeLoader keeps the *last* of two equal keys, so ``max_field_T: 3.0`` followed
by ``max_field_T: 7.0`` silently restores a lowered limit; :class:`UniqueKeyLoader`
refuses the file instead, naming the key and both lines. :func:`check_finite` refuses
``.nan``/``.inf`` anywhere in a loaded document, naming the key path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from pcsdaq.errors import ConfigError


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that raises on a duplicate key in any mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """As SafeLoader's, after checking every key is new in this mapping."""
        self.flatten_mapping(node)
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: SafeLoader reports it
                continue
            if first is not None:
                raise ConstructorError(
                    None, None, f"duplicate key {key!r} (first given on line {first + 1}); "
                    "each key may appear once", key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, source: str) -> Any:
    """Parse ``text`` strictly (duplicate keys refused); ConfigError naming ``source``."""
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise ConfigError(f"not valid YAML: {message}", source=source) from None


def find_non_finite(data: Any, path: str = "") -> tuple[str, float] | None:
    """(key path, value) of the first NaN or infinity in a loaded document, or None."""
    if isinstance(data, float) and not math.isfinite(data):
        return path or "(document)", data
    if isinstance(data, Mapping):
        for key, value in data.items():
            found = find_non_finite(value, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            found = find_non_finite(value, f"{path}[{i}]")
            if found:
                return found
    return None


def check_finite(data: Any, source: str) -> None:
    """ConfigError naming the key when ``data`` holds a NaN or an infinity anywhere."""
    found = find_non_finite(data)
    if found:
        raise ConfigError(f"{found[1]!r} is not a finite number; every number must be finite",
                          source=source, key=found[0])
