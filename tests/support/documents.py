"""Vendor documents built from field lists (documented-field tests)."""

from __future__ import annotations

from typing import Any


def nested(paths: str) -> dict[str, Any]:
    """A document with every (dotted) path of `paths`, nested, each leaf 0."""
    doc: dict[str, Any] = {}
    for path in paths.split():
        *parents, leaf = path.split(".")
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = 0
    return doc
