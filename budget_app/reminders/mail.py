"""Sending a message through the organisation's SMTP relay (the standard library's
``smtplib`` and ``email``; no provider SDK). Settings: MAIL_SERVER, MAIL_PORT,
MAIL_USE_TLS (STARTTLS), MAIL_USE_SSL, MAIL_USERNAME, MAIL_PASSWORD, MAIL_DEFAULT_SENDER."""
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app


class MailError(Exception):
    """The relay refused or could not be reached; the message is sent again next run."""


def build_message(recipient: str, subject: str, body: str, message_id: str, locale: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message["Content-Language"] = locale
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    message.set_content(body)
    return message


class Relay:
    """One SMTP connection for a whole run, opened on first use."""

    def __init__(self):
        self.connection = None

    def _open(self):
        import ssl  # OpenSSL only in the process that mails (lean start)

        config = current_app.config
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

    def send(self, message: EmailMessage) -> None:
        try:
            if self.connection is None:
                self._open()
            self.connection.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise MailError(type(exc).__name__) from exc

    def close(self):
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.connection = None
