"""Real servers for the tests: Dovecot (IMAP), aiosmtpd (SMTP), PostgreSQL databases."""
