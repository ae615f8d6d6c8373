"""detect-secrets' plugins, run on windows of bounded length (their patterns are not bounded)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from harness.secrets.patterns import Kind, is_placeholder, is_secret_value

WINDOW = 1024  # detect-secrets plugins (unbounded patterns) see at most this many characters at a time
OVERLAP = 256  # a secret up to this long is whole in some window (longer kinds are our own patterns)


@dataclass(frozen=True)
class Plugin:
    kind: Kind
    plugin: Any  # a detect-secrets plugin instance


@cache
def detect_secrets_plugins() -> tuple[Plugin, ...]:
    # Left out: the keyword plugin (its key list is reused above; its value is the rest of a prose line),
    # hex high-entropy strings (git SHAs and checksums are hex) and public IPs (not secrets).
    from detect_secrets.plugins.artifactory import ArtifactoryDetector
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.discord import DiscordBotTokenDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.mailchimp import MailchimpDetector
    from detect_secrets.plugins.npm import NpmDetector
    from detect_secrets.plugins.openai import OpenAIDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.pypi_token import PypiTokenDetector
    from detect_secrets.plugins.sendgrid import SendGridDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.square_oauth import SquareOAuthDetector
    from detect_secrets.plugins.stripe import StripeDetector
    from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
    from detect_secrets.plugins.twilio import TwilioKeyDetector

    def kind(cls: Any, name: str) -> Plugin:
        return Plugin(Kind(name, f"{cls.secret_type} (detect-secrets)"), cls())

    return (
        kind(AWSKeyDetector, "aws-secret-key"),
        kind(GitHubTokenDetector, "github-token"),
        kind(GitLabTokenDetector, "gitlab-token"),
        kind(SlackDetector, "slack-token"),
        kind(StripeDetector, "stripe-key"),
        kind(JwtTokenDetector, "jwt"),
        kind(PrivateKeyDetector, "private-key"),
        kind(BasicAuthDetector, "url-credentials"),
        kind(OpenAIDetector, "openai-key"),
        kind(SendGridDetector, "sendgrid-key"),
        kind(TwilioKeyDetector, "twilio-key"),
        kind(NpmDetector, "npm-token"),
        kind(PypiTokenDetector, "pypi-token"),
        kind(MailchimpDetector, "mailchimp-key"),
        kind(DiscordBotTokenDetector, "discord-token"),
        kind(TelegramBotTokenDetector, "telegram-token"),
        kind(SquareOAuthDetector, "square-secret"),
        kind(ArtifactoryDetector, "artifactory-token"),
        kind(AzureStorageKeyDetector, "azure-storage-key"),
        Plugin(Kind("high-entropy-string", "high-entropy quoted string"), Base64HighEntropyString(limit=4.5)),
    )


def windows(text: str) -> Iterator[tuple[int, str]]:
    if len(text) <= WINDOW:
        yield 0, text
        return
    for start in range(0, len(text) - OVERLAP, WINDOW - OVERLAP):
        yield start, text[start : start + WINDOW]


def _plugin_values(plugin: Any, window: str) -> set[str]:
    """The values a plugin reports in a window; each distinct candidate checked once (a hostile answer repeats one)."""
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin

    if isinstance(plugin, HighEntropyStringsPlugin):
        return {
            v
            for v in set(plugin.analyze_string(window))
            if is_secret_value(v) and plugin.calculate_shannon_entropy(v) > plugin.entropy_limit
        }
    candidates = set(RegexBasedDetector.analyze_string(plugin, window))
    if type(plugin).analyze_string is not RegexBasedDetector.analyze_string:  # the plugin validates its matches (JWT)
        candidates = {v for v in candidates if v in set(plugin.analyze_string(v))}
    return {v for v in candidates if not is_placeholder(v)}


def plugin_spans(plugin: Any, window: str) -> Iterator[tuple[int, int]]:
    values = _plugin_values(plugin, window)
    if not values:
        return
    denylist = getattr(plugin, "denylist", ())
    for regex in denylist:
        for m in regex.finditer(window):
            groups = [m.group(i) for i in range(1, (m.lastindex or 0) + 1)]
            long_values = [i for i, g in enumerate(groups, 1) if g in values and len(g) >= 8]
            if long_values:  # the value is a group (the rest names it): mask the value
                yield m.span(long_values[-1])
            elif m.group(0) in values or any(g in values for g in groups):  # a group is only a prefix: mask the match
                yield m.span(0)
    if not denylist:
        for value in values:
            at = window.find(value)
            while at >= 0:
                yield at, at + len(value)
                at = window.find(value, at + len(value))
