"""Sending messages through the organisation's SMTP relay (the standard library's
``smtplib``; no provider SDK). Settings: MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS (STARTTLS),
MAIL_USE_SSL, MAIL_USERNAME, MAIL_PASSWORD, MAIL_DEFAULT_SENDER, MAIL_CONNECTIONS
(connections used at once by a run, each kept open for the whole run).

A run's messages are written as bytes at once (plain text, UTF-8 in base64: encoded in C),
not through the ``email`` package's object model and generator. Over a relay that offers
PIPELINING (RFC 2920), each message costs one round trip: its text goes out with the next
message's MAIL, RCPT and DATA; a relay that does not offer it is spoken to one command at a
time (``smtplib.sendmail``).
"""
import binascii
import queue
import re
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app

# smtplib and email are imported where mail is built or sent, not when a command starts
# (every command loads this module: bench/bench_start.py).

_LEADING_DOT = re.compile(rb"(?m)^\.")


class MailError(Exception):
    """The relay refused or could not be reached; the message is sent again next run."""


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipient: str
    data: bytes  # the whole message, CRLF line ends


@lru_cache(maxsize=256)  # a run's subjects repeat: each one is encoded once
def _header(name: str, text: str) -> str:
    from email.header import Header

    if "\r" in text or "\n" in text:
        raise MailError(f"line break in {name}")
    if text.isascii():
        return f"{name}: {text}"
    return f"{name}: " + Header(text, "utf-8", header_name=name).encode(linesep="\r\n")


def _plain(name: str, text: str) -> str:
    """A header that differs for each message (not cached), ASCII unless encoded."""
    return _header.__wrapped__(name, text)


@lru_cache(maxsize=2)
def _date(second: int) -> str:
    """The Date header of the messages written within one second (RFC 5322, UTC)."""
    from email.utils import formatdate

    return formatdate(second, localtime=False)


def build_message(recipient: str, subject: str, body: str, message_id: str, locale: str,
                  sender: str | None = None) -> Envelope:
    """A plain-text message (MIME, UTF-8 body in base64; the subject in RFC 2047 words when
    it is not ASCII)."""
    sender = sender or current_app.config["MAIL_DEFAULT_SENDER"]
    head = "\r\n".join((
        _header("From", sender), _plain("To", recipient), _header("Subject", subject),
        "Date: " + _date(int(time.time())), _plain("Message-ID", message_id),
        _header("Content-Language", locale),
        "Auto-Submitted: auto-generated",  # RFC 3834: no auto-replies
        "MIME-Version: 1.0", 'Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: base64",
    ))
    encoded = binascii.b2a_base64(body.encode("utf-8"), newline=False)  # one call into C, then lines of 76
    text = b"\r\n".join([encoded[start:start + 76] for start in range(0, len(encoded), 76)]) + b"\r\n"
    return Envelope(sender, recipient, head.encode("ascii") + b"\r\n\r\n" + text)


class _Replies:
    """The relay's replies read from its socket: what one read brings (often several
    replies, pipelined) is kept and parsed a reply at a time (multi-line ones joined)."""

    def __init__(self, sock):
        self.sock, self.buffer, self.position = sock, b"", 0

    def next(self) -> tuple[int, bytes]:
        import smtplib

        lines = []
        while True:
            end = self.buffer.find(b"\n", self.position)
            if end < 0:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
                self.buffer, self.position = self.buffer[self.position:] + chunk, 0
                continue
            line = self.buffer[self.position:end].rstrip(b"\r")
            self.position = end + 1
            lines.append(line[4:].strip())
            if line[3:4] != b"-":
                code = int(line[:3]) if line[:3].isdigit() else -1
                return code, b"\n".join(lines)


class Relay:
    """One SMTP connection, opened on first use and kept for the whole run. ``config``: the
    application's settings (read once, so that a sending thread needs no app context)."""

    def __init__(self, config=None):
        self.config = dict(config if config is not None else current_app.config)
        self.connection = None

    def _open(self):
        import smtplib

        import ssl  # OpenSSL only in the process that mails (lean start)

        config = self.config
        if not config["MAIL_SERVER"]:
            raise MailError("MAIL_SERVER is not set")
        timeout = config["MAIL_TIMEOUT_SECONDS"]
        try:
            if config["MAIL_USE_SSL"]:
                connection = smtplib.SMTP_SSL(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout,
                                              context=ssl.create_default_context())
            else:
                connection = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
                if config["MAIL_USE_TLS"]:
                    connection.starttls(context=ssl.create_default_context())
            connection.ehlo_or_helo_if_needed()
            if config["MAIL_USERNAME"]:
                connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(type(exc).__name__) from exc
        self.connection = connection

    def send(self, envelope: Envelope) -> None:
        """One message, one command at a time."""
        import smtplib

        try:
            if self.connection is None:
                self._open()
            self.connection.sendmail(envelope.sender, [envelope.recipient], envelope.data)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise MailError(type(exc).__name__) from exc

    def send_many(self, envelopes: list) -> list:
        """Each message in turn; for each, None (sent) or its MailError. A connection lost
        fails the message in flight; the next ones go over a new connection."""
        import smtplib

        results: list = []
        while len(results) < len(envelopes):
            rest = envelopes[len(results):]
            try:
                if self.connection is None:
                    self._open()
            except MailError as exc:
                return results + [exc] * len(rest)
            if not self.connection.has_extn("pipelining"):
                for envelope in rest:
                    try:
                        self.send(envelope)
                        results.append(None)
                    except MailError as exc:
                        results.append(exc)
                return results
            try:
                self._pipelined(rest, results)
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                results.append(MailError(type(exc).__name__))
        return results

    def _pipelined(self, envelopes: list, results: list) -> None:
        """RFC 2920: MAIL, RCPT and DATA in one write; once DATA is answered 354, the text,
        then the next message's MAIL, RCPT and DATA in the same write. Replies are read
        straight from the socket (``_Replies``: several in one read), not line by line
        through smtplib's file."""
        sock = self.connection.sock
        replies = _Replies(sock)

        def commands(envelope):
            return f"MAIL FROM:<{envelope.sender}>\r\nRCPT TO:<{envelope.recipient}>\r\nDATA\r\n".encode("ascii")

        sock.sendall(commands(envelopes[0]))
        last = len(envelopes) - 1
        for position, envelope in enumerate(envelopes):
            following = commands(envelopes[position + 1]) if position < last else b""
            mail, rcpt, data = replies.next(), replies.next(), replies.next()
            if data[0] == 354 and mail[0] == 250 and rcpt[0] in (250, 251):
                text = _LEADING_DOT.sub(b"..", envelope.data)
                sock.sendall(text + (b".\r\n" if text.endswith(b"\r\n") else b"\r\n.\r\n") + following)
                code, message = replies.next()
                results.append(None if code == 250 else MailError(f"{code} {message.decode(errors='replace')}"))
                continue
            refused = next((reply for reply in (mail, rcpt, data) if reply[0] not in (250, 251, 354)), data)
            if data[0] == 354:  # RFC 2920 3.1: DATA accepted with no valid recipient: a lone dot
                sock.sendall(b".\r\n")
                replies.next()
            results.append(MailError(f"{refused[0]} {refused[1].decode(errors='replace')}"))
            sock.sendall(b"RSET\r\n" + following)
            replies.next()

    def close(self):
        import smtplib

        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.connection = None


class RelayPool:
    """``size`` relays, each in a thread of its own with its connection kept open: a batch
    of messages is shared among them (waiting on the network releases the GIL), and the
    caller prepares the next batch while this one is on its way (``submit``, then ``wait``)."""

    def __init__(self, size: int, config=None):
        config = dict(config if config is not None else current_app.config)
        self.tasks: queue.Queue = queue.Queue()
        self.threads = [threading.Thread(target=self._work, args=(Relay(config),), daemon=True)
                        for _ in range(max(1, size))]
        for thread in self.threads:
            thread.start()

    def _work(self, relay: Relay):
        try:
            while (task := self.tasks.get()) is not None:
                envelopes, results, places, done = task
                try:
                    found = relay.send_many(envelopes)
                except Exception as exc:  # noqa: BLE001 (a message the library refuses: retried next run)
                    found = [MailError(type(exc).__name__)] * len(envelopes)
                for place, result in zip(places, found):
                    results[place] = result
                done.release()
        finally:
            relay.close()

    def submit(self, envelopes: list):
        """Start sending ``envelopes`` (a MailError in their place: a message that could not
        be written, failed as it is); ``wait`` on what this returns for the results."""
        results: list = [envelope if isinstance(envelope, MailError) else None for envelope in envelopes]
        places = [place for place, envelope in enumerate(envelopes) if not isinstance(envelope, MailError)]
        done = threading.Semaphore(0)
        share = -(-len(places) // len(self.threads)) or 1
        parts = 0
        for start in range(0, len(places), share):
            chosen = places[start:start + share]
            self.tasks.put(([envelopes[place] for place in chosen], results, chosen, done))
            parts += 1
        return results, done, parts

    @staticmethod
    def wait(handle) -> list:
        """For each message submitted, None (sent) or its MailError, in order."""
        results, done, parts = handle
        for _ in range(parts):
            done.acquire()
        return results

    def send_all(self, envelopes: list) -> list:
        return self.wait(self.submit(envelopes))

    def close(self):
        for _ in self.threads:
            self.tasks.put(None)
        for thread in self.threads:
            thread.join()
