"""Which client address the throttles see behind reverse proxies (README, "Production").

``BUDGET_APP_PROXY_COUNT`` (N) says how many proxies stand in front of gunicorn: the
address is then read from the N-th last ``X-Forwarded-For`` value (Werkzeug's ProxyFix).
That header is the client's own text unless a proxy wrote it, so it is trusted only on
requests whose direct peer is one of ``BUDGET_APP_TRUSTED_PROXIES`` (default: this machine,
where the proxy runs when gunicorn is bound to 127.0.0.1). A request that reaches gunicorn
directly from elsewhere has its ``X-Forwarded-*`` headers dropped: a forged header never
escapes the per-address limits (issue 21)."""
from ipaddress import ip_address, ip_network

from werkzeug.middleware.proxy_fix import ProxyFix

from .integers import parse_int

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX")


def proxy_count(text) -> int:
    count = parse_int(str(text).strip() or "0", maximum=10)
    if count is None:
        raise RuntimeError(f"BUDGET_APP_PROXY_COUNT must be a whole number from 0 to 10, got {text!r}")
    return count


def trusted_networks(text: str) -> list:
    networks = []
    for part in (text or "").replace(";", ",").split(","):
        if part.strip():
            try:
                networks.append(ip_network(part.strip(), strict=False))
            except ValueError as exc:
                raise RuntimeError(f"BUDGET_APP_TRUSTED_PROXIES: {part.strip()!r} is not an address or network") from exc
    return networks


class TrustedProxyFix:
    """ProxyFix for requests from a trusted proxy; forwarded headers dropped otherwise."""

    def __init__(self, app, count: int, networks: list):
        self.app = app
        self.fixed = ProxyFix(app, x_for=count, x_proto=count, x_host=count)
        self.networks = networks

    def _trusted(self, address: str | None) -> bool:
        try:
            peer = ip_address((address or "").strip())
        except ValueError:
            return False
        return any(peer in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self._trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        for header in FORWARDED_HEADERS:
            environ.pop(header, None)
        return self.app(environ, start_response)
