"""signer package."""
