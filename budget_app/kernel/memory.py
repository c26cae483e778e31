"""A worker gives back the memory a large request freed (issue 27: a worker's RSS after the
load test <= 120 MB). CPython keeps freed objects in its own pools and glibc keeps freed
heap pages mapped: after a large export or list, the process stays as large as its peak.

Once a response has been sent (``call_on_close``: the client does not wait), if the
process is ``MEMORY_TRIM_STEP_MB`` (4) larger than after the last trim, a full garbage
collection and glibc's ``malloc_trim(0)`` return the free pages of every heap to the system
(some 10 to 30 ms, only after such a request). ``MEMORY_TRIM_STEP_MB = 0`` turns it off;
elsewhere than Linux it does nothing.

``load_openpyxl()`` imports openpyxl without Pillow (2 MB per worker): openpyxl imports
Pillow for images in sheets, which the application neither writes nor reads (its reader
is read-only, which skips drawings).
"""
import ctypes
import ctypes.util
import gc
import os
import sys

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """This process's resident memory (Linux ``/proc/self/statm``), or 0 where unknown."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def load_openpyxl() -> None:
    """Import openpyxl, without Pillow when Pillow is not loaded yet (its ``drawing.image``
    then records Pillow as absent). Called before any ``from openpyxl ...`` of the
    application; the import of Pillow stays possible afterwards (the seed's fpdf2)."""
    if "openpyxl" in sys.modules:
        return
    blocked = "PIL" not in sys.modules
    if blocked:
        sys.modules["PIL"] = None  # ``import PIL`` raises ImportError while this holds
    try:
        import openpyxl  # noqa: F401  (lazily: 8 MB, loaded by the first sheet read or written)
        import openpyxl.drawing.image  # noqa: F401
    finally:
        if blocked and sys.modules.get("PIL", 0) is None:
            del sys.modules["PIL"]


def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


class Trimmer:
    def __init__(self, step_mb: int):
        self.step = int(step_mb * 1024 * 1024)
        self.malloc_trim = _malloc_trim() if self.step > 0 else None
        self.floor = resident_bytes()

    def after_request(self) -> bool:
        """Trim when the process grew by ``step`` since the last trim; True when it did."""
        if self.malloc_trim is None:
            return False
        if resident_bytes() - self.floor < self.step:
            return False
        gc.collect()
        self.malloc_trim(0)
        self.floor = resident_bytes()
        return True


def init_app(app) -> None:
    trimmer = Trimmer(int(app.config.get("MEMORY_TRIM_STEP_MB") or 0))
    app.extensions["memory_trimmer"] = trimmer
    if trimmer.malloc_trim is None:
        return

    @app.after_request
    def give_back_memory(response):
        response.call_on_close(trimmer.after_request)
        return response
