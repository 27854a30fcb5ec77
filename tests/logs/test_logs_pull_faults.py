"""`sfops logs pull` when logs arrive late and bodies arrive short (issue 15 items 4 and 5, and the
cut-short reply of item 12), through the fault proxy and the CLI in-process."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from emulator_cli_support import emulator_cli_env
from fault_proxy import FaultProxy, proxied_cli_env
from paths import APEX_LOGS

from sfops.cli.app import invoke
from sfops.emulator.testing import RunningEmulator
from sfops.logs.store import get_watermark, known_key
from sfops.store import Store, schema
from sfops.store.apex_logs import count_logs, load_body


def _under(store: Store, name: str) -> int:
    """Rows stored under exactly `name` (reads by alias resolve to the org id, so ask the table)."""
    with store.engine.connect() as conn:
        return len(conn.execute(schema.apex_log.select().where(schema.apex_log.c.org == name)).all())


MINIMAL = (APEX_LOGS / "certinia-mcp-minimal-v64.log").read_text()
BODY = "/services/data/*/tooling/sobjects/ApexLog/*/Body"

pytestmark = pytest.mark.integration


@pytest.fixture
def env(emu: RunningEmulator, tmp_path: Path, proxy: FaultProxy) -> dict[str, str]:
    return proxied_cli_env(emulator_cli_env(emu, tmp_path), emu, proxy)


def add_log(emu: RunningEmulator, start: dt.datetime, body: str = MINIMAL) -> str:
    return emu.emulator.add_apexlog(body, {"StartTime": start.strftime("%Y-%m-%dT%H:%M:%S.000+0000")})


def pull(env: dict[str, str], *extra: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = invoke(["--json", "logs", "pull", *extra], env)
    assert "Traceback" not in out + err
    return code, json.loads(out), err


def test_a_log_written_after_the_pull_but_started_before_its_watermark_is_pulled(
    emu: RunningEmulator, env: dict[str, str], proxy: FaultProxy
) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    add_log(emu, now - dt.timedelta(minutes=5))
    code, _, _ = pull(env)
    assert code == 0
    store = Store.open(env["SFOPS_STORE_URL"])
    stored = count_logs(store, known_key(store, "emu"))
    watermark = get_watermark(store, known_key(store, "emu"))
    assert watermark is not None
    # a 20-minute transaction that started before the watermark ends now: Salesforce writes its row now
    late = add_log(emu, watermark - dt.timedelta(minutes=20))
    proxy.clear()
    code, second, _ = pull(env)
    assert code == 0 and second["result"]["pulled"] == 1
    assert load_body(store, known_key(store, "emu"), late) == MINIMAL.encode()
    assert count_logs(store, known_key(store, "emu")) == stored + 1
    assert len([h for h in proxy.hits if h.path.endswith("/Body")]) == 1  # stored ids are not fetched again
    assert get_watermark(store, known_key(store, "emu")) == watermark
    # a window shorter than the delay misses it (the option is the operator's trade-off)
    add_log(emu, watermark - dt.timedelta(minutes=20))
    code, third, _ = pull(env, "--look-back", "10m")
    assert code == 0 and third["result"]["pulled"] == 0


def test_a_body_shorter_than_log_length_is_fetched_again(
    emu: RunningEmulator, env: dict[str, str], proxy: FaultProxy
) -> None:
    log_id = add_log(emu, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    proxy.add("corrupt", method="GET", path=BODY.replace("*/Body", f"{log_id}/Body"), body=MINIMAL[:40].encode())
    code, result, _ = pull(env)
    assert code == 0 and result["result"]["errors"] == []
    store = Store.open(env["SFOPS_STORE_URL"])
    assert load_body(store, known_key(store, "emu"), log_id) == MINIMAL.encode()
    assert len(proxy.faults_applied("corrupt")) == 1


def test_a_body_that_stays_short_is_not_stored_and_the_next_pull_gets_it(
    emu: RunningEmulator, env: dict[str, str], proxy: FaultProxy
) -> None:
    log_id = add_log(emu, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    proxy.add(
        "corrupt", method="GET", path=BODY.replace("*/Body", f"{log_id}/Body"), body=MINIMAL[:40].encode(), count=3
    )
    code, result, err = pull(env)
    assert code == 68 and err == ""
    (warning,) = result["warnings"]
    assert log_id in warning and "truncated 3 times" in warning
    store = Store.open(env["SFOPS_STORE_URL"])
    assert load_body(store, known_key(store, "emu"), log_id) is None
    code, result, _ = pull(env)
    assert code == 0 and load_body(store, known_key(store, "emu"), log_id) == MINIMAL.encode()


def test_a_body_cut_short_on_the_wire_is_retried(emu: RunningEmulator, env: dict[str, str], proxy: FaultProxy) -> None:
    log_id = add_log(emu, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    proxy.add("truncate", method="GET", path=BODY.replace("*/Body", f"{log_id}/Body"), keep=40)
    code, result, _ = pull(env)
    assert code == 0 and result["result"]["errors"] == []
    store = Store.open(env["SFOPS_STORE_URL"])
    assert load_body(store, known_key(store, "emu"), log_id) == MINIMAL.encode()
    assert len(proxy.faults_applied("truncate")) == 1


def test_two_aliases_of_one_org_share_one_copy_of_each_log(emu: RunningEmulator, tmp_path: Path) -> None:
    env = emulator_cli_env(emu, tmp_path, aliases=("prod", "ops"))
    store = Store.open(env["SFOPS_STORE_URL"])
    add_log(emu, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    code, first, _ = pull(env, "-o", "prod")
    assert code == 0 and first["result"]["org"] == "prod" and first["result"]["pulled"] >= 1
    code, second, _ = pull(env, "-o", "ops")
    assert code == 0 and second["result"]["pulled"] == 0  # the same org: nothing stored twice
    key = known_key(store, "prod")
    assert key == known_key(store, "ops") and key.startswith("00D")
    assert count_logs(store, key) == first["result"]["pulled"] and _under(store, "prod") == 0
    code, out, _ = invoke(["--json", "logs", "report", "-o", "ops"], env)
    assert code == 0 and json.loads(out)["result"]["logs"] == first["result"]["pulled"]


def test_logs_stored_under_an_alias_by_an_earlier_sfops_move_to_the_org_id(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    from sfops.logs.pull import pull_logs
    from sfops.salesforce import connect

    env = emulator_cli_env(emu, tmp_path)
    store = Store.open(env["SFOPS_STORE_URL"])
    add_log(emu, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    old = pull_logs(connect(emu.org_config(alias="emu"), env={}), store, "emu")  # keyed by alias, as before
    assert old.pulled >= 1 and count_logs(store, "emu") == old.pulled
    code, result, _ = pull(env)
    assert code == 0 and result["result"]["pulled"] == 0  # moved, not pulled again
    key = known_key(store, "emu")
    assert count_logs(store, key) == old.pulled and _under(store, "emu") == 0
    assert count_logs(store, "emu") == old.pulled  # read by alias: the alias's org id
    assert get_watermark(store, key) is not None and get_watermark(store, "emu") is None
