"""What users read: text, JSON, SARIF and GitHub output, the inventory, rule and catalog docs."""
