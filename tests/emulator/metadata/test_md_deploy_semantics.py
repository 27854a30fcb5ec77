"""Deploy semantics: schema changes, atomicity, destructive changes and their order, reference
checks, malformed metadata, tests and the fault knob, validations and quick deploys, cancel."""

from __future__ import annotations

import pytest
from md_support import (
    NS,
    Client,
    MemoryHost,
    apex_class,
    apex_test_class,
    custom_object,
    failures,
    field,
    make_zip,
    package_xml,
    result_of,
    soap_call,
    successes,
    text_field,
)

from sfops.emulator.metadata import DeployFaults, MetadataService


def thing(fields: str = text_field("Color__c")) -> dict[str, str]:
    return {"objects/Thing__c.object": custom_object("Thing__c", fields)}


def destructive(types: dict[str, list[str]]) -> str:
    return package_xml(types)


def deploy_ok(client: Client, files: dict[str, str], **opts: object) -> None:
    done = client.deploy_and_wait(files, **opts)
    assert field(done, "mt:status") == "Succeeded", failures(done)


# ---------------------------------------------------------------- schema changes


def test_custom_object_and_field_change_the_schema(client: Client, host: MemoryHost) -> None:
    deploy_ok(client, {"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()})
    obj = host.schema.get("thing__c")
    assert obj is not None and obj.custom and obj.field("Color__c").type == "string"
    # a CustomField member alone adds a field to the existing object
    deploy_ok(
        client, {"package.xml": package_xml({"CustomField": ["Thing__c.Size__c"]}), **thing(text_field("Size__c"))}
    )
    assert host.schema.get("Thing__c").field("Size__c") is not None
    assert host.schema.get("Thing__c").field("Color__c") is not None
    # and on a standard object
    deploy_ok(
        client,
        {
            "package.xml": package_xml({"CustomField": ["Account.Tier__c"]}),
            "objects/Account.object": custom_object("Account", text_field("Tier__c")),
        },
    )
    assert host.schema.get("Account").field("Tier__c") is not None


def test_destructive_changes_remove_fields_and_objects(client: Client, host: MemoryHost) -> None:
    deploy_ok(
        client,
        {
            "package.xml": package_xml({"CustomObject": ["Thing__c"]}),
            **thing(text_field("Color__c") + text_field("Size__c")),
        },
    )
    deploy_ok(
        client,
        {"package.xml": package_xml({}), "destructiveChanges.xml": destructive({"CustomField": ["Thing__c.Size__c"]})},
    )
    assert host.schema.get("Thing__c").field("Size__c") is None
    assert host.schema.get("Thing__c").field("Color__c") is not None
    done = client.deploy_and_wait(
        {"package.xml": package_xml({}), "destructiveChangesPost.xml": destructive({"CustomObject": ["Thing__c"]})}
    )
    assert field(done, "mt:status") == "Succeeded"
    assert host.schema.get("Thing__c") is None
    deleted = [s for s in successes(done) if s["deleted"] == "true"]
    assert [(s["componentType"], s["fullName"]) for s in deleted] == [("CustomObject", "Thing__c")]


def test_field_on_a_missing_object_fails_and_nothing_changes(client: Client, host: MemoryHost) -> None:
    files = {
        "package.xml": package_xml({"ApexClass": ["Keep"], "CustomField": ["Ghost__c.Color__c"]}),
        **apex_class("Keep"),
        "objects/Ghost__c.object": custom_object("Ghost__c", text_field("Color__c")),
    }
    done = client.deploy_and_wait(files, testLevel="NoTestRun")
    assert field(done, "mt:status") == "Failed"
    [failure] = failures(done)
    assert failure["componentType"] == "CustomField" and failure["fullName"] == "Ghost__c.Color__c"
    assert "no CustomObject named Ghost__c found" in failure["problem"]
    assert failure["problemType"] == "Error" and failure["fileName"] == "objects/Ghost__c.object"
    assert field(done, "mt:numberComponentErrors") == "1"
    assert host.class_names() == set()  # atomic: the valid class was not deployed either
    assert host.store.get("md.component", {}) == {}


def test_lookup_to_a_missing_object_is_reported(client: Client) -> None:
    lookup = (
        "<fields><fullName>Owner__c</fullName><label>O</label><referenceTo>Nowhere__c</referenceTo>"
        "<relationshipName>Owners</relationshipName><type>Lookup</type></fields>"
    )
    done = client.deploy_and_wait({"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing(lookup)})
    assert "referenceTo value of 'Nowhere__c' does not resolve" in failures(done)[0]["problem"]


def test_malformed_xml_reports_line_and_column(client: Client, host: MemoryHost) -> None:
    broken = '<?xml version="1.0"?>\n<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">\n<label>X</lab>'
    done = client.deploy_and_wait(
        {"package.xml": package_xml({"CustomObject": ["Thing__c"]}), "objects/Thing__c.object": broken}
    )
    [failure] = failures(done)
    assert failure["problem"].startswith("Error parsing file:")
    assert failure["lineNumber"] == "3" and failure["columnNumber"] is not None
    assert host.schema.get("Thing__c") is None


def test_member_missing_from_the_zip_is_reported(client: Client) -> None:
    done = client.deploy_and_wait({"package.xml": package_xml({"ApexClass": ["Absent"]})})
    assert failures(done)[0]["problem"] == (
        "An object 'Absent' of type ApexClass was named in package.xml, but was not found in zipped directory"
    )


def test_unknown_type_in_package_xml_is_reported(client: Client) -> None:
    done = client.deploy_and_wait({"package.xml": package_xml({"Gizmo": ["X"]})})
    assert failures(done)[0]["problem"] == "Unknown type name 'Gizmo' specified in package.xml"


def test_zip_path_traversal_is_refused(client: Client, host: MemoryHost) -> None:
    files = {"package.xml": package_xml({"ApexClass": ["Foo"]}), **apex_class("Foo"), "../evil.txt": "x"}
    done = client.deploy_and_wait(files)
    assert field(done, "mt:status") == "Failed"
    assert "Invalid file name in zip: ../evil.txt" in failures(done)[0]["problem"]
    assert host.class_names() == set()


def test_layout_naming_a_missing_field_fails(client: Client) -> None:
    deploy_ok(client, {"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()})
    layout = (
        '<Layout xmlns="http://soap.sforce.com/2006/04/metadata"><layoutSections><layoutColumns><layoutItems>'
        "<field>Weight__c</field></layoutItems></layoutColumns></layoutSections></Layout>"
    )
    done = client.deploy_and_wait(
        {
            "package.xml": package_xml({"Layout": ["Thing__c-Thing Layout"]}),
            "layouts/Thing__c-Thing Layout.layout": layout,
        }
    )
    assert failures(done)[0]["problem"] == "In field: field - no CustomField named Thing__c.Weight__c found"


# ---------------------------------------------------------------- Apex checks


def test_apex_referencing_an_unknown_class_or_object_fails_with_position(client: Client) -> None:
    body = "public class Child extends Parent {\n}\n"
    done = client.deploy_and_wait({"package.xml": package_xml({"ApexClass": ["Child"]}), **apex_class("Child", body)})
    [failure] = failures(done)
    assert failure["problem"] == "Invalid type: Parent"
    assert (failure["lineNumber"], failure["columnNumber"]) == ("1", "28")
    body = "public class Uses {\n    public void go() {\n        Nope__c n = new Nope__c();\n    }\n}\n"
    done = client.deploy_and_wait({"package.xml": package_xml({"ApexClass": ["Uses"]}), **apex_class("Uses", body)})
    assert failures(done)[0]["problem"] == "Invalid type: Nope__c"
    assert failures(done)[0]["lineNumber"] == "3"


def test_apex_soql_on_a_missing_custom_field_fails(client: Client) -> None:
    deploy_ok(client, {"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()})
    body = (
        "public class Reader {\n    public static List<Thing__c> all() {\n"
        "        return [SELECT Id, Color__c, Gone__c FROM Thing__c];\n    }\n}\n"
    )
    done = client.deploy_and_wait(
        {"package.xml": package_xml({"ApexClass": ["Reader"]}), **apex_class("Reader", body)}, testLevel="NoTestRun"
    )
    assert failures(done)[0]["problem"].startswith("No such column 'Gone__c' on entity 'Thing__c'.")


def test_unbalanced_braces_and_wrong_class_name(client: Client) -> None:
    done = client.deploy_and_wait(
        {"package.xml": package_xml({"ApexClass": ["Broken"]}), **apex_class("Broken", "public class Broken {\n")}
    )
    assert failures(done)[0]["problem"] == "Expecting '}' but was: '<EOF>'"
    done = client.deploy_and_wait(
        {"package.xml": package_xml({"ApexClass": ["Named"]}), **apex_class("Named", "public class Other {}\n")}
    )
    assert "declares Other" in failures(done)[0]["problem"]


# ---------------------------------------------------------------- destructive changes


def test_deleting_a_missing_component_is_a_warning_that_fails_unless_ignored(client: Client) -> None:
    files = {"package.xml": package_xml({}), "destructiveChanges.xml": destructive({"ApexClass": ["Nobody"]})}
    done = client.deploy_and_wait(files)
    [failure] = failures(done)
    assert failure["problem"] == "No ApexClass named: Nobody found" and failure["problemType"] == "Warning"
    assert field(done, "mt:status") == "Failed"
    done = client.deploy_and_wait(files, ignoreWarnings=True)
    assert field(done, "mt:status") == "Succeeded"
    warned = [s for s in successes(done) if s.get("problemType") == "Warning"]
    assert warned and warned[0]["fullName"] == "Nobody"


def _two_classes(client: Client) -> None:
    deploy_ok(
        client,
        {
            "package.xml": package_xml({"ApexClass": ["Helper", "Caller"]}),
            **apex_class("Helper"),
            **apex_class("Caller", "public class Caller {\n    Integer x = Helper.one();\n}\n"),
        },
        testLevel="NoTestRun",
    )


def test_pre_delete_of_a_class_still_used_fails_but_post_delete_after_the_update_works(
    client: Client, host: MemoryHost
) -> None:
    _two_classes(client)
    updated = apex_class("Caller", "public class Caller {\n    Integer x = 2;\n}\n")
    pre = {
        "package.xml": package_xml({"ApexClass": ["Caller"]}),
        **updated,
        "destructiveChangesPre.xml": destructive({"ApexClass": ["Helper"]}),
    }
    done = client.deploy_and_wait(pre, testLevel="NoTestRun")
    [failure] = failures(done)
    assert failure["problem"] == (
        "This apex class is referenced elsewhere in salesforce.com. Remove the usage and try again. : Apex Class.Caller"
    )
    assert host.class_names() == {"Helper", "Caller"}
    assert "Helper" in host.find_records("ApexClass", "Name", "Caller")[0]["Body"]  # rolled back
    post = dict(pre)
    post["destructiveChangesPost.xml"] = post.pop("destructiveChangesPre.xml")
    deploy_ok(client, post, testLevel="NoTestRun")
    assert host.class_names() == {"Caller"}


def test_pre_delete_runs_before_adds(client: Client, host: MemoryHost) -> None:
    """A field deleted and re-created in one deploy: pre-delete first, so the add wins."""
    deploy_ok(client, {"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()})
    files = {
        "package.xml": package_xml({"CustomField": ["Thing__c.Color__c"]}),
        **thing(text_field("Color__c", label="Recreated")),
        "destructiveChangesPre.xml": destructive({"CustomField": ["Thing__c.Color__c"]}),
    }
    deploy_ok(client, files)
    assert host.schema.get("Thing__c").field("Color__c").label == "Recreated"
    # the same as post-delete removes it after the add
    files["destructiveChangesPost.xml"] = files.pop("destructiveChangesPre.xml")
    deploy_ok(client, files)
    assert host.schema.get("Thing__c").field("Color__c") is None


def test_deleting_a_field_used_by_apex_fails(client: Client, host: MemoryHost) -> None:
    deploy_ok(client, {"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()})
    body = "public class Paint {\n    public static String c(Thing__c t) { return t.Color__c; }\n}\n"
    deploy_ok(
        client,
        {"package.xml": package_xml({"ApexClass": ["Paint"]}), **apex_class("Paint", body)},
        testLevel="NoTestRun",
    )
    done = client.deploy_and_wait(
        {"package.xml": package_xml({}), "destructiveChanges.xml": destructive({"CustomField": ["Thing__c.Color__c"]})}
    )
    assert failures(done)[0]["problem"].endswith(": Apex Class.Paint")
    assert host.schema.get("Thing__c").field("Color__c") is not None


# ---------------------------------------------------------------- tests and the fault knob


def _app_with_tests() -> dict[str, str]:
    return {
        "package.xml": package_xml({"ApexClass": ["Calc", "CalcTest"]}),
        **apex_class("Calc"),
        **apex_test_class("CalcTest", "Calc", ("addsUp", "handlesZero")),
    }


def test_run_local_tests_reports_successes_and_coverage(client: Client) -> None:
    done = client.deploy_and_wait(_app_with_tests(), testLevel="RunLocalTests")
    assert field(done, "mt:status") == "Succeeded"
    assert field(done, "mt:numberTestsTotal") == "2" and field(done, "mt:numberTestsCompleted") == "2"
    run = done.find("mt:details/mt:runTestResult", NS)
    assert sorted(field(s, "mt:methodName") for s in run.findall("mt:successes", NS)) == ["addsUp", "handlesZero"]
    cov = run.find("mt:codeCoverage", NS)
    assert field(cov, "mt:name") == "Calc" and field(cov, "mt:numLocationsNotCovered") == "0"
    assert field(cov, "mt:id").startswith("01p")


def test_fault_knob_fails_named_tests_and_nothing_is_committed(client: Client, host: MemoryHost) -> None:
    host.faults = DeployFaults(failing_tests=("CalcTest.handlesZero",))
    done = client.deploy_and_wait(_app_with_tests(), testLevel="RunLocalTests")
    assert field(done, "mt:status") == "Failed"
    assert field(done, "mt:numberTestErrors") == "1" and field(done, "mt:numberComponentErrors") == "0"
    failure = done.find("mt:details/mt:runTestResult/mt:failures", NS)
    assert (field(failure, "mt:name"), field(failure, "mt:methodName")) == ("CalcTest", "handlesZero")
    assert "Assertion" in field(failure, "mt:message") and field(failure, "mt:stackTrace")
    assert host.class_names() == set()
    assert host.faults_consumed == 1


def test_fault_knob_component_problem(client: Client, host: MemoryHost) -> None:
    host.faults = DeployFaults(component_problem="Injected failure")
    done = client.deploy_and_wait({"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()})
    assert [f["problem"] for f in failures(done)] == ["Injected failure"]
    assert host.schema.get("Thing__c") is None


def test_run_specified_tests_runs_exactly_the_named_ones(client: Client) -> None:
    done = client.deploy_and_wait(_app_with_tests(), testLevel="RunSpecifiedTests", tests=["CalcTest.addsUp"])
    assert field(done, "mt:numberTestsTotal") == "1"
    done = client.deploy_and_wait(_app_with_tests(), testLevel="RunSpecifiedTests", tests=["Missing"])
    assert field(done, "mt:status") == "Failed"
    assert "This class name's value is invalid: Missing" in field(done, "mt:errorMessage")


def test_rollback_on_error_false_commits_what_succeeded(client: Client, host: MemoryHost) -> None:
    files = {
        "package.xml": package_xml({"ApexClass": ["Good", "Bad"]}),
        **apex_class("Good"),
        **apex_class("Bad", "public class Bad extends Nothing {}"),
    }
    done = client.deploy_and_wait(files, rollbackOnError=False, testLevel="NoTestRun")
    assert field(done, "mt:status") == "SucceededPartial"
    assert host.class_names() == {"Good"}


# ---------------------------------------------------------------- validations, quick deploy, cancel


def _validate(client: Client, files: dict[str, str], level: str = "RunLocalTests") -> str:
    done = client.deploy_and_wait(files, checkOnly=True, testLevel=level)
    assert field(done, "mt:status") == "Succeeded"
    return field(done, "mt:id") or ""


def _quick(client: Client, validation_id: str) -> tuple[int, bytes]:
    return client.post(soap_call("deployRecentValidation", f"<validationId>{validation_id}</validationId>"))


def test_quick_deploy_of_a_validation_commits_it(client: Client, host: MemoryHost) -> None:
    validation = _validate(client, _app_with_tests())
    assert host.class_names() == set()
    status, body = _quick(client, validation)
    assert status == 200
    new_id = result_of(body, "deployRecentValidation").text
    assert new_id.startswith("0Af") and new_id != validation
    done = client.wait(new_id)
    assert field(done, "mt:status") == "Succeeded" and field(done, "mt:numberTestsTotal") == "0"
    assert host.class_names() == {"Calc", "CalcTest"}
    status, body = _quick(client, validation)  # used up: the quick deploy committed after it
    assert status == 500 and b"INVALID_ID_FIELD" in body


def test_a_later_deploy_invalidates_a_validation(client: Client) -> None:
    validation = _validate(client, _app_with_tests())
    deploy_ok(client, {"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()})
    status, body = _quick(client, validation)
    assert status == 500 and b"a later deployment changed the organization" in body


def test_validations_expire_after_ten_days_and_need_tests(client: Client, host: MemoryHost) -> None:
    validation = _validate(client, _app_with_tests())
    host.advance(days=10, minutes=1)
    status, body = _quick(client, validation)
    assert status == 500 and b"older than 10 days" in body
    no_tests = _validate(
        client, {"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()}, level="NoTestRun"
    )
    status, body = _quick(client, no_tests)
    assert status == 500 and b"ran no tests" in body


def test_cancel_goes_canceling_then_canceled_and_changes_nothing(client: Client, host: MemoryHost) -> None:
    deploy_id = client.deploy({"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()})
    status, body = client.post(soap_call("cancelDeploy", f"<String>{deploy_id}</String>"))
    assert status == 200
    assert field(result_of(body, "cancelDeploy"), "mt:id") == deploy_id
    res = client.check(deploy_id)
    assert field(res, "mt:status") == "Canceled" and field(res, "mt:done") == "true"
    assert field(res, "mt:canceledByName") == "Ada Admin"
    assert host.schema.get("Thing__c") is None
    status, body = client.post(soap_call("cancelDeploy", f"<String>{deploy_id}</String>"))
    assert status == 500 and b"already completed" in body


def test_time_based_progress(host: MemoryHost) -> None:
    client = Client(MetadataService(host, polls_to_complete=100, seconds_per_step=1.0))
    deploy_id = client.deploy({"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()})
    assert field(client.check(deploy_id), "mt:done") == "false"
    host.advance(seconds=150)
    assert field(client.check(deploy_id), "mt:status") == "Succeeded"


def test_deploy_zip_now_for_seeding(host: MemoryHost) -> None:
    service = MetadataService(host)
    result = service.deploy_zip_now(make_zip({"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()}))
    assert result["status"] == "Succeeded" and result["done"] is True
    assert host.schema.get("Thing__c") is not None


def test_deleting_an_object_together_with_its_fields(client: Client, host: MemoryHost) -> None:
    """sfdx-git-delta style: the object and each of its fields are all listed for deletion."""
    deploy_ok(client, {"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()})
    done = client.deploy_and_wait(
        {
            "package.xml": package_xml({}),
            "destructiveChanges.xml": destructive({"CustomObject": ["Thing__c"], "CustomField": ["Thing__c.Color__c"]}),
        }
    )
    assert field(done, "mt:status") == "Succeeded", failures(done)
    assert host.schema.get("Thing__c") is None
    assert [s["componentType"] for s in successes(done) if s["deleted"] == "true"] == ["CustomField", "CustomObject"]


def test_a_host_failure_while_committing_fails_the_deploy_cleanly(
    client: Client, host: MemoryHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_insert(sobject: str, fields: object) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr(host, "insert_record", broken_insert)
    done = client.deploy_and_wait(
        {
            "package.xml": package_xml({"ApexClass": ["Foo"], "CustomObject": ["Thing__c"]}),
            **apex_class("Foo"),
            **thing(),
        },
        testLevel="NoTestRun",
    )
    assert field(done, "mt:status") == "Failed"
    assert field(done, "mt:errorStatusCode") == "UNKNOWN_EXCEPTION"
    assert "disk full" in field(done, "mt:errorMessage")
    assert host.schema.get("Thing__c") is None  # the transaction rolled the schema back


def test_fault_knob_with_both_kinds_reports_component_and_test_failures(client: Client, host: MemoryHost) -> None:
    host.faults = DeployFaults(component_problem="Injected failure", failing_tests=("CalcTest",))
    done = client.deploy_and_wait(_app_with_tests(), checkOnly=True, testLevel="RunLocalTests")
    assert field(done, "mt:status") == "Failed"
    assert [f["problem"] for f in failures(done)] == ["Injected failure"]
    assert field(done, "mt:numberTestErrors") == "2"  # "CalcTest" names the class: both its methods fail


def test_real_component_failure_runs_no_tests(client: Client, host: MemoryHost) -> None:
    files = _app_with_tests()
    files["classes/Calc.cls"] = "public class Calc {"
    done = client.deploy_and_wait(files, testLevel="RunLocalTests")
    assert field(done, "mt:status") == "Failed" and field(done, "mt:numberTestsTotal") == "0"


def test_apex_symbol_check_has_no_false_alarms_on_inner_classes_and_soql(client: Client) -> None:
    deploy_ok(client, {"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()})
    body = (
        "public class Shapes {\n    virtual class Base {}\n    class Square extends Base {}\n"
        "    public class ShapeException extends Exception {}\n"
        "    public static List<Thing__c> sorted() {\n"
        "        return [SELECT Id, Color__c FROM Thing__c ORDER BY Color__c ASC, Name DESC];\n"
        "    }\n    public static void paint(Thing__c t) { t.Color__c = 'red'; }\n}\n"
    )
    deploy_ok(
        client,
        {"package.xml": package_xml({"ApexClass": ["Shapes"]}), **apex_class("Shapes", body)},
        testLevel="NoTestRun",
    )


def _trigger(name: str, sobject: str) -> dict[str, str]:
    meta = (
        '<?xml version="1.0" encoding="UTF-8"?><ApexTrigger xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<apiVersion>62.0</apiVersion><status>Active</status></ApexTrigger>"
    )
    return {
        f"triggers/{name}.trigger": f"trigger {name} on {sobject} (before insert) {{\n}}\n",
        f"triggers/{name}.trigger-meta.xml": meta,
    }


def test_triggers_become_records_and_need_their_object(client: Client, host: MemoryHost) -> None:
    done = client.deploy_and_wait(
        {"package.xml": package_xml({"ApexTrigger": ["OnGhost"]}), **_trigger("OnGhost", "Ghost__c")},
        testLevel="NoTestRun",
    )
    assert failures(done)[0]["problem"] == "Invalid SObject type name: Ghost__c"
    deploy_ok(
        client,
        {"package.xml": package_xml({"ApexTrigger": ["OnAccount"]}), **_trigger("OnAccount", "Account")},
        testLevel="NoTestRun",
    )
    [row] = host.records["ApexTrigger"].values()
    assert row["Name"] == "OnAccount" and row["TableEnumOrId"] == "Account"
    # deleting the object a trigger is on is refused while the trigger stays
    deploy_ok(client, {"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()})
    deploy_ok(
        client,
        {"package.xml": package_xml({"ApexTrigger": ["OnThing"]}), **_trigger("OnThing", "Thing__c")},
        testLevel="NoTestRun",
    )
    done = client.deploy_and_wait(
        {"package.xml": package_xml({}), "destructiveChanges.xml": destructive({"CustomObject": ["Thing__c"]})}
    )
    assert failures(done)[0]["problem"].endswith(": Apex Trigger.OnThing")
    both = destructive({"CustomObject": ["Thing__c"], "ApexTrigger": ["OnThing"]})
    deploy_ok(client, {"package.xml": package_xml({}), "destructiveChanges.xml": both})
    assert host.schema.get("Thing__c") is None
    assert {r["Name"] for r in host.records["ApexTrigger"].values()} == {"OnAccount"}


def test_permission_set_naming_a_missing_field_fails(client: Client) -> None:
    deploy_ok(client, {"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing()})
    perms = (
        '<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata"><fieldPermissions><editable>true'
        "</editable><field>Thing__c.{f}</field><readable>true</readable></fieldPermissions>"
        "<label>Ops</label></PermissionSet>"
    )
    deploy_ok(
        client,
        {
            "package.xml": package_xml({"PermissionSet": ["Ops"]}),
            "permissionsets/Ops.permissionset": perms.format(f="Color__c"),
        },
    )
    done = client.deploy_and_wait(
        {
            "package.xml": package_xml({"PermissionSet": ["Ops"]}),
            "permissionsets/Ops.permissionset": perms.format(f="Weight__c"),
        }
    )
    assert failures(done)[0]["problem"] == "In field: field - no CustomField named Thing__c.Weight__c found"


def test_validation_rule_formula_protects_its_field(client: Client, host: MemoryHost) -> None:
    rule = (
        "<validationRules><fullName>Needs_Color</fullName><active>true</active>"
        "<errorConditionFormula>ISBLANK(Color__c)</errorConditionFormula>"
        "<errorMessage>Color!</errorMessage></validationRules>"
    )
    deploy_ok(
        client, {"package.xml": package_xml({"CustomObject": ["Thing__c"]}), **thing(text_field("Color__c") + rule)}
    )
    done = client.deploy_and_wait(
        {"package.xml": package_xml({}), "destructiveChanges.xml": destructive({"CustomField": ["Thing__c.Color__c"]})}
    )
    assert failures(done)[0]["problem"].endswith(": Validation Rule.Thing__c.Needs_Color")
    deploy_ok(
        client,
        {
            "package.xml": package_xml({}),
            "destructiveChanges.xml": destructive(
                {"CustomField": ["Thing__c.Color__c"], "ValidationRule": ["Thing__c.Needs_Color"]}
            ),
        },
    )
    assert host.schema.get("Thing__c").field("Color__c") is None
