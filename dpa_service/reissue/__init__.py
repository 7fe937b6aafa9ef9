"""Re-issue: every agreement made from outdated words gets a new version to sign."""
