"""Custom tools from other packages, found through the `mirobody.tools` entry-point group.

A plugin package declares, in its pyproject.toml:

    [project.entry-points."mirobody.tools"]
    my_tool = "my_package.tools:my_tool"

and `my_tool` is a typed function whose docstring is its description (like the built-ins).
It reaches the caller with `api.mcp.context.current_caller()`; set `my_tool.read_only = False`
if it changes anything. A plugin that fails to load is logged and skipped, never fatal, and
cannot replace a built-in tool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from api.mcp.tools import ToolSpec

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "mirobody.tools"


@dataclass(frozen=True)
class PluginTool:
    name: str
    entry_point: str
    spec: ToolSpec


def discover_tools(reserved: set[str], group: str = ENTRY_POINT_GROUP) -> list[PluginTool]:
    """Load every tool of the group, sorted by name, except those that fail or clash."""
    found: list[PluginTool] = []
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        if ep.name in reserved:
            log.warning(
                "plugin tool %r skipped: the name is taken",
                ep.name,
                extra={"entry_point": ep.value},
            )
            continue
        try:
            fn = ep.load()
        except (ImportError, AttributeError, SyntaxError) as exc:
            log.warning(
                "plugin tool %r failed to load (%s)",
                ep.name,
                type(exc).__name__,
                extra={"entry_point": ep.value},
            )
            continue
        if not callable(fn):
            log.warning("plugin tool %r skipped: %s is not callable", ep.name, ep.value)
            continue
        tool: Callable[..., Any] = fn
        found.append(
            PluginTool(ep.name, ep.value, ToolSpec(tool, bool(getattr(tool, "read_only", True))))
        )
        reserved = reserved | {ep.name}
    return found
