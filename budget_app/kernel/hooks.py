"""Hooks: how a lower layer lets a higher one decide, without importing it.

The expenses domain must refuse to change a line that a claim has frozen, but claims sit
above expenses: expenses declares ``line_frozen = Hook(...)`` and asks it; claims
registers the answer when its modules are imported (``create_app`` imports every domain).
"""


class Hook:
    def __init__(self, name: str, default=None, many: bool = False):
        self.name = name
        self.default = default
        self.many = many
        self._answers = []

    def register(self, function):
        if function not in self._answers:
            if not self.many:
                self._answers.clear()
            self._answers.append(function)
        return function

    def __call__(self, *args, **kwargs):
        if self.many:
            return [answer(*args, **kwargs) for answer in self._answers]
        if self._answers:
            return self._answers[0](*args, **kwargs)
        return self.default(*args, **kwargs) if callable(self.default) else self.default

    def __repr__(self):
        return f"<Hook {self.name} ({len(self._answers)} registered)>"
