"""Fixtures for the kill-switch tests: the shared emulator (tests/conftest.py) over real HTTPS, reset before
every test, an sfops store in tmp_path, and a CLI environment pointing at both."""

from switches_support import emu_and_prod_cli_env as cli_env

__all__ = ["cli_env"]
