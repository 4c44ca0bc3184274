"""What staff run: the daily summary, the export, reprocess, withdraw, resend."""
