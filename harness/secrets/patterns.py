"""The detector's own patterns, for text written by an LLM rather than source code (bounded quantifiers only).

Databricks, OpenAI project, Anthropic and Google keys, card numbers (Luhn), Bearer tokens, credentials
in any URL, `key = value` assignments in prose and JSON, private-key blocks, emails, and the runs of
base64 or URL-encoded text that may hide one; with the checks that tell a real value from a placeholder.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Kind:
    """One kind of secret: a short name (counted in reports) and how a rationale names it."""

    name: str
    label: str


@cache
def keywords() -> str:
    """The secret-sounding key names (detect-secrets' keyword list and ours), as one regex alternation."""
    from detect_secrets.plugins.keyword import DENYLIST

    extra = ("token", "access_?key", "secret_?key", "passphrase", "auth_?token")
    return "|".join((*DENYLIST, *extra))


@dataclass(frozen=True)
class Pattern:
    kind: Kind
    regex: re.Pattern[str]
    value_groups: tuple[int, ...] = (0,)  # the first that matched is the value: masked, the rest (a key name) kept
    check: Callable[[str], bool] | None = None
    needs: tuple[str, ...] = ()  # literal prefixes: a text without any of them is not scanned by this pattern


def _luhn(number: str) -> bool:
    digits = [int(d) for d in number if d.isdigit()]
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


PLACEHOLDER = re.compile(
    r"(?i)^(?:\**|x{3,}|\.{3}|…|<[^>]{0,40}>|\$\{[^}]{0,40}\}|\{\{[^}]{0,40}\}\}|%\(?\w{0,40}\)?s?|\[redacted[^\]]{0,20}\]|redacted|masked|hidden|none|null|n/?a|changeme|example|your[_-][\w-]{0,30})$"
)


def is_placeholder(value: str) -> bool:
    """A value that stands for a secret without being one: masked, templated or an example."""
    return (
        not value
        or bool(PLACEHOLDER.match(value))
        or "*" in value
        or "…" in value
        or "REDACTED" in value.upper()
        or value.startswith(("${", "<", "{{", "%(", "$("))
    )


NUMERIC = re.compile(r"[\d\s.,:/+-]{1,256}")
PROSE_WORD = re.compile(r"[a-z]{1,24}|[A-Z][a-z]{1,23}")


def is_secret_value(value: str) -> bool:
    """Whether a value assigned to a secret-sounding key is a real value, not a placeholder or a word of prose."""
    value = value.strip().rstrip(".!?:")
    if is_placeholder(value):
        return False
    if NUMERIC.fullmatch(value):  # a date, a time, a count: far more common in answers than a numeric password
        return False
    if " " in value:  # a quoted passphrase: several words, at least 8 letters
        return len(value) >= 8 and not value.lower().startswith(("the ", "a ", "an ", "is ", "was ", "not "))
    return len(value) >= 4 and not PROSE_WORD.fullmatch(value)


def _spoken_secret(value: str) -> bool:
    """`the password is X`: only values that look made up (letters and digits), not a word of the sentence."""
    return len(value) >= 6 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def _url_password(value: str) -> bool:
    return is_secret_value(urllib.parse.unquote(value))


ASSIGN = r"""["'\]]{0,2}[ \t]{0,3}(?::=|=>|==?|:)[ \t]{0,3}"""
VALUE = r"""(?:"([^"\r\n]{1,256})"|'([^'\r\n]{1,256})'|`([^`\r\n]{1,256})`|([^\s'"`,;)}\]]{1,256}))"""


def _vendor_patterns() -> tuple[Pattern, ...]:
    """Tokens whose vendor prefix says what they are."""
    return (
        Pattern(Kind("anthropic-key", "Anthropic API key ('sk-ant-…')"), re.compile(r"sk-ant-[A-Za-z0-9_-]{20,256}")),
        Pattern(
            Kind("openai-key", "OpenAI API key ('sk-…')"),
            re.compile(r"(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,256}"),
        ),
        Pattern(
            Kind("databricks-token", "token-like secret 'dapi…' (Databricks token)"),
            re.compile(r"(?i)(?<![a-z0-9])dapi(?=[a-z]{0,63}\d)[0-9a-z]{8,64}(?:-\d{1,2})?(?![a-z0-9])"),
        ),
        Pattern(Kind("google-api-key", "Google API key ('AIza…')"), re.compile(r"AIza[0-9A-Za-z_-]{35}")),
        Pattern(
            Kind("github-token", "GitHub token ('gh…_')"),
            re.compile(r"(?:github_pat_[A-Za-z0-9_]{22,255}|gh[pousr]_[A-Za-z0-9]{30,255})"),
        ),
        Pattern(
            Kind("slack-webhook", "Slack webhook URL"),
            re.compile(r"(?i)https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{8,256}"),
        ),
        Pattern(Kind("slack-token", "Slack token ('xox…-')"), re.compile(r"(?i)xox[abposre]-[A-Za-z0-9-]{10,256}")),
        Pattern(
            Kind("stripe-key", "Stripe key ('sk_live_…')"),
            re.compile(r"(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,256}"),
        ),
        Pattern(
            Kind("npm-token", "npm token ('npm_…')"), re.compile(r"(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])")
        ),
    )


def _contextual_patterns(key_name: str) -> tuple[Pattern, ...]:
    """Secrets known by their shape or by the name they are assigned to (`key_name`)."""
    return (
        Pattern(
            Kind("aws-access-key-id", "AWS access key ID ('AKIA…')"),
            re.compile(r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])"),
        ),
        Pattern(
            Kind("jwt", "JSON Web Token ('eyJ…')"),
            re.compile(r"eyJ[A-Za-z0-9_-]{8,256}\.eyJ[A-Za-z0-9_-]{4,8192}\.[A-Za-z0-9_-]{0,2048}"),
        ),
        Pattern(
            Kind("bearer-token", "Bearer token"),
            re.compile(r"(?i)(?<![a-z])bearer[ \t]{1,3}([A-Za-z0-9._~+/-]{16,4096}=*)"),
            (1,),
        ),
        Pattern(
            Kind("url-credentials", "password in a URL (user:password@host)"),
            re.compile(
                r"(?i)(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{1,20}://[^\s:/@'\"<>]{1,128}:([^\s/@'\"<>]{1,256})@[^\s/@'\"<>]{1,255}"
            ),
            (1,),
            _url_password,
        ),
        Pattern(
            Kind("card-number", "payment card number (passes the Luhn check)"),
            re.compile(
                r"(?<![\d.-])(?:[2-6]\d{3}(?:[ -]?\d{4}){2}[ -]?\d{1,7}|3[47]\d{2}[ -]?\d{6}[ -]?\d{5})(?![\d.])"
            ),
            check=_luhn,
        ),
        Pattern(
            Kind("aws-secret-key", "AWS secret access key"),
            re.compile(rf"(?i)(?<![a-z])aws_?secret_?(?:access_?)?key{ASSIGN}{VALUE}"),
            (1, 2, 3, 4),
            is_secret_value,
        ),
        Pattern(
            Kind("assigned-secret", "{key} value"),
            re.compile(rf"(?i)({key_name}){ASSIGN}{VALUE}"),
            (2, 3, 4, 5),
            is_secret_value,
        ),
        Pattern(
            Kind("assigned-secret", "{key} value"),
            re.compile(
                rf"(?i)({key_name})(?: for [\w@.-]{{1,64}})?[ \t]{{1,3}}(?:is|was|=)[ \t]{{1,3}}:?[ "
                rf"\t]{{0,3}}[\"'`]?([^\s\"'`,;]{{6,256}})"
            ),
            (2,),
            _spoken_secret,
        ),
    )


@cache
def own_patterns() -> tuple[Pattern, ...]:
    """Our own patterns, most specific first (compiled on first use: the keyword list comes from detect-secrets)."""
    kw = keywords()
    # A prefix is free (`DB_PASSWORD`, `client_secret`); a suffix only one that keeps the meaning (`token_id`
    # is no secret).
    key_name = rf"(?<![A-Za-z])(?:{kw})s?(?:[_-]?(?:key|token|value|string|hash|access_?key))?"
    return (*_vendor_patterns(), *prefixed_formats(), *_contextual_patterns(key_name))


# Tokens with a fixed prefix that detect-secrets' plugins lack, as gitleaks' rules define them
# (name, label, literal prefixes, format): Hugging Face and the services an agent is likely to be handed.
PREFIXED = (
    ("huggingface-token", "Hugging Face token ('hf_…')", ("hf_", "api_org_"), r"(?:hf_|api_org_)[A-Za-z]{34}"),
    ("shopify-token", "Shopify token ('shpat_…')", ("shp",), r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    ("digitalocean-token", "DigitalOcean token ('dop_v1_…')", ("_v1_",), r"do[opr]_v1_[a-f0-9]{64}"),
    ("doppler-token", "Doppler token ('dp.pt.…')", ("dp.pt.",), r"dp\.pt\.[A-Za-z0-9]{43}"),
    ("linear-key", "Linear API key ('lin_api_…')", ("lin_api_",), r"lin_api_[A-Za-z0-9]{40}"),
    ("postman-key", "Postman API key ('PMAK-…')", ("PMAK-",), r"PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}"),
    (
        "grafana-token",
        "Grafana token ('glsa_…', 'glc_…')",
        ("glsa_", "glc_"),
        r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,2}",
    ),
    (
        "age-secret-key",
        "age secret key ('AGE-SECRET-KEY-1…')",
        ("AGE-SECRET-KEY-1",),
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
    ),
    ("pulumi-token", "Pulumi token ('pul-…')", ("pul-",), r"pul-[a-f0-9]{40}"),
    ("new-relic-key", "New Relic key ('NRAK-…')", ("NRAK-",), r"NRAK-[A-Za-z0-9]{27}"),
    ("sentry-token", "Sentry token ('sntryu_…')", ("sntry",), r"sntry[us]_[A-Za-z0-9+/=_-]{64,400}"),
    (
        "planetscale-token",
        "PlanetScale token ('pscale_tkn_…')",
        ("pscale_",),
        r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9=._-]{32,64}",
    ),
    ("alibaba-key", "Alibaba access key ID ('LTAI…')", ("LTAI",), r"LTAI[A-Za-z0-9]{20}"),
    ("perplexity-key", "Perplexity API key ('pplx-…')", ("pplx-",), r"pplx-[A-Za-z0-9]{48}"),
    ("groq-key", "Groq API key ('gsk_…')", ("gsk_",), r"gsk_[A-Za-z0-9]{52}"),
    ("replicate-token", "Replicate token ('r8_…')", ("r8_",), r"r8_[A-Za-z0-9]{37}"),
    ("langsmith-key", "LangSmith API key ('lsv2_…')", ("lsv2_",), r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}"),
)


def prefixed_formats() -> tuple[Pattern, ...]:
    """One pattern per fixed-prefix format, whole tokens only (not inside a longer run of token characters)."""
    return tuple(
        Pattern(Kind(name, label), re.compile(rf"(?<![A-Za-z0-9_-])(?:{regex})(?![A-Za-z0-9_-])"), needs=needs)
        for name, label, needs, regex in PREFIXED
    )


EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+/-])(?<!//)[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}"
)
PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY(?: BLOCK)?-----")
PEM_END = re.compile(r"-----END (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY(?: BLOCK)?-----")
PEM_BODY = re.compile(r"[A-Za-z0-9+/=:, \t\r\n-]{0,16384}")
PEM_KIND = Kind("private-key", "private key block")
EMAIL_KIND = Kind("email", "email address the question did not ask about (unmasked PII)")
BASE64_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,8192}={0,2}")
URL_ENCODED_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2}|[A-Za-z0-9._~+=&:/@-]){6,8192}")
