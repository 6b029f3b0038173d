"""The Content-Security-Policy every page is served with: scripts, styles, images, fonts and
connections only from this server (nothing from the internet, which shops may not have), no
framing by other sites, forms posting only back here.

Inline scripts and styles stay allowed, and so does eval: the back office's theme (unfold, with
Alpine.js expressions) and the API docs page (Swagger UI) use them, and they are ours or come
with our dependencies. What the policy stops is any script, style or request reaching another
origin, which is how injected markup would load or send anything.
"""

from __future__ import annotations

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicy:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        return response
