"""Static analysis of Apex for the gate: entry points, guards, SOQL and bind replacement (no org)."""

from __future__ import annotations

from sfops.release.apex import analyse, tokenize
from sfops.release.binds import FieldType, describe_lookup, literal_for, main_object, prepare

API = """@RestResource(urlMapping='/orders/*')
global with sharing class OrderApi {
    // [SELECT Id FROM Commented]  FeatureKillSwitch.isEnabled('Commented')
    /* a block comment with [SELECT Id FROM Blocked]
       over two lines */
    @HttpPost
    global static String submit() {
        if (!FeatureKillSwitch.isEnabled('New_Pricing__c')) { return 'off'; }
        List<Account> a = [SELECT Id, (SELECT Id FROM Contacts) FROM Account
                           WHERE Name = :name AND Id IN :ids];
        return 'x';
    }
    @AuraEnabled(cacheable=true)
    public static List<Account> find(String s) {
        String decoy = 'FeatureKillSwitch.isEnabled(\\'Decoy\\')';
        return OrderService.search(s);
    }
    public static void helper() { }
    public class Inner {
        @InvocableMethod(label='Go')
        public static void go(List<String> x) { FeatureKillSwitch.requireEnabled(SWITCH_NAME); }
    }
}
"""


def test_entry_points_with_lines_and_guards_inside_their_bodies() -> None:
    result = analyse("classes/OrderApi.cls", API)
    entries = {e.key: e for e in result.entry_points}
    assert set(entries) == {"OrderApi.submit", "OrderApi.find", "OrderApi.Inner.go"}
    assert (entries["OrderApi.submit"].kind, entries["OrderApi.submit"].line) == ("rest", 7)
    assert [g.switch for g in entries["OrderApi.submit"].guards] == ["New_Pricing__c"]
    assert entries["OrderApi.find"].kind == "aura" and entries["OrderApi.find"].guards == ()  # a string is no call
    assert ("OrderService", "search") in entries["OrderApi.find"].calls
    [guard] = entries["OrderApi.Inner.go"].guards
    assert guard.switch is None and guard.call == "FeatureKillSwitch.requireEnabled"  # not a literal


def test_soql_outside_comments_with_its_line() -> None:
    [soql] = analyse("classes/OrderApi.cls", API).soql
    assert soql.line == 9
    assert soql.text.startswith("SELECT Id, (SELECT Id FROM Contacts) FROM Account")


def test_http_methods_count_only_in_rest_resources() -> None:
    plain = "public class NotRest {\n    @HttpGet\n    global static String x() { return ''; }\n}\n"
    assert analyse("classes/NotRest.cls", plain).entry_points == []


def test_async_classes_are_entered_through_execute() -> None:
    src = (
        "public class Sync implements Database.Batchable<SObject>, Database.Stateful {\n"
        "    public Database.QueryLocator start(Database.BatchableContext c) {\n"
        "        return Database.getQueryLocator([SELECT Id FROM Account]);\n    }\n"
        "    public void execute(Database.BatchableContext c, List<SObject> s) {\n"
        "        if (!FeatureKillSwitch.isFeatureEnabled('External_Sync')) return;\n    }\n"
        "    public void finish(Database.BatchableContext c) { }\n}\n"
    )
    [entry] = analyse("classes/Sync.cls", src).entry_points
    assert (entry.key, entry.kind, entry.line) == ("Sync", "batchable", 1)
    assert [g.switch for g in entry.guards] == ["External_Sync"]
    queueable = (
        "public class Job implements Queueable {\n    public void execute(QueueableContext c) { }\n"
        "    public void other() { FeatureKillSwitch.isEnabled('X'); }\n}\n"
    )
    [job] = analyse("classes/Job.cls", queueable).entry_points
    assert job.kind == "queueable" and job.guards == ()  # a guard in another method does not protect execute


def test_trigger_entry_point_and_its_handler_call() -> None:
    src = "trigger OrderTrigger on Account (before insert, after update) {\n    AccountHandler.run(Trigger.new);\n}"
    [entry] = analyse("triggers/OrderTrigger.trigger", src).entry_points
    assert (entry.key, entry.kind, entry.line) == ("OrderTrigger", "trigger", 1)
    assert entry.calls == (("AccountHandler", "run"),)
    framework = "trigger T on Case (after insert) {\n    new CaseTriggerHandler(Trigger.new, 'x').run();\n}"
    assert analyse("triggers/T.trigger", framework).entry_points[0].calls == (("CaseTriggerHandler", "run"),)


def test_tokenizer_keeps_line_numbers_through_comments_and_strings() -> None:
    tokens = tokenize("a /* x\n y */ 'q\\'s'\n// c\nb")
    assert [(t.text, t.line) for t in tokens] == [("a", 1), ("q\\'s", 2), ("b", 4)]


FIELDS = {
    "account": {
        "keyPrefix": "001",
        "fields": [
            {"name": "Id", "type": "id", "referenceTo": []},
            {"name": "Name", "type": "string"},
            {"name": "OwnerId", "type": "reference", "referenceTo": ["User"], "relationshipName": "Owner"},
            {"name": "CreatedDate", "type": "datetime"},
            {"name": "NumberOfEmployees", "type": "int"},
        ],
    },
    "user": {"keyPrefix": "005", "fields": [{"name": "Email", "type": "email"}]},
}


def test_binds_become_literals_of_the_compared_fields_type() -> None:
    lookup = describe_lookup(FIELDS, {"account": "001", "user": "005"})
    text, binds = prepare(
        "SELECT Id FROM Account WHERE Id IN :ids AND OwnerId = :u.Id AND CreatedDate > :since\n"
        "  AND NumberOfEmployees >= :Limits.getLimitQueries() AND Name LIKE :p AND Owner.Email = "
        ":mail WITH USER_MODE LIMIT :n FOR UPDATE",
        lookup,
    )
    assert text == (
        "SELECT Id FROM Account WHERE Id IN ('001000000000000') AND OwnerId = '005000000000000' AND "
        "CreatedDate > 2000-01-01T00:00:00Z AND NumberOfEmployees >= 1 AND Name LIKE 'sfops%' AND "
        "Owner.Email = 'sfops' LIMIT 200"
    )
    assert binds == ["ids", "u.Id", "since", "Limits.getLimitQueries()", "p", "mail", "n"]


def test_colons_inside_strings_are_not_binds_and_unknown_fields_get_text() -> None:
    text, binds = prepare("SELECT Id FROM Thing__c WHERE Url__c = 'a:b' AND Other__c = :x", lambda o, f: None)
    assert text == "SELECT Id FROM Thing__c WHERE Url__c = 'a:b' AND Other__c = 'sfops'" and binds == ["x"]


def test_main_object_skips_subqueries_and_literals() -> None:
    assert main_object("SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE x = 1") == "Account"
    assert literal_for(FieldType("boolean"), "NOT IN") == "(true)"
    assert literal_for(FieldType("date"), "=") == "2000-01-01"
