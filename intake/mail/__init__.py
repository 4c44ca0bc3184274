"""Mail I/O: IMAP (folders, IDLE), SMTP delivery from the outbox, OAuth tokens."""
