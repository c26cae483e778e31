"""Authorisation of every request, before the view runs (``before_request``).

The endpoint's ``POLICY`` entry decides (``policy.py``); then a URL with
``<operation_code>`` loads the operation once into ``g.operation``: finance officers and
controllers who are not assigned to it get 404, as if it did not exist.
"""
import logging

from flask import abort, current_app, g, request
from flask_login import current_user

from ..kernel.extensions import login_manager
from .assignments import operation_by_code
from .policy import POLICY, Policy, assigned_to, role_of

log = logging.getLogger("budget_app.access")


def _deny(policy: Policy, role):
    log.warning(
        "event=access_denied user=%s role=%s endpoint=%s method=%s",
        getattr(current_user, "id", None),
        role,
        request.endpoint,
        request.method,
    )
    abort(404 if policy.hidden else 403)


def enforce_policy():
    """before_request: authorise the endpoint, then load the operation in the URL."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: the 404/405 handlers answer
        return None
    policy = POLICY.get(endpoint)
    if policy is None:
        log.error("event=undeclared_endpoint endpoint=%s", endpoint)
        abort(403)
    role = role_of(current_user)
    if not policy.public:
        if role is None:
            if policy.hidden:
                abort(404)
            return login_manager.unauthorized()
        if not policy.allows(role, request.method):
            _deny(policy, role)
    view_args = request.view_args or {}
    if "operation_code" in view_args:
        operation = operation_by_code(view_args.pop("operation_code"))
        if operation is None or not assigned_to(current_user, operation.id):
            abort(404)
        g.operation = operation
    return None


def add_operation_code(endpoint, values):
    """url_defaults: inside an operation's pages, url_for() fills in its code."""
    operation = g.get("operation")
    if operation is not None and "operation_code" not in values:
        for rule in current_app.url_map.iter_rules(endpoint):
            if "operation_code" in rule.arguments:
                values["operation_code"] = operation.code
                break
