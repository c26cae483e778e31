"""The evidence pack streamed to a browser (``pack.pack_steps`` written by a thread of its
own, handed over in small pieces so that memory stays bounded)."""
import io
import queue
import threading
import zipfile

from ..kernel.extensions import db
from .models import Claim
from .pack import PackResult, pack_steps


class _Pipe(io.RawIOBase):
    """What the ZIP writer wrote since the last ``drain`` (not seekable: zipfile then writes
    data descriptors after each entry)."""

    def __init__(self):
        self.chunks, self.size = [], 0

    def writable(self):
        return True

    def write(self, data):
        self.chunks.append(bytes(data))  # (a bytes object is kept as it is: no copy)
        self.size += len(data)
        return len(data)

    def drain(self) -> list:
        """The pieces written since the last call (handed over as they are: joining them
        would copy every document once more)."""
        pieces, self.chunks, self.size = self.chunks, [], 0
        return pieces


class _Cancelled(Exception):
    pass


def _produce(app, claim_id: int, chunks: queue.Queue, cancelled: threading.Event) -> None:
    """Write the pack in an application context (and database session) of its own, handing
    each piece to the response through a small queue: memory stays bounded."""

    def hand_over(data):
        while not cancelled.is_set():
            try:
                chunks.put(data, timeout=1)
                return
            except queue.Full:
                continue
        raise _Cancelled

    try:
        with app.app_context():
            claim = db.session.get(Claim, claim_id)
            pipe = _Pipe()
            with zipfile.ZipFile(pipe, "w", allowZip64=True) as archive:
                for _step in pack_steps(claim, archive, PackResult()):
                    if pipe.size >= HAND_OVER:  # small documents go by several at a time
                        hand_over(pipe.drain())
            hand_over(pipe.drain())
            db.session.rollback()  # it only read
    except _Cancelled:
        pass
    except Exception:  # noqa: BLE001 (logged; the download ends short, never a half-valid pack)
        app.logger.exception("evidence pack of claim %s failed", claim_id)
        chunks.put(_FAILED)
        return
    chunks.put(_DONE)


_DONE, _FAILED = object(), object()
HAND_OVER = 1024 * 1024  # bytes handed to the response at once (at least; the queue holds 4)


def stream_pack(app, claim_id: int):
    """The pack as an iterable of byte chunks, for a streamed HTTP response. It is written
    by a thread with its own application context: the request (and its transaction) has
    ended when the body is streamed."""
    chunks = queue.Queue(maxsize=4)
    cancelled = threading.Event()
    worker = threading.Thread(target=_produce, args=(app, claim_id, chunks, cancelled), daemon=True)
    worker.start()
    try:
        while True:
            data = chunks.get()
            if data is _DONE:
                return
            if data is _FAILED:
                raise RuntimeError("evidence pack failed")
            yield from data
    finally:
        cancelled.set()
