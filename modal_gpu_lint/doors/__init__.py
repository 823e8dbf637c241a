"""The ways in: the command line, the flake8 plugin and the mypy plugin."""
