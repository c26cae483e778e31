"""Sending a message through the organisation's SMTP relay (the standard library's
``smtplib`` and ``email``; no provider SDK). Settings: MAIL_SERVER, MAIL_PORT,
MAIL_USE_TLS (STARTTLS), MAIL_USE_SSL, MAIL_USERNAME, MAIL_PASSWORD, MAIL_DEFAULT_SENDER,
MAIL_CONNECTIONS (connections used at once by a run, each kept open for the whole run)."""
import queue
import threading
from functools import cache

from flask import current_app

# smtplib and email are imported when mail is built or sent, not when a command starts
# (every command loads this module: bench/bench_start.py).


@cache
def _utf8():
    """UTF-8 bodies in base64 (encoded in C, where quoted-printable is encoded in Python);
    headers encoded only when needed."""
    from email.charset import BASE64, Charset

    charset = Charset("utf-8")
    charset.body_encoding = BASE64
    return charset


class MailError(Exception):
    """The relay refused or could not be reached; the message is sent again next run."""


def _header(text: str):
    from email.header import Header

    return text if text.isascii() else Header(text, "utf-8")


def build_message(recipient: str, subject: str, body: str, message_id: str, locale: str, sender: str | None = None):
    """A plain-text message (the standard library's compat32 model: headers are stored as
    written, not parsed again for each message of a batch)."""
    from email.mime.text import MIMEText
    from email.utils import formatdate

    message = MIMEText(body, "plain", _utf8())
    message["From"] = sender or current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = recipient
    message["Subject"] = _header(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message["Content-Language"] = locale
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    return message


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
            if config["MAIL_USERNAME"]:
                connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(type(exc).__name__) from exc
        self.connection = connection

    def send(self, message) -> None:
        import smtplib

        try:
            if self.connection is None:
                self._open()
            self.connection.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise MailError(type(exc).__name__) from exc

    def close(self):
        if self.connection is not None:
            import smtplib

            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.connection = None


class RelayPool:
    """``size`` relays, each in a thread of its own with its connection kept open: a batch
    of messages goes out over them at once (waiting on the network releases the GIL)."""

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
                message, results, index, done = task
                try:
                    relay.send(message)
                    results[index] = None
                except MailError as exc:
                    results[index] = exc
                except Exception as exc:  # noqa: BLE001 (a message the library refuses: retried next run)
                    results[index] = MailError(type(exc).__name__)
                finally:
                    done.release()
        finally:
            relay.close()

    def send_all(self, messages: list) -> list:
        """Send ``messages``; for each, None (sent) or its MailError, in order."""
        results: list = [None] * len(messages)
        done = threading.Semaphore(0)
        for index, message in enumerate(messages):
            self.tasks.put((message, results, index, done))
        for _ in messages:
            done.acquire()
        return results

    def close(self):
        for _ in self.threads:
            self.tasks.put(None)
        for thread in self.threads:
            thread.join()
