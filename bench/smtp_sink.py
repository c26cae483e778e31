"""An SMTP sink for the benchmarks: aiosmtpd on 127.0.0.1, keeping nothing but a count of
the messages accepted (printed when the process is stopped), and offering PIPELINING
(RFC 2920) as a production relay does (aiosmtpd reads commands in order from its buffer,
so pipelined commands are answered in order).

    python bench/smtp_sink.py PORT [--no-pipelining]
"""
import signal
import sys
import threading


class Sink:
    def __init__(self, pipelining: bool):
        self.pipelining = pipelining
        self.messages = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        return "250 OK"


def main():
    from aiosmtpd.controller import Controller

    port = int(sys.argv[1])
    sink = Sink("--no-pipelining" not in sys.argv)
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    print(sink.messages, flush=True)


if __name__ == "__main__":
    main()
