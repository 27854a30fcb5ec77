"""Unit tests: path resolution, per-type conversion, the reference graph, two-phase plans, refusals."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from rollback_support import RepoFactory

from sfops.errors import UsageError
from sfops.rollback.delta import PathTraversalError, compute_delta, safe_relpath
from sfops.rollback.package import folder_name, plan_and_package
from sfops.rollback.plan import build_plan, limit_warnings
from sfops.rollback.refs import Node, references, removed_apex_members, removed_picklist_values
from sfops.rollback.registry import ComponentKey, SourceFile, Unresolved, load_registry
from sfops.rollback.xmlutil import MetadataXmlError, normalised, parse, text_of

P = "force-app/main/default"
NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'


def xml(root: str, body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} {NS}>\n{body}\n</{root}>\n'


def apex(name: str, body: str = "") -> dict[str, str]:
    return {
        f"{P}/classes/{name}.cls": f"public class {name} {{\n{body}\n}}\n",
        f"{P}/classes/{name}.cls-meta.xml": xml("ApexClass", "<apiVersion>62.0</apiVersion>"),
    }


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("classes/A.cls", ("ApexClass", "A", "content")),
        ("classes/A.cls-meta.xml", ("ApexClass", "A", "meta")),
        ("triggers/T.trigger", ("ApexTrigger", "T", "content")),
        ("pages/P.page-meta.xml", ("ApexPage", "P", "meta")),
        ("components/C.component", ("ApexComponent", "C", "content")),
        ("lwc/myCmp/myCmp.js", ("LightningComponentBundle", "myCmp", "bundle")),
        ("aura/auraCmp/auraCmpController.js", ("AuraDefinitionBundle", "auraCmp", "bundle")),
        ("objects/O__c/O__c.object-meta.xml", ("CustomObject", "O__c", "object")),
        ("objects/O__c/fields/F__c.field-meta.xml", ("CustomField", "O__c.F__c", "child")),
        ("objects/O__c/listViews/All.listView-meta.xml", ("ListView", "O__c.All", "child")),
        ("objects/O__c/recordTypes/R.recordType-meta.xml", ("RecordType", "O__c.R", "child")),
        ("objects/O__c/validationRules/V.validationRule-meta.xml", ("ValidationRule", "O__c.V", "child")),
        ("objects/O__c/webLinks/W.webLink-meta.xml", ("WebLink", "O__c.W", "child")),
        ("objects/O__c/compactLayouts/C.compactLayout-meta.xml", ("CompactLayout", "O__c.C", "child")),
        ("objects/O__c/fieldSets/S.fieldSet-meta.xml", ("FieldSet", "O__c.S", "child")),
        ("objects/O__c/businessProcesses/B.businessProcess-meta.xml", ("BusinessProcess", "O__c.B", "child")),
        ("customMetadata/T.R.md-meta.xml", ("CustomMetadata", "T.R", "file")),
        ("labels/CustomLabels.labels-meta.xml", ("CustomLabels", "CustomLabels", "file")),
        ("workflows/O__c.workflow-meta.xml", ("Workflow", "O__c", "file")),
        ("layouts/O__c-Main.layout-meta.xml", ("Layout", "O__c-Main", "file")),
        ("flexipages/Home.flexipage-meta.xml", ("FlexiPage", "Home", "file")),
        ("flows/F.flow-meta.xml", ("Flow", "F", "file")),
        ("permissionsets/PS.permissionset-meta.xml", ("PermissionSet", "PS", "file")),
        ("profiles/Admin.profile-meta.xml", ("Profile", "Admin", "file")),
        ("staticresources/logo.png", ("StaticResource", "logo", "content")),
        ("staticresources/logo.resource-meta.xml", ("StaticResource", "logo", "meta")),
        ("staticresources/app/js/app.js", ("StaticResource", "app", "bundle")),
        ("tabs/O__c.tab-meta.xml", ("CustomTab", "O__c", "file")),
        ("email/Alerts/Welcome.email", ("EmailTemplate", "Alerts/Welcome", "content")),
        ("email/Alerts.emailFolder-meta.xml", ("EmailFolder", "Alerts", "file")),
        ("platformEventChannels/Ch.platformEventChannel-meta.xml", ("PlatformEventChannel", "Ch", "file")),
    ],
)
def test_registry_resolves_source_paths(rel: str, expected: tuple[str, str, str]) -> None:
    found = load_registry().resolve(rel, f"{P}/{rel}")
    assert isinstance(found, SourceFile)
    assert (found.key.type, found.key.name, found.role) == expected


@pytest.mark.parametrize(
    ("rel", "reason"),
    [
        ("weird/thing.nosuchsuffix-meta.xml", "unknown metadata suffix"),
        ("readme", "no metadata suffix"),
        ("workflows/O__c/workflowRules/R.workflowRule-meta.xml", "beta preset"),
        ("objects/O__c/fields/F__c.txt", "not a recognised CustomObject file"),
    ],
)
def test_registry_reports_what_it_cannot_resolve(rel: str, reason: str) -> None:
    found = load_registry().resolve(rel, f"{P}/{rel}")
    assert isinstance(found, Unresolved)
    assert reason in found.reason


def test_registry_is_packaged_with_its_license() -> None:
    from importlib import resources

    data = resources.files("sfops").joinpath("data")
    assert "Apache License" in data.joinpath("metadata-registry.LICENSE.txt").read_text()
    assert len(load_registry().types) > 500
    assert "source-deploy-retrieve" in load_registry().source


# ---------------------------------------------------------------- reference graph


def test_field_references_are_scoped_to_their_object() -> None:
    field = ComponentKey("CustomField", "Incident__c.Breaker_State__c")
    layout = Node(ComponentKey("Layout", "Incident__c-Main"), "<field>Breaker_State__c</field>", "Incident__c")
    other_layout = Node(ComponentKey("Layout", "Event__e-Main"), "<field>Breaker_State__c</field>", "Event__e")
    apex_same = Node(ComponentKey("ApexClass", "X"), "Incident__c i; i.Breaker_State__c = 'Open';")
    apex_other = Node(ComponentKey("ApexClass", "Y"), "Event__e e; e.Breaker_State__c = 'x';")
    formula = Node(ComponentKey("ValidationRule", "Case.V"), "ISBLANK(Incident__c.Breaker_State__c)", "Case")
    assert references(layout, field) and references(apex_same, field) and references(formula, field)
    assert not references(other_layout, field) and not references(apex_other, field)


def test_label_lwc_resource_and_workflow_action_references() -> None:
    apex = Node(ComponentKey("ApexClass", "X"), "String s = Label.Breaker_Open;")
    html = Node(ComponentKey("LightningComponentBundle", "page"), "<c-breaker-status></c-breaker-status>")
    vf = Node(ComponentKey("ApexPage", "P"), "{!$Resource.brandLogo}")
    rule = Node(
        ComponentKey("WorkflowRule", "O__c.R"),
        "<actions><name>Set_X</name></actions>",
        "O__c",
        ComponentKey("Workflow", "O__c"),
    )
    assert references(apex, ComponentKey("CustomLabel", "Breaker_Open"))
    assert not references(apex, ComponentKey("CustomLabel", "Breaker"))
    assert references(html, ComponentKey("LightningComponentBundle", "breakerStatus"))
    assert references(vf, ComponentKey("StaticResource", "brandLogo"))
    assert references(rule, ComponentKey("WorkflowFieldUpdate", "O__c.Set_X"))
    assert not references(rule, ComponentKey("WorkflowFieldUpdate", "O__c.Set_Y"))


def test_removed_apex_members_and_picklist_values() -> None:
    key = ComponentKey("ApexClass", "Svc")
    a = "public class Svc {\n    public static Boolean on() { return true; }\n}"
    b = a[:-1] + "    public static String reason() { return ''; }\n    // public static void ghost() {}\n}"
    symbols = removed_apex_members(key, a, b)
    assert [s.symbol for s in symbols] == ["reason"]
    caller = Node(ComponentKey("ApexClass", "Audit"), "return Svc.reason();")
    assert symbols[0].matcher(caller)
    assert not symbols[0].matcher(Node(ComponentKey("ApexClass", "Other"), "return Svc.on();"))

    fld = ComponentKey("CustomField", "O__c.Sev__c")
    pick = "<value><fullName>{}</fullName></value>"
    values = removed_picklist_values(fld, pick.format("Sev1"), pick.format("Sev1") + pick.format("Sev0"))
    assert [v.symbol for v in values] == ["Sev0"]
    uses = Node(ComponentKey("ValidationRule", "O__c.V"), "ISPICKVAL(Sev__c, 'Sev0')", "O__c")
    assert values[0].matcher(uses)


# ---------------------------------------------------------------- plans on synthetic histories


def test_two_phase_plan_when_a_deletion_is_both_pre_and_post(make_repo: RepoFactory, tmp_path: Path) -> None:
    repo = make_repo(
        [
            {
                **apex("Svc", "public static Boolean on() { return true; }"),
                **apex("Ctl", "public static Boolean x() { return Svc.on(); }"),
            },
            {
                **apex("Svc", "public static Boolean on() { return true; }\npublic static String why() { return ''; }"),
                **apex("Audit", "public static String d() { return Svc.why(); }"),
                **apex("Ctl", "public static String x() { return Audit.d(); }"),
            },
        ]
    )
    out = tmp_path / "pkg"
    plan = plan_and_package(repo, "c2", "c1", out)
    audit = next(i for i in plan.items if i.member == "Audit")
    assert plan.phases == 2
    assert audit.placement == "post" and audit.phase == 1
    assert "Svc.why()" in audit.reasons[0] and "Ctl" in audit.reasons[0]
    phase = {i.member: i.phase for i in plan.items}
    assert phase["Ctl"] == 1 and phase["Svc"] == 2
    assert "ApexClass:Audit" in (out / "phase-1" / "destructiveChangesPost.xml").read_text().replace(
        "<members>Audit</members>", "ApexClass:Audit"
    )
    assert (out / "phase-1" / "classes" / "Ctl.cls").is_file()
    assert (out / "phase-2" / "classes" / "Svc.cls").is_file()
    assert any("Two phases needed" in w for w in plan.warnings)


def test_whole_object_deletion_deletes_the_object_only_and_warns(make_repo: RepoFactory) -> None:
    obj = f"{P}/objects/Legacy__c"
    field = xml("CustomField", "<fullName>A__c</fullName><type>Text</type>")
    repo = make_repo(
        [
            apex("Keep"),
            {
                f"{obj}/Legacy__c.object-meta.xml": xml("CustomObject", "<label>Legacy</label>"),
                f"{obj}/fields/A__c.field-meta.xml": field,
                f"{obj}/listViews/All.listView-meta.xml": xml("ListView", "<fullName>All</fullName>"),
            },
        ]
    )
    plan = build_plan(compute_delta(repo, "c2", "c1"))
    placed = {(i.type, i.member): i.placement for i in plan.items}
    # sgd lists the object AND every child; sfops deletes the object and says the children go with it
    assert placed[("CustomObject", "Legacy__c")] == "post"
    assert placed[("CustomField", "Legacy__c.A__c")] == "skip"
    assert placed[("ListView", "Legacy__c.All")] == "skip"
    assert any("Data loss" in w and "CustomObject:Legacy__c" in w for w in plan.warnings)


def test_move_and_case_only_rename_are_reverts_not_deletions(make_repo: RepoFactory) -> None:
    """edge-cases.md: a class moved to another folder and a case-only rename destroy nothing."""
    c1 = {**apex("Mover"), **apex("Casey")}
    c2 = {
        f"{P}/classes/Mover.cls": None,
        f"{P}/classes/Mover.cls-meta.xml": None,
        f"{P}/classes/Casey.cls": None,
        f"{P}/classes/Casey.cls-meta.xml": None,
        "force-app/other/classes/Mover.cls": c1[f"{P}/classes/Mover.cls"],
        "force-app/other/classes/Mover.cls-meta.xml": c1[f"{P}/classes/Mover.cls-meta.xml"],
        f"{P}/classes/CASEY.cls": c1[f"{P}/classes/Casey.cls"],
        f"{P}/classes/CASEY.cls-meta.xml": c1[f"{P}/classes/Casey.cls-meta.xml"],
    }
    repo = make_repo([c1, c2])
    plan = build_plan(compute_delta(repo, "c2", "c1"))
    assert {(i.member, i.placement) for i in plan.items} == {("Mover", "deploy"), ("Casey", "deploy")}


def test_conversion_of_more_types(make_repo: RepoFactory, tmp_path: Path) -> None:
    page_meta = xml("ApexPage", "<apiVersion>62.0</apiVersion><label>P</label>")
    base = {
        f"{P}/pages/P.page": "<apex:page>v1</apex:page>\n",
        f"{P}/pages/P.page-meta.xml": page_meta,
        f"{P}/aura/box/box.cmp": "<aura:component>v1</aura:component>\n",
        f"{P}/aura/box/box.cmp-meta.xml": xml("AuraDefinitionBundle", "<apiVersion>62.0</apiVersion>"),
        f"{P}/flexipages/Home.flexipage-meta.xml": xml("FlexiPage", "<masterLabel>v1</masterLabel>"),
        f"{P}/flows/F.flow-meta.xml": xml("Flow", "<label>v1</label>"),
        f"{P}/tabs/O__c.tab-meta.xml": xml("CustomTab", "<customObject>true</customObject><motif>v1</motif>"),
        f"{P}/email/Alerts/Hi.email": "Hello v1\n",
        f"{P}/email/Alerts/Hi.email-meta.xml": xml("EmailTemplate", "<name>Hi</name>"),
        f"{P}/platformEventChannels/Ch.platformEventChannel-meta.xml": xml("PlatformEventChannel", "<label>v1</label>"),
        f"{P}/staticresources/logo.png": b"\x89PNG v1",
        f"{P}/staticresources/logo.resource-meta.xml": xml("StaticResource", "<contentType>image/png</contentType>"),
        f"{P}/permissionsets/PS.permissionset-meta.xml": xml(
            "PermissionSet",
            (
                "<classAccesses><apexClass>A</apexClass><enabled>true</enabled></classAccesses>"
                "<fieldPermissions><editable>false</editable><field>O__c.F__c</field></fieldPermissions>"
                "<label>PS</label>"
            ),
        ),
        f"{P}/objects/O__c/webLinks/W.webLink-meta.xml": xml("WebLink", "<fullName>W</fullName><url>v1</url>"),
        f"{P}/objects/O__c/fields/F__c.field-meta.xml": xml("CustomField", "<label>F v1</label>"),
        f"{P}/components/Cmp.component": "<apex:component>v1</apex:component>\n",
        f"{P}/components/Cmp.component-meta.xml": xml("ApexComponent", "<label>Cmp</label>"),
        f"{P}/objects/O__c/compactLayouts/CL.compactLayout-meta.xml": xml("CompactLayout", "<label>v1</label>"),
        f"{P}/objects/O__c/fieldSets/FS.fieldSet-meta.xml": xml("FieldSet", "<label>v1</label>"),
        f"{P}/objects/O__c/businessProcesses/BP.businessProcess-meta.xml": xml(
            "BusinessProcess", "<isActive>true</isActive>"
        ),
        f"{P}/objects/O__c/recordTypes/Old.recordType-meta.xml": xml("RecordType", "<label>Old</label>"),
    }
    changed = {
        k: (v.replace("v1", "v2") if isinstance(v, str) else v + b"2")
        for k, v in base.items()
        if "permissionsets" not in k
    }
    changed[f"{P}/permissionsets/PS.permissionset-meta.xml"] = xml(
        "PermissionSet",
        (
            "<classAccesses><apexClass>A</apexClass><enabled>true</enabled></classAccesses>"
            "<fieldPermissions><editable>true</editable><field>O__c.F__c</field></fieldPermissions>"
            "<fieldPermissions><editable>true</editable><field>O__c.G__c</field></fieldPermissions>"
            "<label>PS</label>"
        ),
    )
    changed[f"{P}/objects/O__c/recordTypes/R.recordType-meta.xml"] = xml("RecordType", "<fullName>R</fullName>")
    changed[f"{P}/objects/O__c/recordTypes/Old.recordType-meta.xml"] = None  # B deleted it: re-added
    changed[f"{P}/flows/Old.flow-meta.xml"] = xml("Flow", "<label>old</label>")
    repo = make_repo([base, changed])
    out = tmp_path / "pkg"
    plan = plan_and_package(repo, "c2", "c1", out)
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {
        "pages/P.page",
        "pages/P.page-meta.xml",
        "aura/box/box.cmp",
        "aura/box/box.cmp-meta.xml",
        "flexipages/Home.flexipage",
        "flows/F.flow",
        "tabs/O__c.tab",
        "email/Alerts/Hi.email",
        "email/Alerts/Hi.email-meta.xml",
        "platformEventChannels/Ch.platformEventChannel",
        "staticresources/logo.resource",
        "staticresources/logo.resource-meta.xml",
        "permissionsets/PS.permissionset",
        "objects/O__c.object",
    } <= files
    assert (out / "staticresources/logo.resource").read_bytes() == b"\x89PNG v1"
    assert "v1" in (out / "pages/P.page").read_text()
    obj = parse((out / "objects/O__c.object").read_bytes())
    assert [e.tag.rsplit("}", 1)[-1] for e in obj] == [
        "compactLayouts",
        "fieldSets",
        "fields",
        "recordTypes",
        "webLinks",
    ]  # BusinessProcess unchanged: absent
    assert text_of(obj[2], "fullName") == "F__c"  # inserted from the file name
    assert "components/Cmp.component" in files and "components/Cmp.component-meta.xml" in files
    pruned = (out / "permissionsets/PS.permissionset").read_text()
    assert "O__c.F__c" in pruned and "<apexClass>A</apexClass>" not in pruned and "<label>PS</label>" in pruned
    placed = {(i.type, i.member): i.placement for i in plan.items}
    assert placed[("RecordType", "O__c.R")] == "skip"
    assert placed[("Flow", "Old")] == "post"
    warnings = " ".join(plan.warnings)
    assert "Record types cannot be deleted" in warnings and "deactivate Old first" in warnings
    assert "fieldPermissions O__c.G__c" in warnings  # B-only grant that A's file does not revoke
    assert "RecordType" not in (out / "destructiveChangesPost.xml").read_text()


def test_folder_static_resource_is_zipped_deterministically(make_repo: RepoFactory, tmp_path: Path) -> None:
    meta = xml("StaticResource", "<contentType>application/zip</contentType>")
    repo = make_repo(
        [
            {
                f"{P}/staticresources/app/b.js": "b1",
                f"{P}/staticresources/app/css/a.css": "a1",
                f"{P}/staticresources/app.resource-meta.xml": meta,
            },
            {f"{P}/staticresources/app/b.js": "b2"},
        ]
    )
    first = plan_and_package(repo, "c2", "c1", tmp_path / "one")
    plan_and_package(repo, "c2", "c1", tmp_path / "two")
    one = (tmp_path / "one/staticresources/app.resource").read_bytes()
    assert one == (tmp_path / "two/staticresources/app.resource").read_bytes()
    archive = zipfile.ZipFile(io.BytesIO(one))
    assert archive.namelist() == ["b.js", "css/", "css/a.css"]
    assert archive.read("b.js") == b"b1"
    assert first.file_count == 5


def test_unknown_types_are_reported_not_dropped(make_repo: RepoFactory, tmp_path: Path) -> None:
    repo = make_repo([apex("A"), {f"{P}/mystery/x.notatype-meta.xml": "<x/>", **apex("A", "// v2")}])
    plan = plan_and_package(repo, "c2", "c1", tmp_path / "pkg")
    assert plan.unknown == [
        {"path": f"{P}/mystery/x.notatype-meta.xml", "type": None, "reason": "unknown metadata suffix .notatype"}
    ]
    assert any("map to no supported metadata type" in w for w in plan.warnings)
    saved = json.loads((tmp_path / "pkg" / "plan.json").read_text())
    assert saved["unknown"][0]["path"].endswith("x.notatype-meta.xml")


def test_labels_in_two_files_merge_into_one_labels_file(make_repo: RepoFactory, tmp_path: Path) -> None:
    def label(name: str, value: str) -> str:
        return f"<labels><fullName>{name}</fullName><value>{value}</value></labels>"

    repo = make_repo(
        [
            {
                f"{P}/labels/CustomLabels.labels-meta.xml": xml(
                    "CustomLabels", label("Zed", "z1") + label("Amy", "a1")
                ),
                "force-app/extra/labels/More.labels-meta.xml": xml("CustomLabels", label("Bob", "b1")),
            },
            {
                f"{P}/labels/CustomLabels.labels-meta.xml": xml(
                    "CustomLabels", label("Zed", "z2") + label("Amy", "a2")
                ),
                "force-app/extra/labels/More.labels-meta.xml": xml("CustomLabels", label("Bob", "b2")),
            },
        ]
    )
    out = tmp_path / "pkg"
    plan_and_package(repo, "c2", "c1", out)
    merged = parse((out / "labels/CustomLabels.labels").read_bytes())
    assert [text_of(e, "fullName") for e in merged] == ["Amy", "Bob", "Zed"]
    assert [text_of(e, "value") for e in merged] == ["a1", "b1", "z1"]


# ---------------------------------------------------------------- refusals and limits


@pytest.mark.parametrize("bad", ["../etc/passwd", "/abs/path", "a/../../b", "a\\b", ""])
def test_unsafe_paths_are_refused(bad: str) -> None:
    with pytest.raises(PathTraversalError):
        safe_relpath(bad)


def test_package_dir_outside_the_repo_is_refused(make_repo: RepoFactory) -> None:
    repo = make_repo([apex("A"), apex("A", "// v2")])
    (repo / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "../outside"}]}')
    import subprocess

    subprocess.run(
        ["git", "-C", str(repo), "commit", "-qam", "bad"],
        check=True,
        capture_output=True,
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@x.invalid",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@x.invalid",
            "PATH": "/usr/bin:/bin",
            "HOME": "/nonexistent",
        },
    )
    with pytest.raises(PathTraversalError):
        compute_delta(repo, "HEAD", "c1")


def test_output_folder_names_are_sanitised_and_foreign_folders_kept(make_repo: RepoFactory, tmp_path: Path) -> None:
    assert folder_name("release/1.1", "../v1.0") == "release_1.1-to-v1.0"
    assert folder_name("..", "HEAD~1") == "ref-to-HEAD_1"
    repo = make_repo([apex("A"), apex("A", "// v2")])
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep")
    with pytest.raises(UsageError, match="not an sfops rollback package"):
        plan_and_package(repo, "c2", "c1", foreign)
    assert (foreign / "precious.txt").read_text() == "keep"


def test_refs_that_look_like_options_are_refused(make_repo: RepoFactory) -> None:
    repo = make_repo([apex("A")])
    with pytest.raises(UsageError):
        compute_delta(repo, "--output=/tmp/x", "c1")


def test_malicious_xml_is_refused(make_repo: RepoFactory) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        f"<CustomLabels {NS}><labels><fullName>X</fullName><value>&b;</value></labels></CustomLabels>"
    )
    repo = make_repo(
        [
            {f"{P}/labels/CustomLabels.labels-meta.xml": xml("CustomLabels", "")},
            {f"{P}/labels/CustomLabels.labels-meta.xml": bomb},
        ]
    )
    with pytest.raises(MetadataXmlError):
        compute_delta(repo, "c2", "c1")


def test_limit_warnings() -> None:
    assert limit_warnings(10_000, 39 * 1024 * 1024) == []
    files = limit_warnings(10_001, 0)
    assert len(files) == 1 and "10,001 files" in files[0] and "split" in files[0]
    size = limit_warnings(5, 40 * 1024 * 1024)
    assert len(size) == 1 and "40.0 MB" in size[0]


def test_written_xml_is_deterministic_and_escaped() -> None:
    from sfops.rollback.xmlutil import element, package_xml, serialize

    doc = serialize("ValidationRule", [element("errorConditionFormula", "ISPICKVAL(S__c, 'R') && x<1")])
    assert b"ISPICKVAL(S__c, &apos;R&apos;) &amp;&amp; x&lt;1" in doc
    assert package_xml({"B": ["z", "a"], "A": ["m"]}, "62.0") == package_xml({"A": ["m"], "B": ["a", "z"]}, "62.0")
    assert normalised(doc) == normalised(doc.replace(b"    ", b"  "))


def test_deletion_still_referenced_outside_the_rollback_is_blocked(make_repo: RepoFactory) -> None:
    repo = make_repo(
        [
            {**apex("Keep", "public static Integer x() { return Gone.y(); }"), **apex("Other")},
            {**apex("Gone", "public static Integer y() { return 1; }")},
        ]
    )
    plan = build_plan(compute_delta(repo, "c2", "c1"))
    gone = next(i for i in plan.items if i.member == "Gone")
    assert any("BLOCKED" in r and "ApexClass:Keep" in r for r in gone.reasons)
    assert any(w.startswith("Blocked: ApexClass:Gone") for w in plan.warnings)
    assert "Other" not in " ".join(plan.warnings)


def test_a_folder_that_is_not_a_git_repository_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not a git repository"):
        compute_delta(tmp_path, "a", "b")


def test_same_ref_gives_an_empty_plan_without_warnings(make_repo: RepoFactory) -> None:
    repo = make_repo([apex("A")])
    plan = build_plan(compute_delta(repo, "c1", "c1"))
    assert plan.items == [] and plan.warnings == []


def test_package_directory_added_by_b_is_rolled_back_too(make_repo: RepoFactory) -> None:
    two_dirs = (
        '{"packageDirectories": [{"path": "force-app", "default": true}, {"path": "extra"}], '
        '"sourceApiVersion": "62.0"}\n'
    )
    repo = make_repo(
        [
            apex("A"),
            {
                "sfdx-project.json": two_dirs,
                "extra/classes/New.cls": "public class New {}",
                "extra/classes/New.cls-meta.xml": "<ApexClass/>",
            },
        ]
    )
    plan = build_plan(compute_delta(repo, "c2", "c1"))
    assert {(i.member, i.action) for i in plan.items} == {("New", "delete")}


def test_flow_and_validation_rule_references_place_deleted_fields_post(make_repo: RepoFactory) -> None:
    obj = f"{P}/objects/Case__c"
    flow_a = xml("Flow", "<start><object>Case__c</object></start><label>v1</label>")
    flow_b = xml(
        "Flow",
        "<recordUpdates><inputAssignments><field>Tier__c</field></inputAssignments>"
        "<object>Case__c</object></recordUpdates><label>v2</label>",
    )
    rule_a = xml("ValidationRule", "<fullName>R</fullName><errorConditionFormula>false</errorConditionFormula>")
    rule_b = xml(
        "ValidationRule", "<fullName>R</fullName><errorConditionFormula>ISBLANK(Code__c)</errorConditionFormula>"
    )
    repo = make_repo(
        [
            {f"{P}/flows/Route.flow-meta.xml": flow_a, f"{obj}/validationRules/R.validationRule-meta.xml": rule_a},
            {
                f"{P}/flows/Route.flow-meta.xml": flow_b,
                f"{obj}/validationRules/R.validationRule-meta.xml": rule_b,
                f"{obj}/fields/Tier__c.field-meta.xml": xml("CustomField", "<fullName>Tier__c</fullName>"),
                f"{obj}/fields/Code__c.field-meta.xml": xml("CustomField", "<fullName>Code__c</fullName>"),
            },
        ]
    )
    plan = build_plan(compute_delta(repo, "c2", "c1"))
    why = {i.member: (i.placement, " ".join(i.reasons)) for i in plan.items}
    assert why["Case__c.Tier__c"][0] == "post" and "Flow:Route" in why["Case__c.Tier__c"][1]
    assert why["Case__c.Code__c"][0] == "post" and "ValidationRule:Case__c.R" in why["Case__c.Code__c"][1]


def test_packaged_registry_is_what_build_registry_makes_from_shared() -> None:
    """sfops/data/metadata-registry.json is regenerated, not hand-edited (scripts/build_registry.py)."""
    import importlib.util
    from importlib import resources

    from paths import METADATA_REGISTRY, REPO

    spec = importlib.util.spec_from_file_location("build_registry", REPO / "scripts" / "build_registry.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = METADATA_REGISTRY / "metadataRegistry.sdr-13.7.0.json"
    built = module.compact(json.loads(source.read_text()), "x")
    shipped = json.loads(resources.files("sfops").joinpath("data/metadata-registry.json").read_text())
    assert built["types"] == shipped["types"]


def test_deletions_that_reference_each_other_say_so_in_their_reasons(make_repo: RepoFactory) -> None:
    """A class deleted together with the field it reads: both POST, and neither reason claims independence."""
    obj = f"{P}/objects/Incident_Log__c"
    repo = make_repo(
        [
            apex("Keep"),
            {
                **apex("QuoteCalc", "public static Decimal t(Incident_Log__c log) { return log.Quote_Total__c; }"),
                f"{obj}/fields/Quote_Total__c.field-meta.xml": xml(
                    "CustomField", "<fullName>Quote_Total__c</fullName><type>Currency</type>"
                ),
            },
        ]
    )
    plan = build_plan(compute_delta(repo, "c2", "c1"))
    why = {i.member: (i.placement, " ".join(i.reasons)) for i in plan.items}
    calc, field = why["QuoteCalc"], why["Incident_Log__c.Quote_Total__c"]
    assert calc[0] == field[0] == "post"
    assert "references nothing" not in calc[1]
    assert "CustomField:Incident_Log__c.Quote_Total__c" in calc[1] and "same POST destructive file" in calc[1]
    assert "only ApexClass:QuoteCalc, which the rollback deletes too" in field[1]
    assert "it references nothing the revert removes" in field[1] and "safe default" in field[1]
