"""`python -m sfops` runs the CLI."""

from sfops.cli.app import run

if __name__ == "__main__":
    run()
