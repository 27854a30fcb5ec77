"""Fixtures for the circuit-breaker tests: the shared emulator (tests/conftest.py) over real HTTPS, reset
before every test, and the same CLI environment as the kill-switch tests (breakers flip linked switches)."""

from switches_support import emu_and_prod_cli_env as cli_env

__all__ = ["cli_env"]
