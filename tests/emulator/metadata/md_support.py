"""An in-memory MetadataHost, zip builders and SOAP helpers for the Metadata API tests."""

from __future__ import annotations

import base64
import copy
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from defusedxml import ElementTree as SafeET
from simple_salesforce.messages import CHECK_DEPLOY_STATUS_MSG, CHECK_RETRIEVE_STATUS_MSG, DEPLOY_MSG, RETRIEVE_MSG

from sfops.emulator.ids import IdFactory
from sfops.emulator.metadata.host import DeployFaults, MdUser
from sfops.emulator.metadata.service import MetadataService
from sfops.emulator.schema import Schema, default_schema

TOKEN = "00D5g0000000001!EMULATOR_TEST_TOKEN"
USER = MdUser("0055g0000000001AAA", "Ada Admin")
NS = {"soapenv": "http://schemas.xmlsoap.org/soap/envelope/", "mt": "http://soap.sforce.com/2006/04/metadata"}


class MemoryHost:
    """MetadataHost kept in dicts; transaction() restores a snapshot when the block raises."""

    def __init__(self) -> None:
        self.org_id = "00D5g0000000001EAA"
        self.api_version = "62.0"
        self.schema: Schema = default_schema()
        self.clock = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
        self.ids = IdFactory()
        self.store: dict[str, dict[str, Any]] = {}
        self.records: dict[str, dict[str, dict[str, Any]]] = {"ApexClass": {}, "ApexTrigger": {}}
        self.faults: DeployFaults | None = None
        self.faults_consumed = 0
        self.sessions = {TOKEN: USER}

    def authenticate(self, session_id: str) -> MdUser | None:
        return self.sessions.get(session_id)

    def now(self) -> datetime:
        return self.clock

    def advance(self, **delta: float) -> None:
        self.clock += timedelta(**delta)

    def new_id(self, key_prefix: str) -> str:
        return self.ids.new(key_prefix)

    def deploy_faults(self) -> DeployFaults | None:
        return self.faults

    def consume_deploy_fault(self) -> None:
        self.faults_consumed += 1

    def put_json(self, kind: str, key: str, value: Any) -> None:
        self.store.setdefault(kind, {})[key] = copy.deepcopy(value)

    def get_json(self, kind: str, key: str) -> Any | None:
        return copy.deepcopy(self.store.get(kind, {}).get(key))

    def list_json(self, kind: str) -> Mapping[str, Any]:
        return copy.deepcopy(self.store.get(kind, {}))

    def delete_json(self, kind: str, key: str) -> None:
        self.store.get(kind, {}).pop(key, None)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        saved = (copy.deepcopy(self.store), copy.deepcopy(self.records), self.schema.copy())
        try:
            yield
        except BaseException:
            self.store, self.records = saved[0], saved[1]
            self.schema.replace_with(saved[2])
            raise

    def find_records(self, sobject: str, field_name: str, value: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.records.get(sobject, {}).values()
            if str(r.get(field_name, "")).lower() == value.lower()
        ]

    def insert_record(self, sobject: str, fields: Mapping[str, Any]) -> str:
        rid = self.new_id({"ApexClass": "01p", "ApexTrigger": "01q"}[sobject])
        self.records.setdefault(sobject, {})[rid] = {"Id": rid, **fields}
        return rid

    def update_record(self, sobject: str, record_id: str, fields: Mapping[str, Any]) -> None:
        self.records[sobject][record_id].update(fields)

    def delete_record(self, sobject: str, record_id: str) -> None:
        del self.records[sobject][record_id]

    def class_names(self) -> set[str]:
        return {r["Name"] for r in self.records["ApexClass"].values()}


def make_zip(files: Mapping[str, str | bytes]) -> bytes:
    """A zip of the given path -> content map."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zf.writestr(path, data if isinstance(data, bytes) else data.encode())
    return buf.getvalue()


def read_zip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n).decode() for n in zf.namelist()}


def package_xml(types: Mapping[str, list[str]], version: str = "62.0") -> str:
    body = "".join(
        "<types>" + "".join(f"<members>{m}</members>" for m in ms) + f"<name>{t}</name></types>"
        for t, ms in types.items()
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata">'
        f"{body}<version>{version}</version></Package>"
    )


def apex_class(name: str, body: str | None = None) -> dict[str, str]:
    """classes/<name>.cls and its -meta.xml."""
    default = f"public with sharing class {name} {{\n    public static Integer one() {{ return 1; }}\n}}\n"
    src = body if body is not None else default
    meta = (
        '<?xml version="1.0" encoding="UTF-8"?><ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<apiVersion>62.0</apiVersion><status>Active</status></ApexClass>"
    )
    return {f"classes/{name}.cls": src, f"classes/{name}.cls-meta.xml": meta}


def apex_test_class(name: str, target: str, methods: tuple[str, ...] = ("itWorks",)) -> dict[str, str]:
    body = (
        "@isTest\nprivate class "
        + name
        + " {\n"
        + "".join(f"    @isTest static void {m}() {{ System.assertEquals(1, {target}.one()); }}\n" for m in methods)
        + "}\n"
    )
    return apex_class(name, body)


def custom_object(name: str, fields: str = "", label: str = "Thing") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">'
        f"<deploymentStatus>Deployed</deploymentStatus><label>{label}</label>"
        f"<nameField><label>{label} Name</label><type>Text</type></nameField>"
        f"<pluralLabel>{label}s</pluralLabel><sharingModel>ReadWrite</sharingModel>{fields}</CustomObject>"
    )


def text_field(name: str, label: str = "F") -> str:
    return f"<fields><fullName>{name}</fullName><label>{label}</label><length>80</length><type>Text</type></fields>"


def soap_deploy(zip_bytes: bytes, **opts: Any) -> bytes:
    """simple-salesforce's own DEPLOY_MSG, filled the way it fills it (Python booleans)."""
    level = opts.pop("testLevel", None)
    tests = opts.pop("tests", None)
    defaults = {
        "allowMissingFiles": False,
        "autoUpdatePackage": False,
        "checkOnly": False,
        "ignoreWarnings": False,
        "performRetrieve": False,
        "purgeOnDelete": False,
        "rollbackOnError": True,
        "singlePackage": True,
    }
    defaults.update(opts)
    return DEPLOY_MSG.format(
        client="test",
        sessionId=TOKEN,
        ZipFile=base64.b64encode(zip_bytes).decode(),
        testLevel=f"<met:testLevel>{level}</met:testLevel>" if level else "",
        tests="".join(f"<met:runTests>{t}</met:runTests>" for t in (tests or [])),
        **defaults,
    ).encode()


def soap_check(deploy_id: str, include: bool = True) -> bytes:
    return CHECK_DEPLOY_STATUS_MSG.format(
        client="test", sessionId=TOKEN, asyncProcessId=deploy_id, includeDetails=str(include).lower()
    ).encode()


def soap_retrieve(types: Mapping[str, list[str]], single: bool = True) -> bytes:
    unpackaged = "".join(
        "<types>" + "".join(f"<members>{m}</members>" for m in ms) + f"<name>{t}</name></types>"
        for t, ms in types.items()
    )
    return RETRIEVE_MSG.format(
        client="test", sessionId=TOKEN, apiVersion="62.0", singlePackage=single, unpackaged=unpackaged
    ).encode()


def soap_check_retrieve(retrieve_id: str, include_zip: bool = True) -> bytes:
    return CHECK_RETRIEVE_STATUS_MSG.format(
        client="test", sessionId=TOKEN, asyncProcessId=retrieve_id, includeZip=str(include_zip).lower()
    ).encode()


def soap_call(operation: str, inner: str, session: str = TOKEN) -> bytes:
    """A jsforce-style envelope (default namespace, no CallOptions)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
        'envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-'
        f'instance"><soapenv:Header><SessionHeader xmlns="http://soap.sforce.com/2006/04/metadata"><sessionId>'
        f'{session}</sessionId></SessionHeader></soapenv:Header><soapenv:Body><{operation} xmlns="http://soap.'
        f'sforce.com/2006/04/metadata">{inner}</{operation}></soapenv:Body></soapenv:Envelope>'
    ).encode()


def result_of(body: bytes, operation: str) -> ET.Element:
    root = SafeET.fromstring(body)
    res = root.find(f"soapenv:Body/mt:{operation}Response/mt:result", NS)
    assert res is not None, body.decode()
    return res


def field(res: ET.Element, path: str) -> str | None:
    return res.findtext(path, None, NS)


class Client:
    """Drives a MetadataService the way a SOAP client would."""

    def __init__(self, service: MetadataService) -> None:
        self.service = service

    def post(self, body: bytes, **headers: str) -> tuple[int, bytes]:
        status, _, out = self.service.handle_soap(body, {"Content-Type": "text/xml", "SOAPAction": '""', **headers})
        return status, out

    def deploy(self, files: Mapping[str, str | bytes], **opts: Any) -> str:
        status, body = self.post(soap_deploy(make_zip(files), **opts))
        assert status == 200, body.decode()
        res = result_of(body, "deploy")
        assert field(res, "mt:state") == "Queued"
        return field(res, "mt:id") or ""

    def check(self, deploy_id: str, include: bool = True) -> ET.Element:
        status, body = self.post(soap_check(deploy_id, include))
        assert status == 200, body.decode()
        return result_of(body, "checkDeployStatus")

    def wait(self, deploy_id: str, limit: int = 10) -> ET.Element:
        for _ in range(limit):
            res = self.check(deploy_id)
            if field(res, "mt:done") == "true":
                return res
        raise AssertionError("deploy did not finish")

    def deploy_and_wait(self, files: Mapping[str, str | bytes], **opts: Any) -> ET.Element:
        return self.wait(self.deploy(files, **opts))


def failures(res: ET.Element) -> list[dict[str, str | None]]:
    return [{c.tag.split("}")[1]: c.text for c in f} for f in res.findall("mt:details/mt:componentFailures", NS)]


def successes(res: ET.Element) -> list[dict[str, str | None]]:
    return [{c.tag.split("}")[1]: c.text for c in f} for f in res.findall("mt:details/mt:componentSuccesses", NS)]


def companion_zip(base: Path) -> bytes:
    """force-app/main/default (SFDX source format) as a Metadata API deploy zip: objects recomposed from
    their folders, classes copied, permission sets renamed. Enough for the companion's types."""
    files: dict[str, str] = {}
    types: dict[str, list[str]] = {}
    for obj in sorted(p for p in (base / "objects").iterdir() if p.is_dir()):
        meta = (obj / f"{obj.name}.object-meta.xml").read_text(encoding="utf-8")
        inner = ""
        for sub in sorted(obj.rglob("*-meta.xml")):
            if sub.name.endswith(".object-meta.xml"):
                continue
            xml = re.sub(r"<\?xml[^>]*\?>", "", sub.read_text(encoding="utf-8"))
            root = re.match(r"\s*<(\w+)", xml).group(1)  # type: ignore[union-attr]
            body = re.sub(rf"</{root}>\s*$", "", re.sub(rf"^\s*<{root}[^>]*>", "", xml))
            if "<fullName>" not in body:
                body = f"<fullName>{sub.name.split('.')[0]}</fullName>" + body
            inner += f"<{sub.parent.name}>{body}</{sub.parent.name}>"
        files[f"objects/{obj.name}.object"] = meta.replace("</CustomObject>", inner + "</CustomObject>")
        types.setdefault("CustomObject", []).append(obj.name)
    for cls in sorted((base / "classes").glob("*.cls")):
        files[f"classes/{cls.name}"] = cls.read_text(encoding="utf-8")
        files[f"classes/{cls.name}-meta.xml"] = cls.with_name(cls.name + "-meta.xml").read_text(encoding="utf-8")
        types.setdefault("ApexClass", []).append(cls.stem)
    for trg in sorted((base / "triggers").glob("*.trigger")) if (base / "triggers").is_dir() else []:
        files[f"triggers/{trg.name}"] = trg.read_text(encoding="utf-8")
        files[f"triggers/{trg.name}-meta.xml"] = trg.with_name(trg.name + "-meta.xml").read_text(encoding="utf-8")
        types.setdefault("ApexTrigger", []).append(trg.stem)
    for ps in sorted((base / "permissionsets").glob("*.permissionset-meta.xml")):
        name = ps.name.split(".")[0]
        files[f"permissionsets/{name}.permissionset"] = ps.read_text(encoding="utf-8")
        types.setdefault("PermissionSet", []).append(name)
    files["package.xml"] = package_xml(types)
    return make_zip(files)
