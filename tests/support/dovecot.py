"""A private Dovecot on loopback: generated config, own ports, passwd-file users, Maildir storage."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import imapclient

TEST_USER = "intake-test"  # Dovecot refuses mail access as root: mail is owned by this user


@dataclass
class Dovecot:
    root: Path
    imap_port: int
    imaps_port: int
    ca_file: Path
    users: dict[str, str]

    def client(self, user: str = "school") -> imapclient.IMAPClient:
        client = imapclient.IMAPClient("127.0.0.1", port=self.imap_port, ssl=False, timeout=10)
        client.login(user, self.users[user])
        return client

    def url(self, user: str = "intake", folder: str = "INBOX", *, tls: bool = False) -> str:
        if tls:
            return f"imaps://{user}@localhost:{self.imaps_port}/{folder}"
        return f"imap://{user}@127.0.0.1:{self.imap_port}/{folder}"

    def append(self, raw: bytes, user: str = "intake", folder: str = "INBOX") -> None:
        client = self.client(user)
        try:
            client.append(folder, raw)
        finally:
            client.logout()

    def append_many(self, raws: list[bytes], user: str = "intake", folder: str = "INBOX") -> None:
        """`append` over one connection: a backlog without a login per message."""
        client = self.client(user)
        try:
            for raw in raws:
                client.append(folder, raw)
        finally:
            client.logout()

    def folder_counts(self, user: str = "intake") -> dict[str, int]:
        client = self.client(user)
        try:
            counts = {}
            for flags, _sep, name in client.list_folders():
                if b"\\Noselect" in flags or b"\\NonExistent" in flags:
                    continue  # "Intake" above "Intake.Applications" holds no mail
                status = client.folder_status(name, ["MESSAGES"])
                counts[name] = int(status[b"MESSAGES"])
            return counts
        finally:
            client.logout()

    def reset(self, user: str = "intake") -> None:
        """Empty every folder of `user`, so each test starts from an empty mailbox."""
        client = self.client(user)
        try:
            names = [name for flags, _sep, name in client.list_folders()
                     if name != "INBOX" and b"\\Noselect" not in flags]
            for name in sorted(names, key=len, reverse=True):  # children before parents
                client.delete_folder(name)
            client.select_folder("INBOX")
            uids = client.search(["ALL"])
            if uids:
                client.delete_messages(uids)
                client.expunge()
        finally:
            client.logout()

    def halt(self) -> None:
        """Stop the server as a restart of its host would: the master and every process it started
        (the connections they serve drop), at once. Mail and configuration stay for `restart`."""
        master = int((self.root / "run" / "master.pid").read_text())
        family = _descendants(master)
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in family):
            if time.monotonic() > deadline:
                for pid in family:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def restart(self) -> None:
        """Start the halted server again on the same ports, and wait until it answers a login."""
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        subprocess.run([binary, "-c", str(self.root / "dovecot.conf")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_until_up()

    @property
    def running(self) -> bool:
        try:
            self.client("intake").logout()
        except (OSError, imapclient.exceptions.IMAPClientError):
            return False
        return True

    def wait_until_up(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.running:
            if time.monotonic() > deadline:
                log = self.root / "dovecot.log"
                raise RuntimeError("Dovecot did not start:\n" + (
                    log.read_text() if log.exists() else ""))
            time.sleep(0.05)

    def stop(self) -> None:
        subprocess.run(["doveadm", "-c", str(self.root / "dovecot.conf"), "stop"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)


def _descendants(root: int) -> list[int]:
    """`root` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # gone meanwhile
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1: the tests' own CA."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def _mail_owner() -> tuple[int, int]:
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    try:
        entry = pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        TEST_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(TEST_USER)
    return entry.pw_uid, entry.pw_gid


def _oauth2_passdb(root: Path, base_url: str) -> str:
    """Dovecot 2.3's oauth2 passdb: tokeninfo by GET, then (forced) introspection by POST, whose
    `active` must be true and whose `username` must be the user signing in."""
    (root / "dovecot-oauth2.conf.ext").write_text(f"""
tokeninfo_url = {base_url}/tokeninfo?access_token=
introspection_url = {base_url}/introspect
introspection_mode = post
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 10000
""")
    # Refused tokens are tested: no failure delay, and no authentication penalty (anvil's would
    # slow every later login from 127.0.0.1 by 2, 4, 8, then 15 seconds).
    return f"""
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/dovecot-oauth2.conf.ext
}}
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}"""


def start_dovecot(oauth2_url: str | None = None, *, separator: str = ".", prefix: str = "",
                  layout: str = "", hide: tuple[str, ...] = ()) -> Dovecot:
    """`oauth2_url`: also accept SASL XOAUTH2 and OAUTHBEARER, asking the token-introspection
    endpoint at that base URL (tests/support/oauth.py) whether a token is valid. Password logins
    are the same either way: the passwd-file passdb answers them and only them.

    The folder layout: the personal namespace's hierarchy `separator` and `prefix` ("INBOX." as
    Courier and Cyrus have it), and Dovecot's Maildir `layout` ("" for Maildir++, whose folders
    are directories named with dots and so cannot hold a dot under another separator, or "fs").
    `hide`: capabilities the server stops announcing after login (MOVE, UIDPLUS), as servers
    without them do."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(binary).exists():
        raise RuntimeError("Dovecot is not installed: `apt-get install dovecot-imapd` (.ci/run does)")
    # Socket paths under base_dir have a length limit: keep the folder short.
    root = Path(tempfile.mkdtemp(prefix="dv", dir="/tmp"))
    uid, gid = _mail_owner()
    root.chmod(0o755)  # the unprivileged mail user must reach its home below
    cert, key = make_certificate(root)
    users = {"intake": "intake-secret", "school": "school-secret"}
    (root / "passwd").write_text("".join(
        f"{name}:{{PLAIN}}{password}:{uid}:{gid}::{root}/home/{name}::\n"
        for name, password in users.items()))
    for name in users:
        home = root / "home" / name
        home.mkdir(parents=True)
        os.chown(home, uid, gid)
    imap_port, imaps_port = free_port(), free_port()
    oauth2_mechanisms = password_mechanisms = oauth2_passdb = ""
    if oauth2_url is not None:
        oauth2_mechanisms = " xoauth2 oauthbearer"
        # The passwd-file passdb is kept to passwords; tokens go to the oauth2 passdb alone.
        password_mechanisms = "\n  mechanisms = plain login"
        oauth2_passdb = _oauth2_passdb(root, oauth2_url)
    # As root, Dovecot's login and internal processes must run as an unprivileged user.
    service_user = TEST_USER if os.geteuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
state_dir = {root}/state
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth2_mechanisms}
mail_location = maildir:~/Maildir{f":LAYOUT={layout}" if layout else ""}
first_valid_uid = 0
default_internal_user = {service_user}
default_login_user = {service_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd{password_mechanisms}
}}{oauth2_passdb}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = {separator}
  prefix = {prefix}
}}
""")
    (root / "run").mkdir()
    (root / "state").mkdir()
    # Dovecot's master daemonises and keeps inherited descriptors: no pipes, or run() never returns.
    subprocess.run([binary, "-c", str(root / "dovecot.conf")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Dovecot(root, imap_port, imaps_port, cert, users)
    try:
        server.wait_until_up()
        if hide:
            _hide_capabilities(server, hide)
    except RuntimeError:
        server.stop()
        raise
    return server


def _hide_capabilities(server: Dovecot, hide: tuple[str, ...]) -> None:
    """Announce what this Dovecot announces after login, less `hide` (imap_capability replaces
    the whole list); restarted, as a reload would race the next login."""
    client = server.client("intake")
    try:
        announced = [c.decode() for c in client.capabilities()]
    finally:
        client.logout()
    kept = [c for c in announced if c.upper() not in {h.upper() for h in hide}]
    config = server.root / "dovecot.conf"
    config.write_text(config.read_text() + f"protocol imap {{\n  imap_capability = {' '.join(kept)}\n}}\n")
    server.halt()
    server.restart()


@dataclass(frozen=True)
class Layout:
    """A folder layout a real server has, and what the intake must make of it."""

    options: dict[str, object]  # for start_dovecot
    delimiter: str
    prefix: str
    applications: str  # the server's name for the shipped "Intake/Applications"


LAYOUTS = {
    # The tests' default: Maildir++ with its own ".".
    "dot": Layout({}, ".", "", "Intake.Applications"),
    # "/" over Maildir++ (many distributions' choice): a name with a dot is refused.
    "slash": Layout({"separator": "/"}, "/", "", "Intake/Applications"),
    # Courier and Cyrus: every folder below INBOX.
    "inbox-dot": Layout({"prefix": "INBOX."}, ".", "INBOX.", "INBOX.Intake.Applications"),
    "inbox-slash-fs": Layout({"separator": "/", "prefix": "INBOX/", "layout": "fs"}, "/",
                             "INBOX/", "INBOX/Intake/Applications"),
    # Servers without MOVE: COPY, \Deleted and UID EXPUNGE; without UIDPLUS a plain EXPUNGE.
    "no-move": Layout({"separator": "/", "layout": "fs", "hide": ("MOVE",)}, "/", "",
                      "Intake/Applications"),
    "no-move-no-uidplus": Layout({"hide": ("MOVE", "UIDPLUS")}, ".", "", "Intake.Applications"),
}
