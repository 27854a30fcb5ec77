"""The deploy engine: apply a deploy zip to a working copy of the org (see workstate.py).

``Deployer.run`` validates and applies every component in Salesforce's order:
destructiveChanges.xml / destructiveChangesPre.xml, then the package's adds and updates, then
destructiveChangesPost.xml, then Apex tests (apextests.py). Failures become componentFailures the
way Salesforce words them; the caller commits the working copy only when the deploy succeeded.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from sfops.emulator.metadata import apex, apexcompile, registry
from sfops.emulator.metadata.apextests import TestRunner
from sfops.emulator.metadata.host import DeployFaults, MdUser, MetadataHost
from sfops.emulator.metadata.model import DeployOptions, Outcome, empty_tests, iso
from sfops.emulator.metadata.package import (
    Collector,
    Comp,
    Manifest,
    PayloadError,
    Problem,
    XmlFileError,
    parse_xml,
    read_zip,
    strip_children,
    to_xml,
)
from sfops.emulator.metadata.soapxml import children, local, text
from sfops.emulator.metadata.workstate import WorkState
from sfops.emulator.schema import SchemaError, field_from_element, object_from_metadata_xml

CUSTOM_SUFFIXES = ("__c", "__e", "__mdt", "__b", "__x")
ID_PREFIXES = {
    "ApexClass": "01p",
    "ApexTrigger": "01q",
    "ApexPage": "066",
    "ApexComponent": "099",
    "CustomObject": "01I",
    "CustomField": "00N",
    "Layout": "00h",
    "StaticResource": "081",
    "Flow": "301",
    "PermissionSet": "0PS",
    "Profile": "00e",
    "CustomTab": "01r",
    "CustomLabel": "101",
    "LightningComponentBundle": "0Rb",
    "AuraDefinitionBundle": "0Ab",
    "EmailTemplate": "00X",
    "ValidationRule": "03d",
    "RecordType": "012",
    "ListView": "00B",
    "FlexiPage": "0M0",
}
REFERENCED = "is referenced elsewhere in salesforce.com. Remove the usage and try again."
NO_SUCH_COLUMN = (
    "No such column '{f}' on entity '{o}'. If you are attempting to use a custom field, be sure "
    "to append the '__c' after the custom field name. Please reference your WSDL or the "
    "describe call for the appropriate names."
)


def _is_custom(name: str) -> bool:
    return name.lower().endswith(CUSTOM_SUFFIXES)


class Deployer:
    """One deploy run against a WorkState."""

    def __init__(
        self, host: MetadataHost, work: WorkState, options: DeployOptions, user: MdUser, faults: DeployFaults | None
    ) -> None:
        self.host = host
        self.work = work
        self.options = options
        self.user = user
        self.faults = faults
        self.now = host.now()
        self.stamp = iso(self.now)
        self.out = Outcome()
        self.fault_used = False

    # ------------------------------------------------------------------ top level
    def run(self, zip_bytes: bytes) -> Outcome:
        try:
            dz = read_zip(zip_bytes, self.options.single_package)
        except PayloadError as exc:
            return self._payload_failure(exc)
        collector = Collector(dz.files, dz.prefix)
        adds = collector.collect(dz.manifest)
        for p in collector.problems:
            self._fail(p)
        pre = self._destructive_items(dz.pre, dz.prefix, "destructiveChangesPre.xml")
        post = self._destructive_items(dz.post, dz.prefix, "destructiveChangesPost.xml")
        self.out.components_total = len(adds) + len(pre) + len(post) + len(collector.problems)

        self._delete_phase(pre)
        self._add_phase(adds, collector)
        self._compile_check(adds)
        self._delete_phase(post)
        self._apply_component_fault(adds)
        self.out.successes.append(self._message("", "package.xml", dz.prefix + "package.xml", changed=True))
        self.out.component_errors = len(
            [f for f in self.out.failures if f["fileName"] != "package.xml" or f["componentType"]]
        )
        self.out.components_deployed = len(self.out.successes) - 1
        # Salesforce runs no tests once a component failed; the fault knob may ask for both kinds of
        # failure at once (a demo of a validation that fails every way), so then the tests run anyway
        both = self.fault_used and bool(self.faults and self.faults.failing_tests)
        if self.out.failures and self.options.rollback_on_error and not both:
            self.out.status = "Failed"
            self.out.test_result = empty_tests()
            return self.out
        runner = TestRunner(self.work, self.options, self.faults, self.out)
        runner.run(adds)
        self.fault_used = self.fault_used or runner.fault_used
        if both:
            self.out.status = "Failed"
            return self.out
        if self.out.test_errors:
            self.out.status = "Failed"
        elif self.out.failures:
            self.out.status = "SucceededPartial"
        return self.out

    def _payload_failure(self, exc: PayloadError) -> Outcome:
        self.out.failures.append(self._message("", exc.file_name, exc.file_name, problem=exc.problem, success=False))
        self.out.status = "Failed"
        self.out.test_result = empty_tests()
        return self.out

    def _message(
        self,
        type_name: str,
        full_name: str,
        file_name: str,
        *,
        changed: bool = False,
        created: bool = False,
        deleted: bool = False,
        success: bool = True,
        problem: str | None = None,
        problem_type: str | None = None,
        line: int | None = None,
        column: int | None = None,
        comp_id: str | None = None,
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {"changed": changed}
        if column is not None:
            msg["columnNumber"] = column
        msg.update(
            {
                "componentType": type_name,
                "created": created,
                "createdDate": self.stamp,
                "deleted": deleted,
                "fileName": file_name,
                "fullName": full_name,
            }
        )
        if comp_id:
            msg["id"] = comp_id
        if line is not None:
            msg["lineNumber"] = line
        if problem is not None:
            msg["problem"] = problem
            msg["problemType"] = problem_type or "Error"
        msg["success"] = success
        return msg

    def _fail(self, p: Problem) -> None:
        if p.problem_type == "Warning" and self.options.ignore_warnings:
            self.out.successes.append(
                self._message(p.component_type, p.full_name, p.file_name, problem=p.problem, problem_type="Warning")
            )
            return
        self.out.failures.append(
            self._message(
                p.component_type,
                p.full_name,
                p.file_name,
                success=False,
                problem=p.problem,
                problem_type=p.problem_type,
                line=p.line,
                column=p.column,
            )
        )

    # ------------------------------------------------------------------ deletions
    def _destructive_items(
        self, manifests: list[Manifest], prefix: str, default_name: str
    ) -> list[tuple[str, str, str]]:
        items = []
        for m in manifests:
            for name in m.unknown_types:
                self._fail(
                    Problem(
                        "", name, prefix + default_name, f"Unknown type name '{name}' specified in destructive changes"
                    )
                )
            for type_name, members in m.types.items():
                for member in members:
                    items.append((type_name, member, prefix + default_name))
        return items

    def _delete_phase(self, items: list[tuple[str, str, str]]) -> None:
        doomed = {(t.lower(), m.lower()) for t, m, _ in items}
        # children before their parents: a delta that removes an object lists its fields too
        rank = {"CustomObject": 2, "CustomLabels": 2, "Workflow": 2}
        ordered = sorted(items, key=lambda it: 0 if it[0].lower() in registry.CHILD_TYPES else rank.get(it[0], 1))
        for type_name, member, file_name in ordered:
            problem = self._delete(type_name, member, file_name, doomed)
            if problem is not None:
                self._fail(problem)

    def _exists(self, type_name: str, member: str) -> bool:
        if self.work.get(type_name, member) is not None:
            return True
        if type_name == "CustomObject":
            obj = self.work.schema.get(member)
            return obj is not None and obj.custom
        if type_name == "CustomField" and "." in member:
            obj_name, field_name = member.split(".", 1)
            obj = self.work.schema.get(obj_name)
            f = obj.field(field_name) if obj else None
            return f is not None and f.custom
        if type_name in ("ApexClass", "ApexTrigger"):
            return member.lower() not in self.work.removed_apex and bool(
                self.host.find_records(type_name, "Name", member)
            )
        return False

    def _delete(self, type_name: str, member: str, file_name: str, doomed: set[tuple[str, str]]) -> Problem | None:
        if not self._exists(type_name, member):
            return Problem(
                type_name, member, file_name, f"No {type_name} named: {member} found", problem_type="Warning"
            )
        rec = self.work.get(type_name, member)
        shown_file = _file_of(rec, type_name, member)
        ref = self._referenced_by(type_name, member, doomed)
        if ref:
            return Problem(type_name, member, shown_file, f"This {_kind_words(type_name)} {REFERENCED} : {ref}")
        if type_name == "CustomObject":
            self.work.schema.remove_object(member)
            for r in list(self.work.comps.values()):
                child_of = (r.get("parent") or "").lower() == member.lower() and r["type"] in _object_child_types()
                layout_of = r["type"] == "Layout" and r["fullName"].lower().startswith(member.lower() + "-")
                if child_of or layout_of:
                    self.work.drop(r["type"], r["fullName"])
        elif type_name == "CustomField":
            obj_name, field_name = member.split(".", 1)
            self.work.schema.remove_field(obj_name, field_name)
        elif type_name in ("ApexClass", "ApexTrigger"):
            self.work.apex_ops.append(("delete", type_name, member, {}))
            self.work.removed_apex.add(member.lower())
        self.work.drop(type_name, member)
        self.out.successes.append(
            self._message(type_name, member, shown_file, changed=False, deleted=True, comp_id=(rec or {}).get("id"))
        )
        return None

    def _referenced_by(self, type_name: str, member: str, doomed: set[tuple[str, str]]) -> str | None:
        """The first remaining component that uses the one being deleted, as 'Apex Class.Name'."""
        if type_name not in ("ApexClass", "CustomObject", "CustomField"):
            return None
        if type_name == "CustomField":
            obj_name, word = member.split(".", 1)
        else:
            obj_name, word = None, member
        for ctype, name, code in self.work.apex_bodies():
            if (ctype.lower(), name.lower()) in doomed or name.lower() == member.lower():
                continue
            used = apex.words(code)
            if word.lower() in used and (obj_name is None or obj_name.lower() in used or not _is_custom(obj_name)):
                return f"{'Apex Class' if ctype == 'ApexClass' else 'Apex Trigger'}.{name}"
        if type_name == "CustomField":  # formulas and validation rules on the same object
            for rec in self.work.comps.values():
                if (rec.get("parent") or "").lower() != obj_name.lower() or rec["fullName"].lower() == member.lower():
                    continue
                if (rec["type"].lower(), rec["fullName"].lower()) in doomed:
                    continue
                xml = rec.get("element") or ""
                if re.search(rf"\b{re.escape(word)}\b", _formula_text(xml), re.I):
                    label = "Validation Rule" if rec["type"] == "ValidationRule" else "Custom Field"
                    return f"{label}.{rec['fullName']}"
        return None

    # ------------------------------------------------------------------ adds
    def _add_phase(self, adds: list[Comp], collector: Collector) -> None:
        order = {
            "CustomObject": 0,
            "CustomField": 1,
            "ApexClass": 3,
            "ApexTrigger": 4,
            "Layout": 5,
            "PermissionSet": 5,
            "Profile": 5,
        }
        self.package_classes = {c.full_name.lower() for c in adds if c.type == "ApexClass"}
        for comp in sorted(adds, key=lambda c: order.get(c.type, 2)):
            try:
                problem = self._add(comp, collector)
            except XmlFileError as exc:
                problem = Problem(comp.type, comp.full_name, comp.file_name, exc.problem, exc.line, exc.column)
            if problem is not None:
                self._fail(problem)

    def _compile_check(self, adds: list[Comp]) -> None:
        """Calls to methods the org no longer has, in deployed Apex or in org classes depending on it
        (apexcompile.py); a dependent class's failure is reported on the deployed class."""
        deployed = {c.full_name.lower(): c for c in adds if c.type in ("ApexClass", "ApexTrigger")}
        if not deployed:
            return
        for problem in apexcompile.unresolved_calls(self.work.apex_bodies(), set(deployed)):
            comp = deployed.get(problem.caller.lower()) or deployed.get(problem.owner.lower())
            if comp is None:
                continue
            if problem.caller.lower() in deployed:
                text, line, col = problem.message, problem.line, problem.column
            else:
                text = (
                    f"Dependent class is invalid and needs recompilation:\n Class {problem.caller} : {problem.message}"
                )
                line, col = None, None
            self.out.successes = [
                m for m in self.out.successes if (m["componentType"], m["fullName"]) != (comp.type, comp.full_name)
            ]
            self._fail(Problem(comp.type, comp.full_name, comp.file_name, text, line, col))

    def _record(self, comp: Comp, files: dict[str, bytes] | None = None, element: Any = None) -> dict[str, Any]:
        """Store a component in the work state; the DeployMessage says whether it was created."""
        old = self.work.get(comp.type, comp.full_name)
        rec: dict[str, Any] = {
            "type": comp.type,
            "fullName": comp.full_name,
            "fileName": comp.file_name,
            "files": {p: base64.b64encode(d).decode() for p, d in (files or {}).items()},
            "element": to_xml(element).decode() if element is not None else None,
            "parent": comp.parent,
            "id": (old or {}).get("id")
            or (self.host.new_id(ID_PREFIXES[comp.type]) if comp.type in ID_PREFIXES else ""),
            "createdDate": (old or {}).get("createdDate", self.stamp),
            "createdById": (old or {}).get("createdById", self.user.user_id),
            "createdByName": (old or {}).get("createdByName", self.user.name),
            "lastModifiedDate": self.stamp,
            "lastModifiedById": self.user.user_id,
            "lastModifiedByName": self.user.name,
        }
        same = old is not None and old.get("files") == rec["files"] and old.get("element") == rec["element"]
        self.work.put(rec)
        msg = self._message(
            comp.type,
            comp.full_name,
            comp.file_name,
            changed=old is None or not same,
            created=old is None,
            comp_id=rec["id"] or None,
        )
        self.out.successes.append(msg)
        return rec

    def _check_xml_files(self, comp: Comp) -> None:
        mdtype = registry.type_by_name(comp.type)
        for path, data in comp.files.items():
            main_is_xml = mdtype is None or not (mdtype.meta_file or mdtype.bundle)
            if path.endswith((".xml", "-meta.xml")) or main_is_xml:
                try:
                    parse_xml(data, path)
                except XmlFileError as exc:
                    raise XmlFileError(exc.problem, exc.line, exc.column) from exc

    def _add(self, comp: Comp, collector: Collector) -> Problem | None:
        if comp.element is not None:
            return self._add_child(comp)
        if comp.type in ("CustomLabels", "Workflow"):
            return self._add_container(comp, collector)
        if comp.type != "CustomObject":  # containers were parsed (and problems reported) by the collector
            self._check_xml_files(comp)
        handler = getattr(self, f"_add_{comp.type}", None)
        if handler is not None:
            return handler(comp, collector)
        self._record(comp, comp.files)
        return None

    def _add_container(self, comp: Comp, collector: Collector) -> Problem | None:
        mdtype = registry.type_by_name(comp.type)
        assert mdtype is not None
        root = collector.container(mdtype, comp.full_name)
        if root is None:
            return None
        self._record(comp, {next(iter(comp.files)): to_xml(strip_children(root, mdtype))})
        return None

    def _add_CustomObject(self, comp: Comp, collector: Collector) -> Problem | None:
        mdtype = registry.type_by_name("CustomObject")
        assert mdtype is not None
        root = collector.container(mdtype, comp.full_name)
        if root is None:
            return None  # the collector has reported the parse error
        stripped = strip_children(root, mdtype)
        path = next(iter(comp.files))
        if _is_custom(comp.full_name):
            try:
                obj = object_from_metadata_xml(to_xml(stripped), comp.full_name)
            except SchemaError as exc:
                return Problem(comp.type, comp.full_name, comp.file_name, str(exc))
            self.work.schema.upsert_object(obj)
        elif self.work.schema.get(comp.full_name) is None:
            return Problem(
                comp.type,
                comp.full_name,
                comp.file_name,
                f"Cannot create a new component with the namespace: {comp.full_name}. "
                "Only components in the same namespace as the organization can be created "
                "through the API",
            )
        self._record(comp, {path: to_xml(stripped)})
        return None

    def _add_child(self, comp: Comp) -> Problem | None:
        parent_type = registry.CHILD_TYPES[comp.type.lower()][0]
        name = comp.full_name.split(".", 1)[1] if "." in comp.full_name else comp.full_name
        if parent_type.name == "CustomObject":
            obj = self.work.schema.get(comp.parent or "")
            if obj is None:
                return Problem(
                    comp.type,
                    comp.full_name,
                    comp.file_name,
                    f"In field: {name} - no CustomObject named {comp.parent} found",
                )
            if comp.type == "CustomField":
                problem = self._apply_field(comp, name)
                if problem is not None:
                    return problem
        self._record(comp, element=comp.element)
        return None

    def _apply_field(self, comp: Comp, name: str) -> Problem | None:
        obj_name = comp.parent or ""
        try:
            fdef = field_from_element(comp.element, obj_name)
        except SchemaError as exc:
            if not _is_custom(name) and self.work.schema.get(obj_name) and self.work.schema.get(obj_name).field(name):  # type: ignore[union-attr]
                return None  # standard field customisation (picklist values, help text)
            return Problem(comp.type, comp.full_name, comp.file_name, str(exc))
        for target in fdef.reference_to:
            if self.work.schema.get(target) is None:
                return Problem(
                    comp.type,
                    comp.full_name,
                    comp.file_name,
                    f"referenceTo value of '{target}' does not resolve to a valid sObject type",
                )
        if not _is_custom(name):
            obj = self.work.schema.get(obj_name)
            if obj is None or obj.field(name) is None:
                return Problem(
                    comp.type,
                    comp.full_name,
                    comp.file_name,
                    f"Cannot create a standard field: {comp.full_name}. Custom field names must end with __c",
                )
            return None
        self.work.schema.upsert_field(obj_name, fdef)
        return None

    def _apex_checks(self, comp: Comp, code: str) -> Problem | None:
        known = (
            {r["fullName"].lower() for r in self.work.of_type("ApexClass")}
            | self.package_classes
            | apex.declared_classes(code)
        )
        for name, offset in apex.supertypes(code):
            if name.lower() not in known:
                line, col = apex.position(code, offset)
                return Problem(comp.type, comp.full_name, comp.file_name, f"Invalid type: {name}", line, col)
        for name, offset in apex.custom_types(code):
            if self.work.schema.get(name) is None:
                line, col = apex.position(code, offset)
                return Problem(comp.type, comp.full_name, comp.file_name, f"Invalid type: {name}", line, col)
        for obj_name, fields in apex.soql_selects(code):
            obj = self.work.schema.get(obj_name)
            if obj is None:
                continue
            for fname, offset in fields:
                if obj.field(fname) is None:
                    line, col = apex.position(code, offset)
                    return Problem(
                        comp.type, comp.full_name, comp.file_name, NO_SUCH_COLUMN.format(f=fname, o=obj.name), line, col
                    )
        gone = (self.work.removed_apex - known) & apex.words(code)
        if gone:
            name = sorted(gone)[0]
            line, col = apex.first_word(code, name)
            return Problem(comp.type, comp.full_name, comp.file_name, f"Invalid type: {name}", line, col)
        return None

    def _apex_source(self, comp: Comp, suffix: str) -> tuple[str, str, dict[str, Any]]:
        body_path = next(p for p in comp.files if p.endswith(suffix))
        body = comp.files[body_path].decode("utf-8", "replace")
        meta = parse_xml(comp.files[body_path + "-meta.xml"], body_path + "-meta.xml")
        version = text(meta, "apiVersion") or self.host.api_version
        status = text(meta, "status") or "Active"
        return body, apex.strip_code(body), {"ApiVersion": float(version), "Status": status}

    def _add_ApexClass(self, comp: Comp, collector: Collector) -> Problem | None:
        body, code, fields = self._apex_source(comp, ".cls")
        problem = apex.brace_problem(code)
        if problem:
            return Problem(comp.type, comp.full_name, comp.file_name, problem.message, problem.line, problem.column)
        decl = apex.declared_class(code)
        if decl is None or decl[0].lower() != comp.full_name.lower():
            line, col = apex.position(code, decl[1]) if decl else (1, 1)
            found = decl[0] if decl else "nothing"
            return Problem(
                comp.type,
                comp.full_name,
                comp.file_name,
                f"Class name mismatch: the file {comp.full_name}.cls declares {found}",
                line,
                col,
            )
        problem_ = self._apex_checks(comp, code)
        if problem_:
            return problem_
        self._record(comp, comp.files)
        self.work.removed_apex.discard(comp.full_name.lower())
        self.work.apex_ops.append(
            (
                "upsert",
                "ApexClass",
                comp.full_name,
                {
                    "Name": comp.full_name,
                    "Body": body,
                    "IsValid": True,
                    "LengthWithoutComments": apex.length_without_comments(body),
                    "NamespacePrefix": None,
                    **fields,
                },
            )
        )
        return None

    def _add_ApexTrigger(self, comp: Comp, collector: Collector) -> Problem | None:
        body, code, fields = self._apex_source(comp, ".trigger")
        problem = apex.brace_problem(code)
        if problem:
            return Problem(comp.type, comp.full_name, comp.file_name, problem.message, problem.line, problem.column)
        decl = apex.declared_trigger(code)
        if decl is None:
            return Problem(comp.type, comp.full_name, comp.file_name, "Expecting 'trigger' but was: '<EOF>'", 1, 1)
        _name, sobject, offset = decl
        if self.work.schema.get(sobject) is None:
            line, col = apex.position(code, offset)
            return Problem(
                comp.type, comp.full_name, comp.file_name, f"Invalid SObject type name: {sobject}", line, col
            )
        problem_ = self._apex_checks(comp, code)
        if problem_:
            return problem_
        self._record(comp, comp.files)
        self.work.removed_apex.discard(comp.full_name.lower())
        self.work.apex_ops.append(
            (
                "upsert",
                "ApexTrigger",
                comp.full_name,
                {
                    "Name": comp.full_name,
                    "Body": body,
                    "IsValid": True,
                    "TableEnumOrId": sobject,
                    "LengthWithoutComments": apex.length_without_comments(body),
                    "NamespacePrefix": None,
                    **fields,
                },
            )
        )
        return None

    def _field_exists(self, qualified: str) -> bool:
        if "." not in qualified:
            return False
        obj_name, field_name = qualified.split(".", 1)
        obj = self.work.schema.get(obj_name)
        return obj is not None and obj.field(field_name) is not None

    def _add_Layout(self, comp: Comp, collector: Collector) -> Problem | None:
        obj_name = comp.full_name.split("-", 1)[0]
        if self.work.schema.get(obj_name) is None:
            return Problem(
                comp.type, comp.full_name, comp.file_name, f"In field: layout - no CustomObject named {obj_name} found"
            )
        root = parse_xml(next(iter(comp.files.values())), comp.file_name)
        for elem in root.iter():
            if local(elem.tag) == "layoutItems":
                fname = text(elem, "field")
                if fname and not self._field_exists(f"{obj_name}.{fname}"):
                    return Problem(
                        comp.type,
                        comp.full_name,
                        comp.file_name,
                        f"In field: field - no CustomField named {obj_name}.{fname} found",
                    )
        self._record(comp, comp.files)
        return None

    def _add_PermissionSet(self, comp: Comp, collector: Collector) -> Problem | None:
        root = parse_xml(next(iter(comp.files.values())), comp.file_name)
        for fp in children(root, "fieldPermissions"):
            fname = text(fp, "field") or ""
            if not self._field_exists(fname):
                return Problem(
                    comp.type, comp.full_name, comp.file_name, f"In field: field - no CustomField named {fname} found"
                )
        for op in children(root, "objectPermissions"):
            oname = text(op, "object") or ""
            if self.work.schema.get(oname) is None:
                return Problem(
                    comp.type, comp.full_name, comp.file_name, f"In field: object - no CustomObject named {oname} found"
                )
        self._record(comp, comp.files)
        return None

    def _add_CustomMetadata(self, comp: Comp, collector: Collector) -> Problem | None:
        type_name = comp.full_name.split(".", 1)[0] + "__mdt"
        if self.work.schema.get(type_name) is None:
            return Problem(
                comp.type, comp.full_name, comp.file_name, f"In field: type - no CustomObject named {type_name} found"
            )
        self._record(comp, comp.files)
        return None

    # ------------------------------------------------------------------ fault knob and tests
    def _apply_component_fault(self, adds: list[Comp]) -> None:
        if self.faults is None or not self.faults.component_problem:
            return
        for i, msg in enumerate(self.out.successes):
            if msg["componentType"]:
                self.out.successes.pop(i)
                self.out.failures.append(
                    self._message(
                        msg["componentType"],
                        msg["fullName"],
                        msg["fileName"],
                        success=False,
                        problem=self.faults.component_problem,
                        problem_type="Error",
                    )
                )
                self.fault_used = True
                return


def _object_child_types() -> set[str]:
    mdtype = registry.type_by_name("CustomObject")
    assert mdtype is not None
    return set(mdtype.children.values())


def _file_of(rec: dict[str, Any] | None, type_name: str, member: str) -> str:
    if rec is not None:
        return rec.get("fileName") or member
    mdtype = registry.type_by_name(type_name)
    if mdtype is not None and mdtype.suffix:
        return f"{mdtype.directory}/{member}.{mdtype.suffix}"
    if type_name == "CustomField":
        return f"objects/{member.split('.', 1)[0]}.object"
    return member


def _kind_words(type_name: str) -> str:
    return {"ApexClass": "apex class", "CustomObject": "custom object", "CustomField": "custom field"}.get(
        type_name, type_name
    )


def _formula_text(xml: str) -> str:
    found = re.findall(r"<(?:formula|errorConditionFormula)>(.*?)</(?:formula|errorConditionFormula)>", xml, re.S)
    return " ".join(found)
