"""supervision-intake: answers supervision applications that schools send by e-mail."""
