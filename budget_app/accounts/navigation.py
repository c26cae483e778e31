"""Main navigation, filled by each domain's blueprint module at import time, so a domain
adds its entry without touching the base layout. An entry shows when the user ``may``
open its page (the access policy decides, not a list of roles here)."""
from collections.abc import Callable
from dataclasses import dataclass

from flask_login import current_user

from .policy import may


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string, translated at render time
    order: int
    count: Callable[[], int] | None = None  # a number shown beside the label (e.g. « À faire »)


NAV_ITEMS: list[NavItem] = []


def register_nav(endpoint: str, label, order: int = 50, count: Callable[[], int] | None = None) -> None:
    if any(item.endpoint == endpoint for item in NAV_ITEMS):
        return
    NAV_ITEMS.append(NavItem(endpoint, label, order, count))
    NAV_ITEMS.sort(key=lambda item: item.order)


def nav_items_for_current_user() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    return [item for item in NAV_ITEMS if may(item.endpoint)]
