"""SIRET numbers (INSEE), one rule for beneficiaries and suppliers."""
import re

LA_POSTE_SIREN = "356000000"


def normalise_siret(value) -> str | None:
    """The digits as typed, without spaces, dots or hyphens ("356 000 000-00048")."""
    if value is None:
        return None
    text = re.sub(r"[\s.\-]", "", str(value))
    return text or None


def siret_is_valid(siret: str | None) -> bool:
    """14 digits with a valid Luhn key. La Poste's establishments (SIREN 356 000 000) follow
    INSEE's other rule, the sum of the digits a multiple of 5; its head office
    35600000000048 passes the Luhn key."""
    if not siret or not re.fullmatch(r"[0-9]{14}", siret):
        return False
    total = 0
    for index, char in enumerate(reversed(siret)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    if total % 10 == 0:
        return True
    return siret.startswith(LA_POSTE_SIREN) and sum(int(char) for char in siret) % 5 == 0
