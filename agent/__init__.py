"""Health Monitor: a platform-health agent over an embedded DuckDB store of system tables.

Importing this package is cheap: mlflow, langgraph and duckdb are imported only by the
submodules that need them (``agent.chat_agent``, ``agent.graph``, ``agent.data.store``).
"""

__all__ = ["DOMAINS"]

DOMAINS = ("cost", "security", "performance", "reliability", "quality")
