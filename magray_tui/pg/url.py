"""Server URLs as they may be shown: the password never leaves this module unmasked."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

_PASSWORD_IN_NETLOC = re.compile(r"(?P<head>^[a-z]+://[^:/@?#]*:)(?P<pw>[^@/?#]*)(?=@)", re.I)
_PASSWORD_PARAM = re.compile(r"(?P<head>[?&]password=)(?P<pw>[^&#]*)", re.I)
_PASSWORD_KV = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'[^']*'|\S+)", re.I)


def is_server_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgresql://", "postgres://"))


def mask_url(url: str) -> str:
    """`url` with any password replaced by ***: in the user part, a `password=` query
    parameter, or a libpq `password=...` pair."""
    text = _PASSWORD_IN_NETLOC.sub(lambda m: m["head"] + ("***" if m["pw"] else ""), url)
    text = _PASSWORD_PARAM.sub(lambda m: m["head"] + "***", text)
    return _PASSWORD_KV.sub(lambda m: m["head"] + "***", text)


def mask_text(text: str, url: str) -> str:
    """Any text (a driver's error message) with the password of `url` masked."""
    text = mask_url(text)
    password = password_of(url)
    return text.replace(password, "***") if password else text


def password_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        if parts.password:
            return parts.password
        found = parse_qs(parts.query).get("password")
        return found[0] if found else None
    except ValueError:
        return None


def server_name(url: str) -> str:
    """`user@host:port/db` (a socket dir for host), without the password."""
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        host = parts.hostname or (query.get("host") or ["localhost"])[0]
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
        db = parts.path.lstrip("/") or (parts.username or "")
        return f"{user}{host}{port}/{db}"
    except ValueError:
        return mask_url(url)
