"""Response headers that keep the panel to itself: a strict Content-Security-Policy
(only the app's own scripts and styles, inline ones only with this response's
nonce), no framing, no sniffing, no referrer leaving the site."""

import secrets

from flask import g

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


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
