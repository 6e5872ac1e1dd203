"""Output: rendering rows and messages safely (log content is attacker-controlled)."""
