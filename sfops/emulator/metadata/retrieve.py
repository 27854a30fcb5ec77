"""retrieve / checkRetrieveStatus, listMetadata, describeMetadata and readMetadata over the stored
components and the live schema."""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as StdET
import zipfile
from typing import Any
from xml.sax.saxutils import escape

from defusedxml import ElementTree

from sfops.emulator.metadata import registry
from sfops.emulator.metadata.deploys import DeployError, iso
from sfops.emulator.metadata.host import MdUser, MetadataHost
from sfops.emulator.metadata.package import comp_key
from sfops.emulator.metadata.soapxml import MD_NS, RawXml
from sfops.emulator.metadata.workstate import stored_components
from sfops.emulator.schema import DESCRIBE_TYPE_TO_METADATA, ObjectDef

RETRIEVE_KIND = "md.retrieve"
EPOCH = "1970-01-01T00:00:00.000Z"
_CONTAINER_TYPES = ("CustomObject", "CustomLabels", "Workflow")


def _decode(rec: dict[str, Any]) -> dict[str, bytes]:
    return {p: base64.b64decode(d) for p, d in rec.get("files", {}).items()}


class MetadataReader:
    """Read side of the Metadata API."""

    def __init__(self, host: MetadataHost) -> None:
        self.host = host

    # ------------------------------------------------------------------ component lookup
    def _comps(self) -> dict[str, dict[str, Any]]:
        return stored_components(self.host)

    def members(self, type_name: str, comps: dict[str, dict[str, Any]]) -> list[str]:
        """Every fullName of a type (stored components, plus schema objects and custom fields)."""
        names = {r["fullName"] for r in comps.values() if r["type"].lower() == type_name.lower()}
        if type_name == "CustomObject":
            names |= {o.name for o in self.host.schema}
        elif type_name == "CustomField":
            for obj in self.host.schema:
                names |= {f"{obj.name}.{f.name}" for f in obj.fields.values() if f.custom}
        return sorted(names, key=str.lower)

    # ------------------------------------------------------------------ retrieve
    def start_retrieve(self, request: dict[str, Any], user: MdUser) -> dict[str, Any]:
        """Build the zip at once (a snapshot); checkRetrieveStatus reports it."""
        comps = self._comps()
        single = request.get("singlePackage", False)
        prefix = "" if single else "unpackaged/"
        wanted: dict[str, list[str]] = {}
        for type_name, members in request.get("types", {}).items():
            canonical = registry.canonical_type_name(type_name) or type_name
            wanted.setdefault(canonical, []).extend(members)
        for path in request.get("specificFiles", []):
            hit = self._component_for_file(path, comps)
            if hit:
                wanted.setdefault(hit[0], []).append(hit[1])
        files: dict[str, bytes] = {}
        props: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        listed: dict[str, list[str]] = {}
        containers: dict[str, list[dict[str, Any]]] = {}  # container path -> child recs
        for type_name, members in wanted.items():
            names = self.members(type_name, comps) if "*" in members else [m for m in members if m != "*"]
            for name in names:
                found = self._add(type_name, name, comps, files, props, containers, user)
                if found:
                    listed.setdefault(type_name, []).append(name)
                else:
                    messages.append(
                        {
                            "fileName": prefix + "package.xml",
                            "problem": f"Entity of type '{type_name}' named '{name}' cannot be found",
                        }
                    )
        for path, recs in containers.items():
            files[path] = self._compose(path, recs, files.get(path))
        files["package.xml"] = _package_xml(listed, request.get("apiVersion") or self.host.api_version)
        now = iso(self.host.now())
        props.append(_props(user, now, now, "package.xml", "package.xml", "", "Package"))
        for p in props:
            p["fileName"] = prefix + p["fileName"]
        rec = {
            "id": self.host.new_id("09S"),
            "status": "Succeeded",
            "done": False,
            "zip": base64.b64encode(_zip({prefix + k: v for k, v in sorted(files.items())})).decode(),
            "fileProperties": sorted(props, key=lambda p: p["fileName"]),
            "messages": messages,
        }
        self.host.put_json(RETRIEVE_KIND, rec["id"][:15], rec)
        return rec

    def check_retrieve(self, retrieve_id: str, include_zip: bool) -> dict[str, Any]:
        """RetrieveResult in the element order of the real response."""
        rec = self.host.get_json(RETRIEVE_KIND, retrieve_id[:15])
        if rec is None:
            raise DeployError("INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {retrieve_id}")
        rec["done"] = True
        self.host.put_json(RETRIEVE_KIND, retrieve_id[:15], rec)
        return {
            "done": True,
            "fileProperties": rec["fileProperties"],
            "id": rec["id"],
            "messages": rec["messages"] or None,
            "status": rec["status"],
            "success": True,
            "zipFile": rec["zip"] if include_zip else None,
        }

    def _component_for_file(self, path: str, comps: dict[str, dict[str, Any]]) -> tuple[str, str] | None:
        path = path.removeprefix("unpackaged/")
        for rec in comps.values():
            if path in rec.get("files", {}) and not rec.get("parent"):
                return rec["type"], rec["fullName"]
        directory, _, rest = path.partition("/")
        mdtype = registry.BY_DIRECTORY.get(directory.lower())
        if mdtype and mdtype.suffix and rest.endswith("." + mdtype.suffix):
            return mdtype.name, rest[: -len(mdtype.suffix) - 1]
        return None

    def _add(
        self,
        type_name: str,
        name: str,
        comps: dict[str, dict[str, Any]],
        files: dict[str, bytes],
        props: list[dict[str, Any]],
        containers: dict[str, list[dict[str, Any]]],
        user: MdUser,
    ) -> bool:
        rec = comps.get(comp_key(type_name, name))
        child = registry.CHILD_TYPES.get(type_name.lower())
        if child is not None:
            parent_type, _ = child
            parent = "CustomLabels" if parent_type.name == "CustomLabels" else name.split(".", 1)[0]
            path = f"{parent_type.directory}/{parent}.{parent_type.suffix}"
            if rec is None and type_name == "CustomField":
                rec = self._synthetic_field(name)
            if rec is None:
                return False
            containers.setdefault(path, []).append(rec)
            props.append(_props_of(rec, user, path))
            return True
        if type_name == "CustomObject":
            path = f"objects/{name}.object"
            obj = self.host.schema.get(name)
            if rec is None and obj is None:
                return False
            if rec is not None:
                files[path] = _decode(rec).get(path) or _object_xml(obj)
            else:
                assert obj is not None
                files[path] = _object_xml(obj)
            kids = [
                r
                for r in comps.values()
                if (r.get("parent") or "").lower() == name.lower() and r["type"] != "CustomLabel"
            ]
            if obj is not None:
                stored = {r["fullName"].lower() for r in kids}
                kids += [
                    s
                    for f in obj.fields.values()
                    if f.custom and f"{obj.name}.{f.name}".lower() not in stored
                    if (s := self._synthetic_field(f"{obj.name}.{f.name}"))
                ]
            containers.setdefault(path, []).extend(kids)
            props.append(
                _props_of(rec, user, path)
                if rec
                else _props(user, EPOCH, EPOCH, path, obj.name if obj else name, "", "CustomObject")
            )
            return True
        if rec is None:
            return False
        if type_name in _CONTAINER_TYPES:
            path = next(iter(rec.get("files", {})), None)
            if path:
                files[path] = _decode(rec)[path]
                kids = [r for r in comps.values() if r.get("parent") == rec["fullName"]]
                containers.setdefault(path, []).extend(kids)
        else:
            files.update(_decode(rec))
        props.append(_props_of(rec, user, _main_file(rec)))
        return True

    def object_file(self, name: str, comps: dict[str, dict[str, Any]]) -> bytes | None:
        """objects/<name>.object as retrieve returns it (object plus all its child components)."""
        files: dict[str, bytes] = {}
        containers: dict[str, list[dict[str, Any]]] = {}
        user = MdUser(self.host.org_id, "")
        if not self._add("CustomObject", name, comps, files, [], containers, user):
            return None
        path = f"objects/{name}.object"
        return self._compose(path, containers.get(path, []), files.get(path))

    def _synthetic_field(self, qualified: str) -> dict[str, Any] | None:
        obj_name, _, field_name = qualified.partition(".")
        obj = self.host.schema.get(obj_name)
        f = obj.field(field_name) if obj else None
        if obj is None or f is None or not f.custom:
            return None
        md_type = DESCRIBE_TYPE_TO_METADATA.get(f.type, "Text")
        parts = [f"<fullName>{escape(f.name)}</fullName>"]
        if f.default is not None and f.type == "boolean":
            parts.append(f"<defaultValue>{str(bool(f.default)).lower()}</defaultValue>")
        parts.append(f"<label>{escape(f.label or f.name)}</label>")
        if f.type in ("string",) and f.length:
            parts.append(f"<length>{f.length}</length>")
        parts += [f"<referenceTo>{escape(t)}</referenceTo>" for t in f.reference_to]
        parts.append(f"<type>{md_type}</type>")
        xml = f'<fields xmlns="{MD_NS}">{"".join(parts)}</fields>'
        return {
            "type": "CustomField",
            "fullName": f"{obj.name}.{f.name}",
            "element": xml,
            "parent": obj.name,
            "id": "",
            "files": {},
        }

    def _compose(self, path: str, kids: list[dict[str, Any]], base: bytes | None) -> bytes:
        directory = path.split("/", 1)[0]
        mdtype = registry.BY_DIRECTORY[directory.lower()]
        root_name = "CustomLabels" if mdtype.name == "CustomLabels" else mdtype.name
        root = ElementTree.fromstring(base) if base else StdET.Element(f"{{{MD_NS}}}{root_name}")
        order = list(mdtype.children.values())
        seen = set()
        for rec in sorted(
            kids, key=lambda r: (order.index(r["type"]) if r["type"] in order else 99, r["fullName"].lower())
        ):
            if rec["fullName"].lower() in seen or not rec.get("element"):
                continue
            seen.add(rec["fullName"].lower())
            root.append(ElementTree.fromstring(rec["element"]))
        body = StdET.tostring(root, encoding="unicode", default_namespace=MD_NS)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode()

    # ------------------------------------------------------------------ listMetadata
    def list_metadata(self, queries: list[tuple[str, str | None]], user: MdUser) -> list[dict[str, Any]]:
        """FileProperties of every component of the queried types (and folders)."""
        comps = self._comps()
        out = []
        for type_name, folder in queries:
            for name in self.members(type_name, comps):
                if folder and not name.lower().startswith(folder.lower() + "/"):
                    continue
                rec = comps.get(comp_key(type_name, name))
                if rec is not None:
                    p = _props_of(rec, user, _main_file(rec), with_state=False)
                elif type_name == "CustomObject":
                    p = _props(user, EPOCH, EPOCH, f"objects/{name}.object", name, "", type_name, with_state=False)
                else:
                    p = _props(
                        user,
                        EPOCH,
                        EPOCH,
                        f"objects/{name.split('.', 1)[0]}.object",
                        name,
                        "",
                        type_name,
                        with_state=False,
                    )
                out.append(p)
        return out

    # ------------------------------------------------------------------ describeMetadata
    def describe_metadata(self) -> dict[str, Any]:
        """DescribeMetadataResult shaped like the recorded one."""
        objects = []
        for t in registry.TYPES:
            entry: dict[str, Any] = {}
            if t.children:
                entry["childXmlNames"] = list(t.children.values())
            entry.update({"directoryName": t.directory, "inFolder": t.in_folder, "metaFile": t.meta_file})
            if t.suffix:
                entry["suffix"] = t.suffix
            entry["xmlName"] = t.name
            objects.append(entry)
        return {
            "metadataObjects": objects,
            "organizationNamespace": "",
            "partialSaveAllowed": True,
            "testRequired": False,
        }

    # ------------------------------------------------------------------ readMetadata
    def read_metadata(self, type_name: str, full_names: list[str]) -> dict[str, Any]:
        """ReadResult: one record per stored component, its XML content inline."""
        comps = self._comps()
        records = []
        for name in full_names:
            rec = comps.get(comp_key(type_name, name))
            if rec is None and type_name == "CustomField":
                rec = self._synthetic_field(name)
            xml = None
            if rec is not None and rec.get("element"):
                xml = rec["element"].encode()
            elif rec is not None:
                xml = next(
                    (
                        d
                        for p, d in _decode(rec).items()
                        if not p.endswith("-meta.xml")
                        and p.endswith(tuple(f".{t.suffix}" for t in registry.TYPES if t.suffix))
                    ),
                    None,
                )
                if type_name in ("ApexClass", "ApexTrigger"):
                    xml = next((d for p, d in _decode(rec).items() if p.endswith("-meta.xml")), None)
            if type_name == "CustomObject":
                xml = self.object_file(name, comps)
            if xml is None:
                records.append({"@xsi:nil": "true"})  # a missing component: a nil record in its place
                continue
            try:
                root = ElementTree.fromstring(xml)
            except Exception:  # a stored non-XML body has no readable record
                records.append({"@xsi:nil": "true"})
                continue
            inner = "".join(
                StdET.tostring(c, encoding="unicode", default_namespace=MD_NS)
                for c in root
                if not c.tag.endswith("}fullName")
            )
            # the response's default namespace is the same; repeating it confuses jsforce's XML-to-JSON
            inner = inner.replace(f' xmlns="{MD_NS}"', "")
            records.append(
                {"@xsi:type": type_name, "fullName": name if rec is None else rec["fullName"], "#raw": RawXml(inner)}
            )
        return {"records": records}


def _main_file(rec: dict[str, Any]) -> str:
    files = [p for p in rec.get("files", {}) if not p.endswith("-meta.xml")] or list(rec.get("files", {}))
    return files[0] if files else rec.get("fileName", "")


def _props(
    user: MdUser,
    created: str,
    modified: str,
    file_name: str,
    full_name: str,
    comp_id: str,
    type_name: str,
    *,
    with_state: bool = True,
) -> dict[str, Any]:
    p: dict[str, Any] = {
        "createdById": user.user_id,
        "createdByName": user.name,
        "createdDate": created,
        "fileName": file_name,
        "fullName": full_name,
        "id": comp_id,
        "lastModifiedById": user.user_id,
        "lastModifiedByName": user.name,
        "lastModifiedDate": modified,
    }
    # FileProperties: manageableState is "unmanaged" for the org's own components (standard objects and
    # fields have none, as in mdapi-listmetadata-response.xml); listMetadata also names the (empty)
    # namespacePrefix
    standard = type_name in ("CustomObject", "CustomField") and "__" not in full_name.rpartition(".")[2]
    if not standard:
        p["manageableState"] = "unmanaged"
    if not with_state:
        p["namespacePrefix"] = ""
    p["type"] = type_name
    return p


def _props_of(rec: dict[str, Any], user: MdUser, file_name: str, *, with_state: bool = True) -> dict[str, Any]:
    p = _props(
        user,
        rec.get("createdDate", EPOCH),
        rec.get("lastModifiedDate", EPOCH),
        file_name,
        rec["fullName"],
        rec.get("id") or "",
        rec["type"],
        with_state=with_state,
    )
    p["createdById"] = rec.get("createdById", user.user_id)
    p["createdByName"] = rec.get("createdByName", user.name)
    p["lastModifiedById"] = rec.get("lastModifiedById", user.user_id)
    p["lastModifiedByName"] = rec.get("lastModifiedByName", user.name)
    return p


def _object_xml(obj: ObjectDef | None) -> bytes:
    if obj is None:
        return b""
    parts = []
    if obj.custom_setting_type:
        parts.append(f"<customSettingsType>{obj.custom_setting_type}</customSettingsType>")
    parts.append(f"<label>{escape(obj.label or obj.name)}</label>")
    if obj.label_plural:
        parts.append(f"<pluralLabel>{escape(obj.label_plural)}</pluralLabel>")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<CustomObject xmlns="{MD_NS}">{"".join(parts)}</CustomObject>\n'
    ).encode()


def _package_xml(listed: dict[str, list[str]], version: str) -> bytes:
    types = "".join(
        "<types>"
        + "".join(f"<members>{escape(m)}</members>" for m in sorted(ms, key=str.lower))
        + f"<name>{escape(t)}</name></types>"
        for t, ms in sorted(listed.items())
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Package xmlns="{MD_NS}">{types}'
        f"<version>{escape(version)}</version></Package>\n"
    ).encode()


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return buf.getvalue()
