"""A models-from-code file: the A/B tests' good agent as a ChatAgent, loggable and registrable."""

from mlflow.models import set_model

from tests.compare.ab_agents import CHAT_AGENT

set_model(CHAT_AGENT)
