"""Agents answer from their own process: the logged model is loaded there, never in the harness.

A run that can promote evaluates exactly the artifact it would register: each version is first
logged as an MLflow model from code (by `log_agent`, in a throw-away process, because logging
executes the agent's code), then loaded back with `mlflow.pyfunc.load_model` in a long-lived
worker process (`AgentProcess`) that answers over a private socket. Nothing the agent's code does
when imported can reach the scorers, and a registry baseline goes through the same path.
"""

from harness.versions.process.client import AgentProcess, LoggedAgent, isolated_version
from harness.versions.process.log import log_agent

__all__ = ["AgentProcess", "LoggedAgent", "isolated_version", "log_agent"]
