"""Figures: every real-world mail and sheet of ../shared/corpus through the real code.

Mail: every file of corpus/emails appended to a private Dovecot, then one poll of the real
pipeline (in this process, as tests/integration/test_corpus_mail.py does): decide, store in
SQLite, reply over SMTP to aiosmtpd, move. Prints mails per label and final state, replies per
label, and every mail of a human label (human, human_attachment, malformed, unlabelled) that got
no reply, with the state and reason recorded for it.

Sheets: every file of corpus/sheets alone through read_participant_list + decide (the programme
`national`, as `intake validate` judges a file): its verdict and finding codes; then each file
again in a fresh process, for the worst time and peak memory (VmHWM).

Run: INTAKE_SHARED_DIR=../shared .venv/bin/python -m tests.benchmarks.corpus
Prints figures; asserts nothing (the CI test is tests/integration/test_corpus_mail.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from intake.config import load_settings
from intake.core.rules import Circumstances, decide
from intake.core.workbook import read_participant_list
from intake.poll.service import poll_once, prepare_engine
from intake.poll.writing import content_key
from intake.store.tables import MessageRecord, OutboxRecord
from tests.integration.test_corpus_mail import (
    EXPLAINED,
    NEVER_ANSWERED,
    WHY,
    append_corpus,
    corpus_mail,
)
from tests.support.dovecot import start_dovecot
from tests.support.smtp import start_smtp

OUR_ADDRESS = "supervizija@ikvd.example.lv"


def shared_dir() -> Path:
    value = os.environ.get("INTAKE_SHARED_DIR")
    path = Path(value) if value else Path(__file__).resolve().parents[3] / "shared"
    if not (path / "corpus").is_dir():
        sys.exit(f"no corpus under {path}: set INTAKE_SHARED_DIR to the shared/ folder")
    return path


def high_water_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def mail_figures(shared: Path) -> None:
    files = corpus_mail(shared)
    root = shared / "corpus" / "emails"
    dovecot = start_dovecot()
    smtp = start_smtp(dovecot.ca_file, dovecot.root / "key.pem")
    try:
        uids = append_corpus(dovecot, files)
        with tempfile.TemporaryDirectory() as folder:
            settings = load_settings({
                "INTAKE_STATE_DIR": folder, "INTAKE_MAILBOX_URL": dovecot.url("intake"),
                "INTAKE_MAILBOX_PASSWORD": dovecot.users["intake"], "INTAKE_SMTP_URL": smtp.url,
                "INTAKE_TLS_CA_FILE": str(dovecot.ca_file), "INTAKE_FROM": OUR_ADDRESS,
                "INTAKE_DATABASE_URL": f"sqlite:///{folder}/corpus.sqlite3",
            })
            engine = prepare_engine(settings)
            started = time.perf_counter()
            summary = poll_once(settings, engine)
            seconds = time.perf_counter() - started
            assert summary is not None
            with Session(engine) as session:
                messages = session.exec(select(MessageRecord)).all()
                outbox = session.exec(select(OutboxRecord)).all()
            engine.dispose()
        left = dovecot.folder_counts().get("INBOX", 0)
        received = len(smtp.inbox.messages)
    finally:
        smtp.stop()
        dovecot.stop()

    by_uid = {int(m.location.split(":")[1]): m for m in messages}
    by_key = {key: m for m in messages for key in (m.sha256, m.content_key) if key}
    replies = Counter(row.message_row for row in outbox if row.state == "sent")
    held = Counter(row.message_row for row in outbox if row.state == "held")
    label_of, path_of = {}, {}
    for uid, (label, path) in zip(uids, files, strict=True):
        label_of[uid], path_of[uid] = label, path
    print(f"corpus mail: {len(files)} files, one poll in {seconds:.1f} s "
          f"({len(files) / seconds:.0f} mails/s), peak RSS of this process {high_water_mb():.0f} MB")
    print(f"  recorded: {len(by_uid)} rows, and {summary.already_done} files the same mail as an "
          f"earlier one (decided once); left in INBOX: {left}; "
          f"failed/quarantined: {sum(m.state in ('failed', 'quarantined') for m in messages)}")
    print(f"  replies: {sum(replies.values())} in the outbox as sent, {received} received by SMTP")

    table: Counter[tuple[str, str]] = Counter()
    answered: Counter[str] = Counter()
    silent: list[tuple[str, str, str, str, str]] = []  # path, state, reason, label, why
    for uid in uids:
        label, path = label_of[uid], path_of[uid]
        record = by_uid.get(uid)
        if record is None:  # the same mail as one decided before it (SHA-256, or Message-ID + body)
            raw = re.sub(rb"(?<!\r)\n", b"\r\n", path.read_bytes())  # as IMAP hands it over
            original = by_key.get(hashlib.sha256(raw).hexdigest()) or by_key.get(content_key(raw) or "")
            table[label, "duplicate"] += 1
            first = (path_of[int(original.location.split(":")[1])].relative_to(root) if original
                     else "an earlier file")
            if label not in NEVER_ANSWERED:
                silent.append((str(path.relative_to(root)), "duplicate", f"of {first}", label,
                               "duplicate"))
            continue
        table[label, record.state] += 1
        if replies[record.id]:
            answered[label] += 1
        elif label not in NEVER_ANSWERED:
            why = ("held" if held[record.id] else record.reason if record.state == "auto"
                   else f"{record.state}: {record.reason}")
            silent.append((str(path.relative_to(root)), record.state, record.reason, label, why))
    labels = sorted({label for label, _ in table})
    states = sorted({state for _, state in table})
    print("\n  mails per label and final state (duplicate: the same mail as an earlier file)")
    print(f"  {'label':<17}" + "".join(f"{s:>15}" for s in states) + f"{'total':>8}{'replies':>9}")
    for label in labels:
        row = [table[label, s] for s in states]
        print(f"  {label:<17}" + "".join(f"{n:>15}" for n in row) + f"{sum(row):>8}{answered[label]:>9}")
    never = sum(answered[label] for label in NEVER_ANSWERED)
    print(f"\n  replies to {', '.join(sorted(NEVER_ANSWERED))}: {never}")

    print(f"\n  human mails (human, human_attachment, malformed, unlabelled) without a reply: "
          f"{len(silent)}")
    for why, count in Counter(item[4] for item in silent).most_common():
        print(f"    {count:>3}  {why}: {WHY.get(why, 'NOT EXPLAINED')}")
    unexplained = [item for item in silent if EXPLAINED.get(item[0]) != item[4]]
    print(f"  each one (all explained: {not unexplained}):")
    for relative, state, reason, label, why in sorted(silent):
        mark = "" if EXPLAINED.get(relative) == why else "  <- NOT EXPLAINED"
        print(f"    {relative}  [{label}] {state} ({reason}): {why}{mark}")


CHILD = """
import json, sys, time
from datetime import date
from pathlib import Path
from intake.core.programme import Programme
from intake.core.formats import Limits
from intake.core.rules import Circumstances, decide
from intake.core.workbook import read_participant_list

def high_water_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

path = Path(sys.argv[1])
content = path.read_bytes()
programme = Programme(name="national", title="Supervīzijas", one_supervision_per_educator=True)
before = high_water_mb()
started = time.perf_counter()
plist = read_participant_list(content, path.name, limits=Limits())
decide(plist, Circumstances(programme, date(2026, 11, 25)))
print(json.dumps({"seconds": time.perf_counter() - started, "peak": high_water_mb(), "before": before}))
"""


def sheet_figures(shared: Path) -> None:
    root = shared / "corpus" / "sheets"
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    settings = load_settings({"INTAKE_STATE_DIR": tempfile.gettempdir()})
    programme = settings.programmes["national"]
    print(f"\ncorpus sheets: {len(paths)} files, each alone (read_participant_list + decide)")
    codes: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    for path in paths:
        decision = decide(read_participant_list(path.read_bytes(), path.name, limits=settings.limits),
                          Circumstances(programme, date(2026, 11, 25)))
        found = sorted({f.code for f in decision.findings})
        verdict = "accepted" if decision.accepted else "rejected"
        verdicts[verdict] += 1
        codes.update(found)
        print(f"  {path.relative_to(root)}  {verdict}  {' '.join(found) or '-'}")
    print("  verdicts: " + ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items())))
    print("  files per finding code: " + ", ".join(f"{c} {n}" for c, n in codes.most_common()))

    figures = []
    for path in paths:
        output = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                                text=True, check=True)
        figures.append((json.loads(output.stdout.splitlines()[-1]), path))
    slowest, slow_path = max(figures, key=lambda item: item[0]["seconds"])
    biggest, big_path = max(figures, key=lambda item: item[0]["peak"] - item[0]["before"])
    print(f"  worst time (each file in a fresh process): {slowest['seconds']:.2f} s for "
          f"{slow_path.relative_to(root)} (peak RSS {slowest['peak']:.0f} MB)")
    print(f"  worst peak RSS: {biggest['peak']:.0f} MB ({biggest['peak'] - biggest['before']:.0f} MB "
          f"above the {biggest['before']:.0f} MB after imports) for {big_path.relative_to(root)} "
          f"({biggest['seconds']:.2f} s)")
    print(f"  all {len(paths)} files: {sum(f['seconds'] for f, _ in figures):.1f} s in total")


def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # the poll's own log lines would drown the figures
    shared = shared_dir()
    mail_figures(shared)
    sheet_figures(shared)


if __name__ == "__main__":
    main()
