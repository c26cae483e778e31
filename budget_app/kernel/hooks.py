"""Hooks: how a lower layer lets a higher one decide, without importing it.

A lower layer declares ``some_answer = Hook(name, closed=...)`` and asks it; the higher
layer's answer is registered explicitly by the composition root (``create_app``, never as a
side effect of importing a module). A hook holds one answer: registering another one is
refused (a later registration never silently replaces an earlier one); registering the
same function again (a second ``create_app``) changes nothing. Until an answer is
registered the hook gives its ``closed`` answer, the safe one (e.g. "the retention is
extended"). State that several domains read is data, not a hook (``marks``).
"""


class HookAlreadyRegistered(RuntimeError):
    pass


class Hook:
    def __init__(self, name: str, closed=None):
        self.name = name
        self.closed = closed
        self._answer = None

    @property
    def registered(self) -> bool:
        return self._answer is not None

    def register(self, function):
        if self._answer is not None and self._answer is not function:
            raise HookAlreadyRegistered(f"hook {self.name} already answered by {self._answer.__qualname__}")
        self._answer = function
        return function

    def __call__(self, *args, **kwargs):
        if self._answer is not None:
            return self._answer(*args, **kwargs)
        return self.closed(*args, **kwargs) if callable(self.closed) else self.closed

    def __repr__(self):
        return f"<Hook {self.name} ({'registered' if self.registered else 'closed'})>"
