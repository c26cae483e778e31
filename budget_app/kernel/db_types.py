"""Column types for exact decimals.

PostgreSQL stores ``NUMERIC(p, s)`` exactly. SQLite has no decimal type: a NUMERIC
column there holds a binary float, and ``SUM`` adds floats. So on SQLite the same
columns hold whole numbers of the smallest unit (cents for money) and the values
come back as ``Decimal``; sums stay exact on both databases.
"""
import re
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Numeric
from sqlalchemy.types import TypeDecorator

from .money import quantize


class ScaledDecimal(TypeDecorator):
    """``Numeric(precision, scale)``; integers scaled by 10**scale on SQLite."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int):
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale
        self._unit = Decimal(1).scaleb(-scale)
        self._factor = Decimal(10) ** scale

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("exact decimal columns take Decimal or int, never float")
        value = quantize(Decimal(value), self._unit)
        if dialect.name == "sqlite":
            return int(value * self._factor)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            # SUM over an integer column can come back as int; AVG would be a float and is not used.
            return quantize(Decimal(int(value)) / self._factor, self._unit)
        return quantize(Decimal(value), self._unit)

    def coerce_compared_value(self, op, value):
        return self

    def __repr__(self):
        return f"ScaledDecimal({self.precision}, {self.scale})"


def Money():
    """Amounts in euros, to the cent: Numeric(14, 2)."""
    return ScaledDecimal(14, 2)


def Rate():
    """Percentages such as 60.00 or 33.33: Numeric(7, 4) allows 33.3333 for allocation keys."""
    return ScaledDecimal(7, 4)


def Hours():
    """Hours to the hundredth: Numeric(9, 2)."""
    return ScaledDecimal(9, 2)


def rate_check(condition: str, name: str) -> tuple:
    """A CHECK on ``Rate()`` columns, for both databases: SQLite holds them as integers
    scaled by 10 000, so a bound written ``{40}`` in ``condition`` is 40 on PostgreSQL and
    400000 on SQLite. The model declares both; each database gets its own."""

    def spelled(factor: int) -> str:
        return re.sub(r"\{(\d+)\}", lambda match: str(int(match.group(1)) * factor), condition)

    return (
        CheckConstraint(spelled(1), name=name).ddl_if(dialect="postgresql"),
        CheckConstraint(spelled(10000), name=name).ddl_if(dialect="sqlite"),
    )


def postgresql_only(constraint: CheckConstraint) -> CheckConstraint:
    """A check SQLite does not have: adding it there would rebuild a table others reference
    (migration 0004); the service enforces the rule on both databases."""
    return constraint.ddl_if(dialect="postgresql")
