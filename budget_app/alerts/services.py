"""Alerts services. The claims domain calls the two functions below; the alerts issue
fills them in (they are safe defaults until then)."""


def suspected_cost_lines(operation_id: int) -> set[tuple[str, int]]:
    """Cost lines under a live suspicion, as ("expense" | "staff_cost_line", id) pairs:
    they stay out of any new claim until the referent lifts the suspicion."""
    return set()


def controller_may_check(user, operation) -> str | None:
    """None when ``user`` may record service-done decisions on ``operation``; otherwise
    the reason, e.g. no valid conflict-of-interest declaration (DACI) or a declared interest."""
    return None
