"""supervision-intake: answers supervision applications that schools send by e-mail."""

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"  # the poller's and its worker processes' lines
