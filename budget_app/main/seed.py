"""Seed data: the operations of fixtures/ (TOML, see README "Operations"), loaded through
the same service as `flask operations load`. A second run changes nothing and says so."""
from dataclasses import dataclass, field

from ..config import PROJECT_ROOT

FIXTURES_DIR = PROJECT_ROOT / "fixtures"


@dataclass
class SeedResult:
    changed: bool = False
    messages: list = field(default_factory=list)
    # Operation codes the demo finance officer and controller are assigned to.
    demo_assignments: list = field(default_factory=list)


def load_seed_operations(directory=None) -> SeedResult:
    """Load every ``*.toml`` of ``fixtures/`` in name order. An operation already there with a
    different plan is left alone (amendments go through `operations load --amendment`)."""
    from ..extensions import db
    from ..money import translate
    from ..operations.loader import SEED_KEPT, load_operation_file
    from ..operations.services import PlanError

    result = SeedResult()
    for path in sorted((directory or FIXTURES_DIR).glob("*.toml")):
        savepoint = db.session.begin_nested()
        try:
            loaded = load_operation_file(path)
        except PlanError as exc:
            savepoint.rollback()
            if any(path_ == "operation.code" for path_, _ in exc.errors):
                result.messages.append(
                    translate(SEED_KEPT, file=path.name)
                )
                continue
            raise PlanError([(f"{path.name} {p}".strip(), m) for p, m in exc.errors]) from exc
        savepoint.commit()
        result.messages += loaded.messages
        result.changed |= loaded.action != "unchanged"
        result.demo_assignments.append(loaded.code)
    return result
