"""One SQL tool module per domain. Every tool returns a :class:`ToolResult`: rows plus the SQL."""

from agent.tools.base import ToolResult

__all__ = ["ToolResult"]
