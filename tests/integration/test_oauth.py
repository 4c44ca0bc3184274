"""XOAUTH2 sign-in against real servers: a Dovecot whose oauth2 passdb asks a local token-introspection
endpoint, aiosmtpd checking XOAUTH2 as Gmail and Exchange Online do, and the token sources (a
command, the refresh-token and client-credentials grants) against a local token endpoint."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from intake.config import load_settings
from intake.config.mail import check_endpoint_url
from intake.errors import ConfigError, MailboxError
from intake.mail.imap import connect_imap
from intake.mail.oauth import STORE_NAME, CommandTokenSource
from intake.mail.outbox import SmtpTransport, Unreachable
from intake.mail.token_endpoint import EndpointSettings, EndpointTokenSource
from intake.mail.xoauth2 import TokenError
from tests.conftest import _service_missing
from tests.support.oauth import CLIENT_ID, CLIENT_SECRET, start_oauth_server

RAW = b"From: a@skola.example.lv\r\nSubject: x\r\nMessage-ID: <o1@skola.example.lv>\r\n\r\nbody\r\n"
CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="module")
def oauth_server():
    server = start_oauth_server()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def oauth_dovecot(oauth_server):
    """A Dovecot of its own (the shared one stays password-only) that also takes XOAUTH2."""
    from tests.support.dovecot import start_dovecot

    try:
        server = start_dovecot(oauth2_url=oauth_server.base_url)
    except (RuntimeError, OSError) as exc:
        _service_missing(f"Dovecot cannot start here: {exc}")
    yield server
    server.stop()


@pytest.fixture
def provider(oauth_server, oauth_dovecot):
    """The provider forgets every token, and the intake's mailbox is empty."""
    oauth_server.provider.reset()
    oauth_dovecot.reset("intake")
    return oauth_server.provider


@pytest.fixture(scope="module")
def oauth_smtp_server(oauth_server, oauth_dovecot):
    from tests.support.smtp import OAuthInbox, start_smtp

    provider = oauth_server.provider
    inbox = OAuthInbox(valid=lambda user, token: provider.user_of(token) == user)
    server = start_smtp(oauth_dovecot.ca_file, oauth_dovecot.root / "key.pem", inbox=inbox)
    yield server
    server.stop()


@pytest.fixture
def oauth_smtp(oauth_smtp_server, provider):
    inbox = oauth_smtp_server.inbox
    inbox.clear()
    inbox.logins.clear()
    inbox.refusals.clear()
    return oauth_smtp_server


class FixedTokens:
    """Always the same token: what a misconfigured source, or an expired token, looks like."""

    def __init__(self, token: str) -> None:
        self.value = token
        self.asked = 0
        self.invalidated = 0

    def token(self) -> str:
        self.asked += 1
        return self.value

    def invalidate(self) -> None:
        self.invalidated += 1


def endpoint(oauth_server, tmp_path, *, refresh_token=None, grant="refresh_token", secret=None,
             scope=None, clock=None) -> EndpointTokenSource:
    settings = EndpointSettings(url=oauth_server.token_url, grant=grant, client_id=CLIENT_ID,
                                scope=scope, client_secret=secret, refresh_token=refresh_token,
                                store=tmp_path / STORE_NAME if grant == "refresh_token" else None,
                                timeout=10)
    return EndpointTokenSource(settings) if clock is None else EndpointTokenSource(settings,
                                                                                   clock=clock)


def imap(server, tokens, *, tls: bool = False):
    return connect_imap(server.url("intake", tls=tls), password=None, ca_file=server.ca_file,
                        timeout=10, tokens=tokens)


# --- IMAP against Dovecot's oauth2 passdb ----------------------------------------------------

@pytest.mark.parametrize("tls", [True, False], ids=["imaps", "starttls"])
def test_a_valid_token_signs_in_and_the_mailbox_lists_and_fetches(oauth_server, oauth_dovecot,
                                                                  provider, tmp_path, tls):
    oauth_dovecot.append(RAW)
    tokens = endpoint(oauth_server, tmp_path, refresh_token=provider.issue_refresh("intake"))
    source = imap(oauth_dovecot, tokens, tls=tls)
    try:
        refs = source.list_new()
        assert [raw for _ref, raw in source.fetch(refs)] == [RAW]
        source.move(refs, "Intake.Applications")
    finally:
        source.close()
    assert oauth_dovecot.folder_counts()["Intake.Applications"] == 1
    # Dovecot asked the endpoint about the token the endpoint issued (tokeninfo, introspection)
    assert set(provider.introspected) == {tokens.token()}


def test_password_sign_in_is_unchanged_beside_xoauth2(oauth_dovecot, provider):
    client = oauth_dovecot.client("intake")  # LOGIN, through the passwd-file passdb
    client.logout()
    token = provider.issue_access("intake")
    with pytest.raises(MailboxError):  # a token is no password
        connect_imap(oauth_dovecot.url("intake"), password=token, ca_file=None, timeout=10)


def test_an_invalid_token_fails_clearly_after_one_renewal(oauth_dovecot, provider):
    tokens = FixedTokens("expired-token-1234567890")
    with pytest.raises(MailboxError) as raised:
        imap(oauth_dovecot, tokens)
    message = str(raised.value)
    assert "refused the XOAUTH2 sign-in as intake" in message
    assert "status 401" in message  # Dovecot's JSON challenge, answered as the mechanism requires
    assert "IMAP.AccessAsUser.All" in message  # what to check
    assert "expired-token-1234567890" not in message
    assert (tokens.asked, tokens.invalidated) == (2, 2)


def test_a_token_of_another_account_is_refused(oauth_dovecot, provider):
    with pytest.raises(MailboxError, match="refused the XOAUTH2 sign-in"):
        imap(oauth_dovecot, FixedTokens(provider.issue_access("school")))


def test_a_token_revoked_early_is_renewed_once_and_the_sign_in_retried(oauth_server, oauth_dovecot,
                                                                       provider, tmp_path):
    tokens = endpoint(oauth_server, tmp_path, refresh_token=provider.issue_refresh("intake"))
    first = tokens.token()
    provider.revoke(first)  # cached by us, refused by the server
    imap(oauth_dovecot, tokens).close()
    assert len(provider.grants) == 2
    assert tokens.token() != first


def test_an_expired_refresh_token_is_a_clear_error(oauth_server, oauth_dovecot, provider, tmp_path):
    tokens = endpoint(oauth_server, tmp_path, refresh_token="rt-long-gone-1234567890")
    with pytest.raises(MailboxError) as raised:
        imap(oauth_dovecot, tokens)
    message = str(raised.value)
    assert "invalid_grant" in message and "AADSTS70000" in message
    assert "sign in again" in message and "INTAKE_OAUTH_REFRESH_TOKEN" in message
    assert "rt-long-gone-1234567890" not in message


# --- the token endpoint -----------------------------------------------------------------------

def test_the_refresh_token_grant_rotates_and_saves_the_refresh_token(oauth_server, oauth_dovecot,
                                                                     provider, tmp_path):
    initial = provider.issue_refresh("intake")
    first = endpoint(oauth_server, tmp_path, refresh_token=initial)
    imap(oauth_dovecot, first).close()
    store = tmp_path / STORE_NAME
    saved = store.read_text()
    assert initial not in saved and initial not in provider.refresh  # rotated: the old one is dead
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [STORE_NAME, f"{STORE_NAME}.lock"]
    assert provider.grants[0]["refresh_token"] == initial

    # A restarted service, still configured with the initial token, uses the saved one.
    second = endpoint(oauth_server, tmp_path, refresh_token=initial)
    imap(oauth_dovecot, second).close()
    assert provider.grants[1]["refresh_token"] in saved
    assert store.read_text() != saved  # rotated and saved again


def test_a_newly_configured_refresh_token_replaces_the_saved_one(oauth_server, provider, tmp_path):
    endpoint(oauth_server, tmp_path, refresh_token=provider.issue_refresh("intake")).token()
    fresh = provider.issue_refresh("intake")  # the operator signed in again
    endpoint(oauth_server, tmp_path, refresh_token=fresh).token()
    assert provider.grants[-1]["refresh_token"] == fresh


def test_a_provider_that_does_not_rotate_leaves_nothing_to_save(oauth_server, provider, tmp_path):
    provider.rotate = False  # Gmail keeps its refresh tokens
    initial = provider.issue_refresh("intake")
    tokens = endpoint(oauth_server, tmp_path, refresh_token=initial)
    tokens.token()
    tokens.invalidate()
    tokens.token()
    assert [g["refresh_token"] for g in provider.grants] == [initial, initial]
    assert not (tmp_path / STORE_NAME).exists()


def test_no_refresh_token_at_all_is_a_configuration_error(oauth_server, provider, tmp_path):
    with pytest.raises(ConfigError, match="INTAKE_OAUTH_REFRESH_TOKEN"):
        endpoint(oauth_server, tmp_path).token()


@pytest.mark.parametrize(("expires_in", "renewed_after"), [(3600, 3300), (100, 50)])
def test_the_access_token_is_kept_until_shortly_before_it_expires(oauth_server, provider, tmp_path,
                                                                  expires_in, renewed_after):
    provider.expires_in = expires_in
    now = [1000.0]
    tokens = endpoint(oauth_server, tmp_path, refresh_token=provider.issue_refresh("intake"),
                      clock=lambda: now[0])
    first = tokens.token()
    now[0] += renewed_after - 1
    assert tokens.token() == first and len(provider.grants) == 1
    now[0] += 1
    assert tokens.token() != first and len(provider.grants) == 2


def test_the_client_credentials_grant_signs_in_app_only(oauth_server, oauth_dovecot, provider,
                                                        tmp_path):
    scope = "https://outlook.office365.com/.default"
    tokens = endpoint(oauth_server, tmp_path, grant="client_credentials", secret=CLIENT_SECRET,
                      scope=scope)
    imap(oauth_dovecot, tokens).close()
    assert provider.grants == [{"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                "client_secret": CLIENT_SECRET, "scope": scope}]


def test_a_wrong_client_secret_is_a_clear_error_without_the_secret(oauth_server, provider, tmp_path):
    tokens = endpoint(oauth_server, tmp_path, grant="client_credentials", secret="wrong-secret-123",
                      scope="x")
    with pytest.raises(TokenError) as raised:
        tokens.token()
    assert "invalid_client" in str(raised.value) and "oauth_client_id" in str(raised.value)
    assert "wrong-secret-123" not in str(raised.value)


def test_the_token_endpoint_is_reached_over_verified_tls(tmp_path):
    from tests.support.dovecot import make_certificate

    cert, key = make_certificate(tmp_path)
    server = start_oauth_server(tls=(cert, key))
    try:
        def source(ca_file):
            return EndpointTokenSource(EndpointSettings(
                url=server.token_url, grant="refresh_token", client_id=CLIENT_ID,
                refresh_token=server.provider.issue_refresh("intake"), ca_file=ca_file, timeout=10))

        assert server.token_url.startswith("https://")
        assert source(cert).token() in server.provider.access
        with pytest.raises(TokenError, match="CERTIFICATE_VERIFY_FAILED"):
            source(None).token()  # the system's CAs do not know the test's own
    finally:
        server.stop()


def test_an_unreachable_token_endpoint_is_a_mailbox_error(oauth_dovecot, provider, tmp_path):
    from tests.support.dovecot import free_port

    settings = EndpointSettings(url=f"http://127.0.0.1:{free_port()}/token", grant="refresh_token",
                                client_id=CLIENT_ID, refresh_token="rt-x", store=None, timeout=5)
    with pytest.raises(MailboxError, match="cannot reach the token endpoint"):
        imap(oauth_dovecot, EndpointTokenSource(settings))


@pytest.mark.parametrize(("url", "ok"), [
    ("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token", True),
    ("https://oauth2.googleapis.com/token", True),
    ("http://127.0.0.1:8080/token", True),
    ("http://localhost/token", True),
    ("http://login.example.com/token", False),
    ("https://user:pass@login.example.com/token", False),
    ("ftp://login.example.com/token", False),
])
def test_the_token_endpoint_must_be_https_except_on_loopback(url, ok):
    if ok:
        check_endpoint_url(url)
    else:
        with pytest.raises(ConfigError, match="oauth_token_url"):
            check_endpoint_url(url)


# --- a command --------------------------------------------------------------------------------

def command(tmp_path, body: str) -> str:
    script = tmp_path / "token.py"
    script.write_text(body)
    return shlex.join([sys.executable, str(script), str(tmp_path / "token.txt")])


def test_the_command_token_source_signs_in(oauth_dovecot, provider, tmp_path):
    (tmp_path / "token.txt").write_text(provider.issue_access("intake"))
    tokens = CommandTokenSource(command(tmp_path, "import sys\nprint(open(sys.argv[1]).read())\n"),
                                timeout=10)
    source = imap(oauth_dovecot, tokens)
    source.close()


def test_a_failing_command_says_so_without_its_error_output(tmp_path):
    tokens = CommandTokenSource(command(tmp_path, "import sys\nsys.stderr.write('client_secret="
                                                  "hunter2\\n')\nsys.exit(3)\n"), timeout=10)
    with pytest.raises(TokenError) as raised:
        tokens.token()
    assert "exited with status 3" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_a_command_that_hangs_is_stopped(tmp_path):
    tokens = CommandTokenSource(command(tmp_path, "import time\ntime.sleep(60)\n"), timeout=0.5)
    with pytest.raises(TokenError, match=r"did not finish within 0\.5 s"):
        tokens.token()


@pytest.mark.parametrize("output", ["", "two words", "line\\nline"])
def test_a_command_must_print_the_token_alone(tmp_path, output):
    tokens = CommandTokenSource(command(tmp_path, f"print('{output}')\n"), timeout=10)
    with pytest.raises(TokenError, match="must print the access token alone"):
        tokens.token()


def test_a_missing_command_is_a_clear_error(tmp_path):
    with pytest.raises(TokenError, match="cannot run oauth_token_command"):
        CommandTokenSource(str(tmp_path / "no-such-helper"), timeout=10).token()


# --- SMTP against aiosmtpd checking XOAUTH2 ---------------------------------------------------

def smtp_transport(server, tokens, ca_file: Path) -> SmtpTransport:
    return SmtpTransport(f"smtp+starttls://intake@localhost:{server.port}", password=None,
                         ca_file=ca_file, timeout=10, tokens=tokens)


def test_smtp_signs_in_by_xoauth2_and_sends(oauth_server, oauth_dovecot, oauth_smtp, provider,
                                            tmp_path):
    tokens = endpoint(oauth_server, tmp_path, refresh_token=provider.issue_refresh("intake"))
    transport = smtp_transport(oauth_smtp, tokens, oauth_dovecot.ca_file)
    try:
        transport.send(RAW, "supervizija@ikvd.example.lv", ["a@skola.example.lv"])
    finally:
        transport.close()
    assert oauth_smtp.inbox.wait_for(1)[0].recipients == ["a@skola.example.lv"]
    assert oauth_smtp.inbox.logins == ["intake"]


def test_smtp_renews_a_refused_token_once(oauth_server, oauth_dovecot, oauth_smtp, provider,
                                          tmp_path):
    tokens = endpoint(oauth_server, tmp_path, refresh_token=provider.issue_refresh("intake"))
    provider.revoke(tokens.token())
    transport = smtp_transport(oauth_smtp, tokens, oauth_dovecot.ca_file)
    try:
        transport.send(RAW, "supervizija@ikvd.example.lv", ["a@skola.example.lv"])
    finally:
        transport.close()
    assert oauth_smtp.inbox.logins == ["intake"]
    assert oauth_smtp.inbox.refusals == [b""]  # the error challenge was answered empty
    assert len(provider.grants) == 2


def test_smtp_refusing_the_token_is_unreachable_with_a_clear_message(oauth_dovecot, oauth_smtp,
                                                                      provider):
    tokens = FixedTokens("bogus-token-1234567890")
    transport = smtp_transport(oauth_smtp, tokens, oauth_dovecot.ca_file)
    with pytest.raises(Unreachable) as raised:
        transport.send(RAW, "supervizija@ikvd.example.lv", ["a@skola.example.lv"])
    message = str(raised.value)
    assert "refused the XOAUTH2 sign-in as intake" in message and "535" in message
    assert "status 400" in message and "SMTP.Send" in message
    assert "bogus-token-1234567890" not in message
    assert oauth_smtp.inbox.messages == [] and tokens.invalidated == 2


# --- configuration and the whole poll ---------------------------------------------------------

def write_config(tmp_path, mail: str) -> Path:
    path = tmp_path / "intake.toml"
    path.write_text(f'programmes_dir = "{CONFIG / "programmes"}"\n[mail]\n{mail}\n')
    return path


def test_settings_read_oauth_secrets_from_the_environment_or_credentials(tmp_path):
    path = write_config(tmp_path, 'mailbox_url = "imaps://intake@mail.example.lv/INBOX"\n'
                                  'mailbox_auth = "xoauth2"\n'
                                  'oauth_token_url = "https://login.example.com/token"\n'
                                  'oauth_client_id = "app"\n')
    (tmp_path / "oauth-refresh-token").write_text("rt-from-credential\n")
    settings = load_settings({"INTAKE_CONFIG": str(path), "CREDENTIALS_DIRECTORY": str(tmp_path),
                              "INTAKE_OAUTH_CLIENT_SECRET": "s3cret"})
    mail = settings.mail
    assert (mail.mailbox_auth, mail.smtp_auth) == ("xoauth2", "password")
    assert mail.oauth_refresh_token == "rt-from-credential"
    assert mail.oauth_client_secret == "s3cret"
    assert "s3cret" not in repr(mail) and "rt-from-credential" not in repr(mail)


@pytest.mark.parametrize(("mail", "message"), [
    ('oauth_client_secret = "x"', "must not hold secrets"),
    ('refresh_token = "x"', "must not hold secrets"),
    ('mailbox_auth = "oauth"', "mailbox_auth must be one of password, xoauth2"),
    ('oauth_grant = "password"', "oauth_grant must be one of"),
    ('mailbox_url = "imaps://intake@mail.example.lv/INBOX"\nmailbox_auth = "xoauth2"',
     "either oauth_token_command or oauth_token_url"),
    ('smtp_url = "smtps://mail.example.lv"\nsmtp_auth = "xoauth2"\noauth_token_command = "t"',
     "needs the account in the URL"),
    ('mailbox_url = "imaps://intake@mail.example.lv/INBOX"\nmailbox_auth = "xoauth2"\n'
     'oauth_token_url = "http://login.example.com/token"\noauth_client_id = "app"', "https://"),
    ('mailbox_url = "imaps://intake@mail.example.lv/INBOX"\nmailbox_auth = "xoauth2"\n'
     'oauth_token_url = "https://login.example.com/token"', "needs oauth_client_id"),
    ('mailbox_url = "imaps://intake@mail.example.lv/INBOX"\nmailbox_auth = "xoauth2"\n'
     'oauth_token_url = "https://login.example.com/token"\noauth_client_id = "app"\n'
     'oauth_grant = "client_credentials"', "client secret"),
    ('oauth_token_command = "helper \'unclosed"', "cannot be parsed"),
])
def test_oauth_settings_are_checked_at_start(tmp_path, mail, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"INTAKE_CONFIG": str(write_config(tmp_path, mail))})


def test_a_poll_signs_in_to_imap_and_smtp_by_xoauth2(oauth_server, oauth_dovecot, oauth_smtp,
                                                     provider, tmp_path):
    """The whole pipeline on a refresh token: list, fetch, decide, reply over SMTP, move."""
    from intake.poll.service import poll_once, prepare_engine

    oauth_dovecot.append(RAW)  # a mail without a list: answered once, with how to apply
    path = write_config(tmp_path, f'mailbox_auth = "xoauth2"\nsmtp_auth = "xoauth2"\n'
                                  f'oauth_token_url = "{oauth_server.token_url}"\n'
                                  f'oauth_client_id = "{CLIENT_ID}"\n'
                                  'oauth_scope = "https://mail.google.com/"\n')
    initial = provider.issue_refresh("intake")
    settings = load_settings({
        "INTAKE_CONFIG": str(path), "INTAKE_STATE_DIR": str(tmp_path / "state"),
        "INTAKE_MAILBOX_URL": oauth_dovecot.url("intake"),
        "INTAKE_SMTP_URL": f"smtp+starttls://intake@localhost:{oauth_smtp.port}",
        "INTAKE_TLS_CA_FILE": str(oauth_dovecot.ca_file), "INTAKE_FROM": "supervizija@ikvd.example.lv",
        "INTAKE_OAUTH_REFRESH_TOKEN": initial,
    })
    engine = prepare_engine(settings)
    try:
        summary = poll_once(settings, engine)
    finally:
        engine.dispose()
    assert summary is not None
    assert oauth_smtp.inbox.wait_for(1)[0].recipients == ["a@skola.example.lv"]
    assert oauth_smtp.inbox.logins == ["intake"]
    assert oauth_dovecot.folder_counts()["INBOX"] == 0
    # One refresh for both connections; its rotated refresh token is saved in the state directory.
    assert [g["grant_type"] for g in provider.grants] == ["refresh_token"]
    assert provider.grants[0]["scope"] == "https://mail.google.com/"
    assert (tmp_path / "state" / STORE_NAME).is_file()


def test_intake_check_signs_in_by_xoauth2_and_names_a_refusal_without_secrets(
        oauth_server, oauth_dovecot, oauth_smtp, provider, tmp_path):
    """As an operator runs it: `intake check` in its own process, secrets from the environment."""
    path = write_config(tmp_path, f'mailbox_auth = "xoauth2"\nsmtp_auth = "xoauth2"\n'
                                  f'oauth_token_url = "{oauth_server.token_url}"\n'
                                  f'oauth_client_id = "{CLIENT_ID}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update({
        "INTAKE_CONFIG": str(path), "INTAKE_STATE_DIR": str(tmp_path / "state"),
        "INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'intake.sqlite3'}",
        "INTAKE_MAILBOX_URL": oauth_dovecot.url("intake"),
        "INTAKE_SMTP_URL": f"smtp+starttls://intake@localhost:{oauth_smtp.port}",
        "INTAKE_TLS_CA_FILE": str(oauth_dovecot.ca_file), "INTAKE_FROM": "supervizija@ikvd.example.lv",
        "INTAKE_OAUTH_CLIENT_SECRET": "client-secret-not-checked-here",
    })

    def check(refresh_token: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "intake", "check"], capture_output=True,
                              text=True, timeout=120, cwd=tmp_path,
                              env={**env, "INTAKE_OAUTH_REFRESH_TOKEN": refresh_token})

    good = check(provider.issue_refresh("intake"))
    assert good.returncode == 0, good.stderr
    assert "mailbox: ok" in good.stdout and "smtp: ok" in good.stdout
    assert oauth_smtp.inbox.logins == ["intake"]

    refused = check("rt-revoked-1234567890")
    assert refused.returncode == 3
    assert "invalid_grant" in refused.stderr and "sign in again" in refused.stderr
    output = refused.stdout + refused.stderr + good.stdout + good.stderr
    issued = [*provider.access, *provider.refresh, *(g["refresh_token"] for g in provider.grants)]
    for secret in ("rt-revoked-1234567890", "client-secret-not-checked-here", *issued):
        assert secret not in output
