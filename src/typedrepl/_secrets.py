"""Keep passwords out of every message, repr and log line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

MASK = "***"

# libpq splits on ASCII whitespace only (C isspace): an NBSP or U+2028 is part of a
# password, so every pattern is compiled with re.ASCII.
# postgresql://user:password@host -> keep user, hide password: everything up to the
# authority's last "@", so that an unescaped "@" in a password hides all of it
_URL_PASSWORD = re.compile(
    r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):(?P<pw>[^/\s]*)@", re.ASCII
)
# keyword/value conninfo: password=secret, password='se cret' or password=se\ cret
# (libpq reads a backslash as an escape in both forms, a backslash-newline too)
_KW_PASSWORD = re.compile(
    r"(?P<head>(?<![?&])\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|(?:\\.|\\$|[^\s\\])+)",
    re.IGNORECASE | re.ASCII | re.DOTALL,
)
# password as a URL query parameter: ?password=secret
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<pw>[^&\s]*)", re.IGNORECASE | re.ASCII)


def redact_url(text: str) -> str:
    """Return ``text`` with every password in a connection string replaced by ``***``.

    >>> redact_url("postgresql://postgres:postgres@localhost/postgres")
    'postgresql://postgres:***@localhost/postgres'
    """
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@", text)
    text = _KW_PASSWORD.sub(lambda m: f"{m['head']}{MASK}", text)
    return _QUERY_PASSWORD.sub(lambda m: f"{m['head']}{MASK}", text)


def passwords_in(connection: str) -> tuple[str, ...]:
    """The passwords a connection string holds, raw and URL-decoded."""
    found: list[str] = []
    for pattern in (_URL_PASSWORD, _KW_PASSWORD, _QUERY_PASSWORD):
        for match in pattern.finditer(connection):
            pw = match["pw"]
            if pw.startswith("'") and pw.endswith("'") and len(pw) >= 2:
                pw = pw[1:-1]
            unescaped = re.sub(r"\\(.)", r"\1", pw, flags=re.DOTALL)  # libpq reads \' as '
            found.extend(p for p in {pw, unquote(pw), unescaped} if p)
            if pattern is _URL_PASSWORD:  # libpq ends the password at the first "@" and
                found.extend(p for p in pw.split("@") if p)  # reads the rest as the host
    try:
        decoded = urlsplit(connection).password
    except ValueError:
        decoded = None
    if decoded:
        found.append(decoded)
    return tuple(dict.fromkeys(found))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Redact connection strings in ``text`` and every literal occurrence of ``secrets``."""
    text = redact_url(text)
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 2:
            text = text.replace(secret, MASK)
    return text
