"""The tools `make run` uses: the preflight check and the mail catcher."""

import os
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

from wayfare_common.testing.smtp import free_port


def _message(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Wayfare <no-reply@wayfare.test>"
    message["To"] = "ada@example.com"
    message["Subject"] = subject
    message.set_content("Your booking ABC234 is confirmed.")
    return message


def test_preflight_names_the_fix_when_rabbitmq_is_not_there():
    url = f"amqp://guest:guest@127.0.0.1:{free_port()}/"  # nothing listens there
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "wayfare_common.devtools.preflight"],
        env={**os.environ, "AMQP_URL": url},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert time.monotonic() - started < 15
    [line] = (result.stdout + result.stderr).splitlines()
    assert "RabbitMQ is not reachable at amqp://guest:***@127.0.0.1:" in line
    assert "rabbitmq-server -detached" in line


def test_mail_catcher_writes_each_message_as_an_eml_file(tmp_path: Path):
    port = free_port()
    catcher = subprocess.Popen(
        [sys.executable, "-m", "wayfare_common.devtools.mailcatcher"],
        env={
            **os.environ,
            "MAILCATCHER_HOST": "127.0.0.1",
            "MAILCATCHER_PORT": str(port),
            "DATA_DIR": str(tmp_path),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _send_when_listening("127.0.0.1", port, _message("Booking ABC234 confirmed"))
        mail_dir = tmp_path / "mail"
        deadline = time.monotonic() + 10
        while not list(mail_dir.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.05)
        [eml] = mail_dir.glob("*.eml")
        assert b"Subject: Booking ABC234 confirmed" in eml.read_bytes()
    finally:
        catcher.terminate()
        output, _ = catcher.communicate(timeout=10)
    assert b"mail caught" in output


async def test_recording_smtp_server_parses_what_it_receives(smtp_server):
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        client.send_message(_message("Your receipt"))
    [message] = await smtp_server.wait_for(1)
    assert message["Subject"] == "Your receipt"
    assert message.get_content().strip() == "Your booking ABC234 is confirmed."


def _send_when_listening(host: str, port: int, message: EmailMessage) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            with smtplib.SMTP(host, port, timeout=5) as client:
                client.send_message(message)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
