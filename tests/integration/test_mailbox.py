"""Mail sources against a real Dovecot (IMAP) and a real Maildir; the SMTP transport against aiosmtpd."""

from __future__ import annotations

import socket

import pytest

from intake.errors import ConfigError, MailboxError, OutboxError
from intake.mail.imap import connect_imap
from intake.mail.mailbox import with_retries
from intake.mail.maildir import MaildirSource
from intake.mail.outbox import SmtpTransport
from intake.mail.source import SignInRefused

RAW = b"From: a@skola.example.lv\r\nSubject: x\r\nMessage-ID: <m1@skola.example.lv>\r\n\r\nbody\r\n"


def imap(server, *, tls: bool = False, ca: bool = True, password: str | None = None):
    return connect_imap(server.url("intake", tls=tls), password=password or server.users["intake"],
                        ca_file=server.ca_file if ca else None, timeout=10)


@pytest.mark.parametrize("tls", [True, False], ids=["imaps", "starttls"])
def test_reads_over_verified_tls(mailbox_server, tls):
    mailbox_server.append(RAW)
    source = imap(mailbox_server, tls=tls)
    try:
        refs = source.list_new()
        assert [r.size for r in refs] == [len(RAW)]
        assert [raw for _ref, raw in source.fetch(refs)] == [RAW]
    finally:
        source.close()


def test_refuses_a_certificate_it_cannot_verify(mailbox_server):
    with pytest.raises(MailboxError, match="CERTIFICATE_VERIFY_FAILED"):
        imap(mailbox_server, tls=True, ca=False)


def test_a_wrong_password_is_refused_at_once_and_an_unreachable_server_tried_again(mailbox_server):
    attempts = []

    def sign_in(password: str):
        def attempt():
            attempts.append(password)
            return imap(mailbox_server, password=password)
        return attempt

    with pytest.raises(SignInRefused):  # tried once: a retry would only be refused again
        with_retries(sign_in("wrong"), sleep=lambda _seconds: None)
    assert attempts == ["wrong"]

    def unreachable():
        attempts.append("unreachable")
        raise MailboxError("cannot connect")

    with pytest.raises(MailboxError, match="cannot connect"):
        with_retries(unreachable, sleep=lambda _seconds: None)
    assert attempts == ["wrong", "unreachable", "unreachable", "unreachable"]


def test_fetching_leaves_the_message_unread_and_in_place(mailbox_server):
    mailbox_server.append(RAW)
    source = imap(mailbox_server)
    try:
        list(source.fetch(source.list_new()))
        flags = source.client.get_flags(source.client.search(["ALL"]))
        assert all(b"\\Seen" not in f for f in flags.values())
    finally:
        source.close()
    assert mailbox_server.folder_counts()["INBOX"] == 1


def test_move_creates_the_outcome_folder(mailbox_server):
    mailbox_server.append(RAW)
    source = imap(mailbox_server)
    try:
        source.move(source.list_new(), "Intake.Applications")
    finally:
        source.close()
    counts = mailbox_server.folder_counts()
    assert counts["INBOX"] == 0 and counts["Intake.Applications"] == 1


def test_maildir_lists_fetches_and_moves(tmp_path):
    source = MaildirSource(tmp_path / "inbox")
    (tmp_path / "inbox" / "new" / "1.msg").write_bytes(RAW)
    (tmp_path / "inbox" / "cur" / "2.msg:2,S").write_bytes(RAW + b"more")
    refs = source.list_new()
    assert [r.location for r in refs] == ["1.msg", "2.msg:2,S"]
    assert [raw for _ref, raw in source.fetch(refs)] == [RAW, RAW + b"more"]
    assert source.fetch_header(refs[0]).startswith(b"From: a@skola.example.lv")
    source.move(refs, "Intake.Automatic")
    assert source.list_new() == []
    assert sorted(p.name for p in (tmp_path / "inbox" / ".Intake.Automatic" / "cur").iterdir()) == [
        "1.msg:2,S", "2.msg:2,S"]


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
def test_smtp_transport_sends_over_verified_tls(dovecot, tls):
    from tests.support.smtp import start_smtp

    server = start_smtp(dovecot.ca_file, dovecot.root / "key.pem", tls=tls)
    try:
        transport = SmtpTransport(server.url, password=None, ca_file=dovecot.ca_file, timeout=10)
        transport.send(RAW, "supervizija@ikvd.example.lv", ["a@skola.example.lv"])
        # Nagle off: a reply with attachments would otherwise wait for the server's delayed ACK.
        assert transport._client is not None
        assert transport._client.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        transport.close()
        received = server.inbox.wait_for(1)[0]
        assert received.recipients == ["a@skola.example.lv"]
        assert received.raw.replace(b"\r\n", b"\n").startswith(b"From: a@skola.example.lv")
    finally:
        server.stop()


def test_smtp_transport_refuses_an_unverified_server(smtp):
    transport = SmtpTransport(smtp.url, password=None, ca_file=None, timeout=10)
    with pytest.raises(OutboxError, match="CERTIFICATE_VERIFY_FAILED"):
        transport.send(RAW, "supervizija@ikvd.example.lv", ["a@skola.example.lv"])
    assert smtp.inbox.messages == []


def test_plain_smtp_is_refused_away_from_loopback():
    with pytest.raises(ConfigError, match="loopback"):
        SmtpTransport("smtp://mail.example.lv", password=None, ca_file=None, timeout=1)
