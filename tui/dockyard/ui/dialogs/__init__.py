"""Modal screens: confirmations, the SSH host-key decision, help, details."""
