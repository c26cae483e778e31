"""The nginx site file (deploy/nginx/budget-app.conf, the one README shows and the two-server
leg runs) keeps the alert channel out of nginx's logs: every address the alerts blueprint
serves falls under a location with ``access_log off`` (loi 2022-401: nothing dates a filing
or keeps a reporter's address; checklist 7.2.x). Read without nginx, so it runs in every leg;
tests/production/test_two_servers.py shows nginx itself logging none of them."""
import re
from pathlib import Path

SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "budget-app.conf"


def locations(text: str) -> dict[str, str]:
    """Each ``location PREFIX { … }`` block's body by its prefix (the site file has no nested blocks)."""
    return {match.group(1): match.group(2) for match in re.finditer(r"location\s+(\S+)\s*\{([^}]*)\}", text)}


def serving_location(path: str, blocks: dict[str, str]) -> str:
    """nginx's choice among prefix locations: the longest prefix that matches."""
    return max((prefix for prefix in blocks if path.startswith(prefix)), key=len)


def unlogged(body: str) -> bool:
    return re.search(r"^\s*access_log\s+off\s*;", body, re.M) is not None


def test_every_address_of_the_alert_channel_is_left_out_of_nginx_logs(app):
    blocks = locations(SITE.read_text())
    alert_rules = [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("alerts.")]
    assert len(alert_rules) >= 15  # the public form, the follow-up, the referents' pages
    logged = [rule for rule in alert_rules if not unlogged(blocks[serving_location(rule, blocks)])]
    assert logged == []


def test_the_rest_of_the_app_is_logged_as_usual(app):
    blocks = locations(SITE.read_text())
    assert not unlogged(blocks["/"])
    others = [rule.rule for rule in app.url_map.iter_rules() if not rule.endpoint.startswith("alerts.")]
    quiet = [rule for rule in others if unlogged(blocks[serving_location(rule, blocks)])]
    # Nothing else hides there: an ordinary page's log line looks the same whatever it concerns.
    assert quiet == []
