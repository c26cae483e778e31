"""What accounts tell the domains above them (wired in ``create_app``'s ``HOOKS``; until
then each gives its closed answer: no keys, nothing to show).

The alerts domain keeps each referent's private key encrypted under their password: it
must hear when a password is verified (to open the key into the session's vault), changed
(to re-encrypt it) or replaced through a set-up link (the old key is lost: the referent
reads nothing until another referent grants access); and the referents are told of every
new admin or referent account and set-up link.
"""
from ..kernel.hooks import Hook

# (user, password) -> True when a domain checked the password itself, at the cost of one
# hash (a referent's private key opens only with the right password: the login needs no
# second hash); None: the stored hash is verified as for everyone.
password_check = Hook("password_check", closed=lambda user, password: None)

# (user, password, session token) -> list of notices; at login, and when a command or the
# password-change form knows the password. The token names the session whose vault to fill
# (None outside a web session: keys are set up, nothing is kept).
password_verified = Hook("password_verified", closed=lambda user, password, token: [])

# (user, session token) -> list of notices; once the session is open (second factor given).
session_started = Hook("session_started", closed=lambda user, token: [])

# (user, old password, new password): the referent's private key is re-encrypted.
password_changed = Hook("password_changed")

# (user): the password was set through a set-up link, without the old one.
password_reset = Hook("password_reset")

# (user, event, actor): "created", "setup_link", "enabled" for an admin or referent account.
account_event = Hook("account_event")
