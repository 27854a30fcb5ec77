"""The CRUD-based Metadata calls: createMetadata, updateMetadata, upsertMetadata, renameMetadata and
deleteMetadata (readMetadata is in retrieve.py).

Each component is applied on its own (no AllOrNoneHeader: a failure does not stop the others, as
the Metadata API guide says for these calls) by turning it into a one-component deploy zip and running
the deploy engine on it synchronously, so a custom object created here is the same as a deployed one.
Results are SaveResult / UpsertResult / DeleteResult in the WSDL's element order.
"""

from __future__ import annotations

import base64
import copy
import io
import xml.etree.ElementTree as StdET  # building documents only; requests are parsed with defusedxml
import zipfile
from typing import Any
from xml.sax.saxutils import escape

from sfops.emulator.metadata import registry
from sfops.emulator.metadata.engine import Deployer
from sfops.emulator.metadata.host import MdUser, MetadataHost
from sfops.emulator.metadata.model import DeployOptions
from sfops.emulator.metadata.package import to_xml
from sfops.emulator.metadata.soapxml import MD_NS, XSI_NS, child, local, text
from sfops.emulator.metadata.workstate import WorkState, commit, stored_components

_XSI_TYPE = f"{{{XSI_NS}}}type"


class CrudError(Exception):
    """One component the call cannot apply (statusCode, message) — reported in its result."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def metadata_type(elem: Any) -> str:
    """The component type of a `<metadata xsi:type="...">` element (prefix dropped)."""
    raw = elem.get(_XSI_TYPE) or elem.get("type") or ""
    return raw.split(":", 1)[-1]


class MetadataCrud:
    """Synchronous component writes over a MetadataHost."""

    def __init__(self, host: MetadataHost) -> None:
        self.host = host

    # ------------------------------------------------------------------ calls
    def create(self, items: list[Any], user: MdUser) -> list[dict[str, Any]]:
        """createMetadata: SaveResult per component; an existing one is DUPLICATE_DEVELOPER_NAME."""
        return [self._save(elem, user, mode="create") for elem in items]

    def update(self, items: list[Any], user: MdUser) -> list[dict[str, Any]]:
        """updateMetadata: SaveResult per component; a missing one is INVALID_CROSS_REFERENCE_KEY."""
        return [self._save(elem, user, mode="update") for elem in items]

    def upsert(self, items: list[Any], user: MdUser) -> list[dict[str, Any]]:
        """upsertMetadata: UpsertResult (created, fullName, success) per component."""
        out = []
        for elem in items:
            type_name, full_name = metadata_type(elem), text(elem, "fullName") or ""
            existed = self._exists(type_name, full_name, user)
            result = self._save(elem, user, mode="upsert")
            out.append({"created": not existed and result["success"], **result})
        return out

    def delete(self, type_name: str, full_names: list[str], user: MdUser) -> list[dict[str, Any]]:
        """deleteMetadata: DeleteResult per name."""
        out = []
        for name in full_names:
            try:
                self._check_type(type_name)
                if not self._exists(type_name, name, user):
                    raise CrudError(
                        "INVALID_CROSS_REFERENCE_KEY", f"In field: fullName - no {type_name} named {name} found"
                    )
                self._run(_zip({}, {type_name: [name]}, destructive=True), user)
                out.append({"fullName": name, "success": True})
            except CrudError as exc:
                out.append(_failed(name, exc))
        return out

    def rename(self, type_name: str, old: str, new: str, user: MdUser) -> dict[str, Any]:
        """renameMetadata: the component under its new name, the old one gone; SaveResult names the old one
        (jsforce's integration test expects result.fullName === oldFullName)."""
        try:
            self._check_type(type_name)
            if not self._exists(type_name, old, user):
                raise CrudError("INVALID_CROSS_REFERENCE_KEY", f"In field: fullName - no {type_name} named {old} found")
            if self._exists(type_name, new, user):
                raise CrudError("DUPLICATE_DEVELOPER_NAME", f"There is already a {type_name} named {new}")
            files = self._stored_files(type_name, old)
            renamed = {_renamed_path(path, old, new): data for path, data in files.items()}
            self._run(_zip(renamed, {type_name: [new]}), user)
            self._run(_zip({}, {type_name: [old]}, destructive=True), user)
            return {"fullName": old, "success": True}
        except CrudError as exc:
            return _failed(old, exc)

    # ------------------------------------------------------------------ helpers
    def _save(self, elem: Any, user: MdUser, *, mode: str) -> dict[str, Any]:
        type_name, full_name = metadata_type(elem), text(elem, "fullName") or ""
        try:
            self._check_type(type_name)
            if not full_name:
                raise CrudError("FIELD_INTEGRITY_EXCEPTION", "Must specify a non-empty fullName")
            exists = self._exists(type_name, full_name, user)
            if mode == "create" and exists:
                raise CrudError("DUPLICATE_DEVELOPER_NAME", f"There is already a {type_name} named {full_name}")
            if mode == "update" and not exists:
                raise CrudError(
                    "INVALID_CROSS_REFERENCE_KEY", f"In field: fullName - no {type_name} named {full_name} found"
                )
            self._run(_zip(_component_files(type_name, full_name, elem), {type_name: [full_name]}), user)
            return {"fullName": full_name, "success": True}
        except CrudError as exc:
            return _failed(full_name, exc)

    @staticmethod
    def _check_type(type_name: str) -> None:
        if registry.canonical_type_name(type_name) is None:
            raise CrudError("INVALID_TYPE", f"Unknown type name '{type_name}'")
        mdtype = registry.type_by_name(type_name)
        if mdtype is not None and mdtype.bundle:
            raise CrudError("INVALID_TYPE", f"{type_name} can't be written with the CRUD calls; deploy it")

    def _deployer(self, user: MdUser) -> Deployer:
        return Deployer(self.host, WorkState(self.host), DeployOptions(test_level="NoTestRun"), user, None)

    def _exists(self, type_name: str, full_name: str, user: MdUser) -> bool:
        return self._deployer(user)._exists(registry.canonical_type_name(type_name) or type_name, full_name)

    def _stored_files(self, type_name: str, full_name: str) -> dict[str, bytes]:
        from sfops.emulator.metadata.retrieve import MetadataReader

        if type_name == "CustomObject":
            body = MetadataReader(self.host).object_file(full_name, stored_components(self.host))
            return {f"objects/{full_name}.object": body or b""}
        rec = stored_components(self.host).get(f"{type_name}/{full_name}".lower()) or {}
        return {p: base64.b64decode(d) for p, d in (rec.get("files") or {}).items()}

    def _run(self, zip_bytes: bytes, user: MdUser) -> None:
        work = WorkState(self.host)
        deployer = Deployer(self.host, work, DeployOptions(single_package=True, test_level="NoTestRun"), user, None)
        outcome = deployer.run(zip_bytes)
        problems = [f for f in outcome.failures if f.get("problem")]
        if outcome.status not in ("Succeeded", "SucceededPartial") or problems:
            message = problems[0]["problem"] if problems else (outcome.error_message or "The change failed")
            raise CrudError("FIELD_INTEGRITY_EXCEPTION", message)
        commit(self.host, work, outcome)


def _failed(full_name: str, exc: CrudError) -> dict[str, Any]:
    return {"errors": {"message": exc.message, "statusCode": exc.code}, "fullName": full_name, "success": False}


def _renamed_path(path: str, old: str, new: str) -> str:
    folder, _, file_name = path.rpartition("/")
    if file_name.startswith(old + "."):
        file_name = new + file_name[len(old) :]
    return f"{folder}/{file_name}" if folder else file_name


def _component_files(type_name: str, full_name: str, elem: Any) -> dict[str, bytes]:
    """The metadata-format file(s) of one component given as a CRUD `<metadata>` element."""
    canonical = registry.canonical_type_name(type_name) or type_name
    body = [copy.deepcopy(c) for c in elem if local(c.tag) != "fullName"]
    parent_child = registry.CHILD_TYPES.get(canonical.lower())
    if parent_child is not None:  # CustomField "Obj.Field": a <fields> element inside objects/Obj.object
        parent, element = parent_child
        owner, _, name = full_name.partition(".")
        if parent.name == "CustomLabels":
            owner, name = "CustomLabels", full_name
        root = StdET.Element(f"{{{MD_NS}}}{parent.name}")
        inner = StdET.SubElement(root, f"{{{MD_NS}}}{element}")
        StdET.SubElement(inner, f"{{{MD_NS}}}fullName").text = name
        inner.extend(body)
        return {f"{parent.directory}/{owner}.{parent.suffix}": to_xml(root)}
    mdtype = registry.type_by_name(canonical)
    if mdtype is None:
        raise CrudError("INVALID_TYPE", f"Unknown type name '{type_name}'")
    root = StdET.Element(f"{{{MD_NS}}}{mdtype.name}")
    content = child(elem, "content")
    path = f"{mdtype.directory}/{full_name}" + (f".{mdtype.suffix}" if mdtype.suffix else "")
    if mdtype.meta_file:
        root.extend(c for c in body if local(c.tag) != "content")
        raw = base64.b64decode((content.text or "") if content is not None else "")
        return {path: raw, path + "-meta.xml": to_xml(root)}
    root.extend(body)
    return {path: to_xml(root)}


def _zip(files: dict[str, bytes], members: dict[str, list[str]], *, destructive: bool = False) -> bytes:
    def manifest(types: dict[str, list[str]]) -> str:
        entries = "".join(
            "<types>" + "".join(f"<members>{escape(m)}</members>" for m in ms) + f"<name>{escape(t)}</name></types>"
            for t, ms in types.items()
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><Package xmlns="{MD_NS}">{entries}<version>64.0</version></Package>'
        )

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("package.xml", manifest({} if destructive else members))
        if destructive:
            zf.writestr("destructiveChanges.xml", manifest(members))
        for path, data in files.items():
            zf.writestr(path, data)
    return buf.getvalue()
