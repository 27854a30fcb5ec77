"""Tooling `completions?type=apex`: Apex system symbols for code completion (Tooling API guide,
"Completions": "Retrieves available code completions of the referenced type for Apex system method
symbols"). The answer has the real shape: publicDeclarations -> namespace -> class ->
{constructors, methods, properties}; a method carries name, returnType, isStatic, parameters, argTypes,
methodDoc and references.

A real org lists every system class (thousands of symbols); the emulator lists the System-namespace
classes code usually calls, with the signatures of the Apex Reference Guide. Other types
(visualforce) are refused with a clear message (docs/emulator.md lists it).
"""

from __future__ import annotations

import re
from typing import Any

# "static? ReturnType name(Type arg, ...)" per class; properties as "prop Type name"; constructors "new (args)"
_SYSTEM: dict[str, list[str]] = {
    "String": [
        "static Boolean isBlank(String inputString)",
        "static Boolean isNotBlank(String inputString)",
        "static Boolean isEmpty(String inputString)",
        "static String valueOf(Object toConvert)",
        "static String join(Object iterableObj, String separator)",
        "static String format(String stringToFormat, List<Object> formattingArguments)",
        "static String escapeSingleQuotes(String stringToEscape)",
        "Boolean contains(String substring)",
        "Boolean startsWith(String prefix)",
        "Boolean endsWith(String suffix)",
        "Boolean equals(Object stringOrId)",
        "Boolean equalsIgnoreCase(String secondString)",
        "Integer indexOf(String substring)",
        "Integer length()",
        "List<String> split(String regExp)",
        "String substring(Integer startIndex)",
        "String substring(Integer startIndex, Integer endIndex)",
        "String toLowerCase()",
        "String toUpperCase()",
        "String trim()",
        "String replace(String target, String replacement)",
        "String abbreviate(Integer maxWidth)",
    ],
    "Integer": ["static Integer valueOf(Object fieldValue)", "String format()"],
    "Decimal": [
        "static Decimal valueOf(String stringToDecimal)",
        "Decimal setScale(Integer scale)",
        "Integer intValue()",
        "Long longValue()",
        "Double doubleValue()",
        "String format()",
    ],
    "Math": [
        "static Integer abs(Integer i)",
        "static Decimal abs(Decimal d)",
        "static Integer max(Integer i1, Integer i2)",
        "static Integer min(Integer i1, Integer i2)",
        "static Double random()",
        "static Long round(Double d)",
        "static Decimal floor(Decimal d)",
        "static Decimal ceil(Decimal d)",
        "static Double sqrt(Double d)",
        "static Decimal mod(Decimal d1, Decimal d2)",
        "prop Double PI",
        "prop Double E",
    ],
    "Date": [
        "static Date today()",
        "static Date newInstance(Integer year, Integer month, Integer day)",
        "static Date valueOf(String stringDate)",
        "Date addDays(Integer additionalDays)",
        "Date addMonths(Integer additionalMonths)",
        "Integer daysBetween(Date secondDate)",
        "Integer year()",
        "Integer month()",
        "Integer day()",
        "String format()",
    ],
    "Datetime": [
        "static Datetime now()",
        "static Datetime valueOf(String dateTimeString)",
        "static Datetime newInstance(Long milliseconds)",
        "Datetime addDays(Integer additionalDays)",
        "Datetime addHours(Integer additionalHours)",
        "Datetime addMinutes(Integer additionalMinutes)",
        "Long getTime()",
        "Date date()",
        "String format(String dateFormatString)",
        "String formatGmt(String dateFormatString)",
    ],
    "System": [
        "static void debug(Object msg)",
        "static void debug(LoggingLevel logLevel, Object msg)",
        "static void assert(Boolean condition, Object msg)",
        "static void assertEquals(Object expected, Object actual, Object msg)",
        "static void assertNotEquals(Object expected, Object actual, Object msg)",
        "static Datetime now()",
        "static Date today()",
        "static Long currentTimeMillis()",
        "static Id enqueueJob(Object queueableObj)",
        "static Id scheduleBatch(Database.Batchable batchable, String jobName, Integer minutesFromNow)",
        "static String schedule(String jobName, String cronExpression, Object schedulableClass)",
        "static void abortJob(String jobId)",
        "static Boolean isBatch()",
        "static Boolean isFuture()",
        "static Boolean isQueueable()",
    ],
    "Database": [
        "static List<SObject> query(String queryString)",
        "static Database.SaveResult insert(SObject recordToInsert, Boolean allOrNone)",
        "static Database.SaveResult update(SObject recordToUpdate, Boolean allOrNone)",
        "static Database.DeleteResult delete(SObject recordToDelete, Boolean allOrNone)",
        "static Database.UpsertResult upsert(SObject recordToUpsert, Schema.SObjectField externalIdField, "
        "Boolean allOrNone)",
        "static Id executeBatch(Object batchObject, Integer scope)",
        "static Database.QueryLocator getQueryLocator(String query)",
        "static Integer countQuery(String query)",
        "static System.Savepoint setSavepoint()",
        "static void rollback(System.Savepoint databaseSavepoint)",
    ],
    "Limits": [
        f"static Integer {kind}{name}()"
        for name in (
            "Queries",
            "DmlStatements",
            "DmlRows",
            "CpuTime",
            "HeapSize",
            "Callouts",
            "FutureCalls",
            "QueueableJobs",
            "QueryRows",
            "EmailInvocations",
        )
        for kind in ("get", "getLimit")
    ],
    "Test": [
        "static void startTest()",
        "static void stopTest()",
        "static Boolean isRunningTest()",
        "static void setMock(Type interfaceType, Object instance)",
        "static List<SObject> loadData(Schema.SObjectType sObjectToken, String resourceName)",
        "static void setCurrentPage(PageReference page)",
    ],
    "JSON": [
        "static String serialize(Object objectToSerialize)",
        "static String serializePretty(Object objectToSerialize)",
        "static Object deserialize(String jsonString, System.Type apexType)",
        "static Object deserializeUntyped(String jsonString)",
    ],
    "UserInfo": [
        "static Id getUserId()",
        "static String getUserName()",
        "static Id getOrganizationId()",
        "static String getOrganizationName()",
        "static Id getProfileId()",
        "static String getTimeZone()",
        "static String getLocale()",
        "static String getUserEmail()",
    ],
    "Http": ["new ()", "System.HttpResponse send(System.HttpRequest request)"],
    "HttpRequest": [
        "new ()",
        "void setEndpoint(String endpoint)",
        "void setMethod(String method)",
        "void setBody(String body)",
        "void setHeader(String key, String value)",
        "void setTimeout(Integer timeout)",
        "String getBody()",
    ],
    "HttpResponse": [
        "new ()",
        "String getBody()",
        "Integer getStatusCode()",
        "String getStatus()",
        "String getHeader(String key)",
        "void setBody(String body)",
        "void setStatusCode(Integer statusCode)",
    ],
}
_SIGNATURE = re.compile(r"^(?P<static>static\s+)?(?P<ret>[\w.<>, ]+?)\s+(?P<name>\w+)\((?P<args>.*)\)$")


def _parameters(args: str) -> list[dict[str, str]]:
    out, depth, current = [], 0, ""
    for ch in args:  # split on commas outside generics: Map<String, Object> stays one type
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "," and depth == 0:
            out.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        out.append(current)
    params = []
    for item in out:
        type_name, _, name = item.strip().rpartition(" ")
        params.append({"name": name, "type": type_name})
    return params


def _declaration(class_name: str, entries: list[str]) -> dict[str, Any]:
    constructors, methods, properties = [], [], []
    for entry in entries:
        if entry.startswith("prop "):
            _, type_name, name = entry.split()
            properties.append({"name": name, "references": [], "type": type_name})
        elif entry.startswith("new "):
            params = _parameters(entry[len("new (") : -1])
            constructors.append({"methodDoc": None, "name": class_name, "parameters": params, "references": []})
        else:
            m = _SIGNATURE.match(entry)
            if m is None:
                raise ValueError(f"bad signature: {entry}")
            params = _parameters(m.group("args"))
            methods.append(
                {
                    "argTypes": [p["type"] for p in params],
                    "isStatic": bool(m.group("static")),
                    "methodDoc": None,
                    "name": m.group("name"),
                    "parameters": params,
                    "references": [],
                    "returnType": m.group("ret"),
                }
            )
    return {"constructors": constructors, "methods": methods, "properties": properties}


def apex_completions() -> dict[str, Any]:
    """The `completions?type=apex` body."""
    return {
        "publicDeclarations": {
            "System": {name: _declaration(name, entries) for name, entries in sorted(_SYSTEM.items())}
        }
    }
