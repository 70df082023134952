"""Keeping the panel to itself: response headers (a strict Content-Security-Policy,
only the app's own scripts and styles, inline ones only with this response's nonce;
no framing, no sniffing, no referrer leaving the site) and the one check of every
user-supplied target the panel redirects or links to (``on_site``)."""

import secrets
from urllib.parse import unquote

from flask import g, request

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _reads_as_off_site(text: str) -> bool:
    # Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so
    # "/\t/evil" and "/\\evil" both become "//evil": another host.
    return (text.startswith("//") or "\\" in text
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text))


def on_site(target: str | None) -> str | None:
    """``target`` when it is a path on this site ("/admin/..."), else None (the caller
    then uses its own default). Only a path passes: no scheme ("https:", "javascript:"),
    no host ("//evil", "http://us@evil"); refused too are control characters, backslashes,
    and a path that, percent-decoded (once or more), would read as any of those."""
    if not target or not target.startswith("/") or _reads_as_off_site(target):
        return None
    path = target.split("?", 1)[0].split("#", 1)[0]
    for _round in range(4):  # "%252f" -> "%2f" -> "/"
        decoded = unquote(path)
        if decoded == path:
            return target
        if _reads_as_off_site(decoded):
            return None
        path = decoded
    return None  # still encoded after that: no link of ours looks like this


def return_target(name: str = "url") -> str | None:
    """The on-site target the request names in ``name`` (query or form), or None."""
    return on_site(request.values.get(name))


def nonce() -> str:
    """This response's nonce for inline <script> and <style> elements."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def policy() -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce()}'",
        f"style-src 'self' 'nonce-{nonce()}'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def init_app(app) -> None:
    @app.context_processor
    def csp_nonce():
        return {"csp_nonce": nonce()}

    @app.after_request
    def security_headers(response):
        for header, value in HEADERS.items():
            response.headers.setdefault(header, value)
        response.headers.setdefault("Content-Security-Policy", policy())
        return response
