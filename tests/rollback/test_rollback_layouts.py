"""Real-repository shapes (issue 10): folder layouts, shared suffixes, whole bundles, .forceignore,
standard objects, the direction rule and a missing sfdx-project.json. Each test builds a small history
of its own and asserts the exact package.xml members, destructive members and file paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from rollback_support import RepoFactory

from sfops.errors import UsageError
from sfops.rollback.delta import compute_delta, forceignore_spec, ignored
from sfops.rollback.package import plan_and_package
from sfops.rollback.registry import load_registry
from sfops.rollback.xmlutil import parse, text_of

P = "force-app/main/default"
NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'
TWO_DIRS = (
    '{"packageDirectories": [{"path": "force-app", "default": true}, {"path": "force-app-tests"}], '
    '"sourceApiVersion": "62.0"}\n'
)


def xml(root: str, body: str = "") -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} {NS}>\n{body}\n</{root}>\n'


def cls(path: str, name: str, body: str = "") -> dict[str, str]:
    return {
        f"{path}/{name}.cls": f"public class {name} {{ {body} }}\n",
        f"{path}/{name}.cls-meta.xml": xml("ApexClass", "<apiVersion>62.0</apiVersion>"),
    }


def members(xml_file: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for types in parse(xml_file.read_bytes()):
        name = text_of(types, "name")
        if name:
            out[name] = [m.text or "" for m in types if m.tag.endswith("members")]
    return out


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("main/default/utilities/Foo.cls", ("ApexClass", "Foo", "Foo.cls")),
        ("tests/Shared Code/Bar.cls-meta.xml", ("ApexClass", "Bar", "Bar.cls-meta.xml")),
        ("classes/sub/X.cls", ("ApexClass", "X", "X.cls")),
        ("settings/Account.settings-meta.xml", ("Settings", "Account", "Account.settings-meta.xml")),
        ("siteDotComSites/Portal.site", ("SiteDotCom", "Portal", "Portal.site")),
        ("siteDotComSites/Portal.site-meta.xml", ("SiteDotCom", "Portal", "Portal.site-meta.xml")),
        ("sites/Portal.site-meta.xml", ("CustomSite", "Portal", "Portal.site-meta.xml")),
        ("dataSources/Ext.dataSource-meta.xml", ("ExternalDataSource", "Ext", "Ext.dataSource-meta.xml")),
        ("mktDataSources/Mkt.dataSource-meta.xml", ("DataSource", "Mkt", "Mkt.dataSource-meta.xml")),
        ("restrictionRules/R.rule-meta.xml", ("RestrictionRule", "R", "R.rule-meta.xml")),
        ("moderation/M.rule-meta.xml", ("ModerationRule", "M", "M.rule-meta.xml")),
        ("lwc/logger/logEntryBuilder.js", ("LightningComponentBundle", "logger", "logger/logEntryBuilder.js")),
        ("feature/lwc/logger/logger.js", ("LightningComponentBundle", "logger", "logger/logger.js")),
        ("reports/Ops/Sub/Weekly.report-meta.xml", ("Report", "Ops/Sub/Weekly", "Ops/Sub/Weekly.report-meta.xml")),
        ("email/Ops/Hello.email", ("EmailTemplate", "Ops/Hello", "Ops/Hello.email")),
    ],
)
def test_types_come_from_suffix_and_strict_folders_in_any_layout(rel: str, expected: tuple[str, str, str]) -> None:
    found = load_registry().resolve(rel, "force-app/" + rel)
    assert (found.key.type, found.key.name, found.sub) == expected  # type: ignore[union-attr]


def test_a_strict_type_suffix_outside_its_folder_is_not_that_type() -> None:
    # `.xml` is EmailServicesFunction's suffix, but only inside emailservices/ (SDR's strictDirectoryName rule)
    found = load_registry().resolve("main/default/config/notes.xml", "force-app/main/default/config/notes.xml")
    assert not hasattr(found, "key")


def test_classes_in_any_folder_and_package_dir_land_flat(make_repo: RepoFactory, tmp_path: Path) -> None:
    repo = make_repo(
        [
            {
                "sfdx-project.json": TWO_DIRS,
                **cls(f"{P}/utilities", "Foo"),
                **cls("force-app-tests/tests/Shared Code", "Bar"),
                **cls("force-app/classes/sub", "X"),
            },
            {
                **cls(f"{P}/utilities", "Foo", "// v2"),
                **cls("force-app-tests/tests/Shared Code", "Bar", "// v2"),
                **cls("force-app/classes/sub", "X", "// v2"),
                **cls(f"{P}/utilities", "NewOne"),
            },
        ]
    )
    out = tmp_path / "pkg"
    plan_and_package(repo, "c2", "c1", out)
    assert members(out / "package.xml") == {"ApexClass": ["Bar", "Foo", "X"]}
    assert members(out / "destructiveChangesPost.xml") == {"ApexClass": ["NewOne"]}
    assert files(out) == [
        "classes/Bar.cls",
        "classes/Bar.cls-meta.xml",
        "classes/Foo.cls",
        "classes/Foo.cls-meta.xml",
        "classes/X.cls",
        "classes/X.cls-meta.xml",
        "destructiveChangesPost.xml",
        "destructiveChangesPre.xml",
        "package.xml",
        "plan.json",
    ]
    assert (out / "classes/Foo.cls").read_text() == "public class Foo {  }\n"


def test_settings_and_site_suffix_collisions(make_repo: RepoFactory, tmp_path: Path) -> None:
    settings = f"{P}/settings/Account.settings-meta.xml"
    site = f"{P}/siteDotComSites/Portal.site"
    repo = make_repo(
        [
            {
                settings: xml("AccountSettings", "<enableAccountOwnerReport>true</enableAccountOwnerReport>"),
                site: "bin-v1",
                site + "-meta.xml": xml("SiteDotCom", "<label>Portal</label>"),
            },
            {
                settings: xml("AccountSettings", "<enableAccountOwnerReport>false</enableAccountOwnerReport>"),
                site: "bin-v2",
            },
        ]
    )
    out = tmp_path / "pkg"
    plan_and_package(repo, "c2", "c1", out)
    assert members(out / "package.xml") == {"Settings": ["Account"], "SiteDotCom": ["Portal"]}
    assert files(out)[:3] == ["destructiveChangesPost.xml", "destructiveChangesPre.xml", "package.xml"]
    assert "settings/Account.settings" in files(out)
    assert {"siteDotComSites/Portal.site", "siteDotComSites/Portal.site-meta.xml"} <= set(files(out))


def test_a_bundle_ships_whole_when_any_file_changes(make_repo: RepoFactory, tmp_path: Path) -> None:
    lwc = f"{P}/lwc/log"  # the bundle's name is a prefix of one of its files
    aura = f"{P}/aura/panel"
    repo = make_repo(
        [
            {
                f"{lwc}/log.js": "export * from './logEntryBuilder';",
                f"{lwc}/logEntryBuilder.js": "// v1",
                f"{lwc}/log.js-meta.xml": xml("LightningComponentBundle"),
                f"{lwc}/templates/a.html": "<template/>",
                f"{aura}/panel.cmp": "<aura:component/>",
                f"{aura}/panelHelper.js": "({})",
                f"{aura}/panel.cmp-meta.xml": xml("AuraDefinitionBundle"),
            },
            {f"{lwc}/logEntryBuilder.js": "// v2", f"{aura}/panelHelper.js": "({x: 1})"},
        ]
    )
    out = tmp_path / "pkg"
    plan_and_package(repo, "c2", "c1", out)
    assert members(out / "package.xml") == {"AuraDefinitionBundle": ["panel"], "LightningComponentBundle": ["log"]}
    assert [f for f in files(out) if "/" in f] == [
        "aura/panel/panel.cmp",
        "aura/panel/panel.cmp-meta.xml",
        "aura/panel/panelHelper.js",
        "lwc/log/log.js",
        "lwc/log/log.js-meta.xml",
        "lwc/log/logEntryBuilder.js",
        "lwc/log/templates/a.html",
    ]
    assert (out / "lwc/log/logEntryBuilder.js").read_text() == "// v1"


def test_forceignore_has_gitignore_semantics() -> None:
    spec = forceignore_spec(
        "/**/Admin.profile-meta.xml\n**/staticresources/**\n!**/staticresources/keep/**\n**settings\n# comment\n"
    )
    assert ignored("force-app/main/default/profiles/Admin.profile-meta.xml", spec)
    assert not ignored("force-app/main/default/profiles/Other.profile-meta.xml", spec)
    assert ignored("force-app/main/default/staticresources/lib/a.js", spec)
    assert not ignored("force-app/main/default/staticresources/keep/a.js", spec)
    # case-insensitive like sf's `ignore` package: `**settings` also ignores remoteSiteSettings/
    assert ignored("force-app/main/default/remoteSiteSettings/x.remoteSite-meta.xml", spec)
    assert ignored("force-app/main/default/lwc/c/.eslintrc.json", spec)  # sf's built-in **/.* default


def test_root_anchored_forceignore_keeps_the_admin_profile_out(make_repo: RepoFactory, tmp_path: Path) -> None:
    admin = f"{P}/profiles/Admin.profile-meta.xml"
    repo = make_repo(
        [
            {
                ".forceignore": "/**/Admin.profile-meta.xml\n",
                admin: xml("Profile", "<custom>false</custom>"),
                **cls(f"{P}/classes", "A"),
            },
            {admin: xml("Profile", "<custom>true</custom>"), **cls(f"{P}/classes", "A", "// v2")},
        ]
    )
    out = tmp_path / "pkg"
    plan_and_package(repo, "c2", "c1", out)
    assert members(out / "package.xml") == {"ApexClass": ["A"]}
    assert not (out / "profiles").exists()


def test_standard_objects_and_fields_are_never_deleted(make_repo: RepoFactory, tmp_path: Path) -> None:
    obj = f"{P}/objects/Account"
    field = "<fullName>{}</fullName><label>x</label><type>Text</type><length>10</length>"
    repo = make_repo(
        [
            {**cls(f"{P}/classes", "A")},
            {
                f"{obj}/Account.object-meta.xml": xml("CustomObject", "<enableHistory>true</enableHistory>"),
                f"{obj}/fields/Tier__c.field-meta.xml": xml("CustomField", field.format("Tier__c")),
                f"{obj}/fields/Industry.field-meta.xml": xml("CustomField", "<fullName>Industry</fullName>"),
                f"{obj}/listViews/Mine.listView-meta.xml": xml("ListView", "<fullName>Mine</fullName>"),
            },
        ]
    )
    out = tmp_path / "pkg"
    plan = plan_and_package(repo, "c2", "c1", out)
    assert members(out / "destructiveChangesPost.xml") == {
        "CustomField": ["Account.Tier__c"],
        "ListView": ["Account.Mine"],
    }
    assert members(out / "destructiveChangesPre.xml") == {}
    skipped = {i.member: i.reasons[0] for i in plan.items if i.placement == "skip"}
    assert skipped.keys() == {"Account", "Account.Industry"}
    assert "standard object" in skipped["Account"] and "standard field" in skipped["Account.Industry"]
    assert any("Account.Tier__c" in w for w in plan.warnings if w.startswith("Data loss"))


def test_a_forward_delta_is_refused_unless_allowed(make_repo: RepoFactory, tmp_path: Path) -> None:
    repo = make_repo([cls(f"{P}/classes", "A"), cls(f"{P}/classes", "B")])
    with pytest.raises(UsageError, match="forward delta, not a rollback") as info:
        compute_delta(repo, "c1", "c2")
    assert "--from c2 --to c1" in info.value.actions[0]
    plan = plan_and_package(repo, "c1", "c2", tmp_path / "fwd", allow_forward=True)
    assert [(i.type, i.member, i.action) for i in plan.items] == [("ApexClass", "B", "re-add")]


def test_a_repository_without_sfdx_project_json_is_an_error(make_repo: RepoFactory) -> None:
    repo = make_repo(
        [
            {"sfdx-project.json": None, **cls("force-app/main/default/classes", "A")},
            cls("force-app/main/default/classes", "A", "// v2"),
        ]
    )
    with pytest.raises(UsageError, match=r"No sfdx-project\.json"):
        compute_delta(repo, "c2", "c1")


def test_org_settings_added_by_b_are_not_deleted(make_repo: RepoFactory, tmp_path: Path) -> None:
    repo = make_repo(
        [cls(f"{P}/classes", "A"), {f"{P}/settings/Security.settings-meta.xml": xml("SecuritySettings", "<x>true</x>")}]
    )
    out = tmp_path / "pkg"
    plan = plan_and_package(repo, "c2", "c1", out)
    assert [(i.type, i.member, i.placement) for i in plan.items] == [("Settings", "Security", "skip")]
    assert members(out / "destructiveChangesPost.xml") == {} and members(out / "destructiveChangesPre.xml") == {}
