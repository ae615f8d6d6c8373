"""Seeded platform-telemetry store (DuckDB) with known anomalies."""
