"""Seed data: the operations of fixtures/ (filled in by the operations domain)."""
from dataclasses import dataclass, field


@dataclass
class SeedResult:
    changed: bool = False
    messages: list = field(default_factory=list)
    # Operation codes the demo finance officer and controller are assigned to.
    demo_assignments: list = field(default_factory=list)


def load_seed_operations() -> SeedResult:
    return SeedResult()
