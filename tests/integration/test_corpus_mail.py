"""Every real-world e-mail of ../shared/corpus/emails through Dovecot and the real pipeline."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlmodel import Session, select

from intake.config import load_settings
from intake.service import poll_once, prepare_engine
from intake.store import MessageRecord, OutboxRecord

NEVER_ANSWERED = {"bounce", "auto_reply", "complaint_arf", "mdn", "mailing_list"}


def corpus_mail(shared: Path) -> list[tuple[str, Path]]:
    root = shared / "corpus" / "emails"
    return [(p.relative_to(root).parts[0], p) for p in sorted(root.rglob("*")) if p.is_file()]


def test_every_corpus_mail_ends_in_a_state_and_no_automatic_mail_is_answered(
        shared_dir, mailbox_server, smtp, tmp_path):
    files = corpus_mail(shared_dir)
    assert len(files) > 900
    client = mailbox_server.client("intake")
    try:
        for _label, path in files:
            client.append("INBOX", path.read_bytes())
        client.select_folder("INBOX")
        uids = sorted(client.search(["ALL"]))
    finally:
        client.logout()
    assert len(uids) == len(files)  # Dovecot took every one, in order
    label_of = {uid: label for uid, (label, _path) in zip(uids, files, strict=True)}
    settings = load_settings({
        "INTAKE_STATE_DIR": str(tmp_path), "INTAKE_MAILBOX_URL": mailbox_server.url("intake"),
        "INTAKE_MAILBOX_PASSWORD": mailbox_server.users["intake"], "INTAKE_SMTP_URL": smtp.url,
        "INTAKE_TLS_CA_FILE": str(mailbox_server.ca_file), "INTAKE_FROM": "supervizija@ikvd.example.lv",
        "INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'corpus.sqlite3'}",
    })
    engine = prepare_engine(settings)

    summary = poll_once(settings, engine)
    assert summary is not None

    with Session(engine) as session:
        messages = session.exec(select(MessageRecord)).all()
        answered = {row.message_row for row in session.exec(select(OutboxRecord)).all()}
    by_uid = {int(m.location.split(":")[1]): m for m in messages}
    # Every mail ends in a recorded state: its own row, or (byte-identical) another's.
    assert len(by_uid) + summary.already_done == len(files)
    assert not [m for m in messages if m.state in ("failed", "quarantined")], [
        (label_of[int(m.location.split(":")[1])], m.error) for m in messages if m.error]
    wrongly_answered = [(label_of[uid], m.subject) for uid, m in by_uid.items()
                        if label_of[uid] in NEVER_ANSWERED and m.id in answered]
    assert wrongly_answered == []
    states = Counter((label_of[uid], m.state) for uid, m in by_uid.items())
    assert all(state == "auto" for (label, state) in states if label in NEVER_ANSWERED), states
    assert mailbox_server.folder_counts()["INBOX"] == 0
