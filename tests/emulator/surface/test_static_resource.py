"""Tooling StaticResource create with a blob body (issue 19 item 5), through jsforce.

jsforce's own integration tests (jsforce/jsforce test/tooling.test.ts, "can create static resource
using application/json content type", "... multipart/form-data content type with a buffer" and "... with a
base64 encoded string", "can download a static resource binary blob") create a StaticResource through
the Tooling API with ContentType, CacheControl, Name and Body, then read the record: its Body is a URL
whose content is the bytes sent (REST API guide, "Insert or Update Blob Data").
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from surface_support import run_jsforce

from sfops.emulator.testing import RunningEmulator

pytestmark = [pytest.mark.integration, pytest.mark.thirdparty]


def _zip(path: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hello from a static resource\n")
        zf.writestr("bytes.bin", bytes(range(256)))
    path.write_bytes(buf.getvalue())
    return path


def test_static_resource_json_and_multipart_create_then_download(emulator: RunningEmulator, tmp_path: Path) -> None:
    zip_path = _zip(tmp_path / "test.zip")
    out = run_jsforce(
        emulator,
        tmp_path,
        """
  const fs = require('fs');
  const bytes = fs.readFileSync(process.env.ZIP);
  const b64 = bytes.toString('base64');
  const req = (body, n) => ({ ContentType: 'application/zip', CacheControl: 'Private', Name: 'TestZip_' + n,
                              Body: body });
  const multipart = { multipartFileFields: { Body: { contentType: 'application/zip', filename: 'test.zip' } } };
  out.json = await conn.tooling.create('StaticResource', req(b64, 1));
  out.buffer = await conn.tooling.create('StaticResource', req(bytes, 2), multipart);
  out.base64 = await conn.tooling.create('StaticResource', req(b64, 3), multipart);
  out.downloads = [];
  for (const id of [out.json.id, out.buffer.id, out.base64.id]) {
    const record = await conn.tooling.retrieve('StaticResource', id);
    const body = await conn.tooling.request(record.Body, { encoding: 'base64' });
    out.downloads.push({ url: record.Body, length: record.BodyLength, same: body === b64, name: record.Name });
  }
  out.query = (await conn.tooling.query("SELECT Name, ContentType, BodyLength FROM StaticResource ORDER BY Name"))
    .records.map((r) => [r.Name, r.ContentType, r.BodyLength]);
  try {
    await conn.tooling.create('StaticResource', { Name: 'NoBody', ContentType: 'text/plain', CacheControl: 'Public' });
  } catch (e) { out.missing = e.errorCode; }
""",
        env={"ZIP": str(zip_path)},
    )
    size = zip_path.stat().st_size
    for key in ("json", "buffer", "base64"):
        assert out[key]["success"] is True and out[key]["id"].startswith("081"), out[key]
    for i, got in enumerate(out["downloads"], start=1):
        rid = [out["json"], out["buffer"], out["base64"]][i - 1]["id"]
        assert got == {
            "url": f"/services/data/v64.0/tooling/sobjects/StaticResource/{rid}/Body",
            "length": size,
            "same": True,
            "name": f"TestZip_{i}",
        }
    assert out["query"] == [[f"TestZip_{i}", "application/zip", size] for i in (1, 2, 3)]
    assert out["missing"] == "REQUIRED_FIELD_MISSING"
