"""Pseudonym key versions and their rotation (`jinyu keys`): status, dry run, lake and store re-tokenization."""
