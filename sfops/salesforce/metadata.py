"""Metadata API (SOAP) client: deploy, validate, quick deploy, cancel, status, retrieve, list, describe.

Unlike simple-salesforce's `mdapi`, this client reads the org's *current* token on every call
(so it never sends a stale session after a refresh), writes DeployOptions in WSDL order with
lowercase booleans and escaped values, parses the whole DeployResult into dataclasses
(single item vs list, and the legacy API 23 `<messages>` shape), and turns SOAP faults into
typed errors with one re-login on INVALID_SESSION_ID.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import ElementTree

from sfops.errors import SalesforceError, StillRunning, UsageError
from sfops.salesforce.faults import error_from_response, make_error, parse_soap_fault, parse_xml

if TYPE_CHECKING:
    from sfops.salesforce.org import Org

MD_NS = "http://soap.sforce.com/2006/04/metadata"
TEST_LEVELS = ("NoTestRun", "RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg", "RunRelevantTests")
DONE_STATUSES = frozenset({"Succeeded", "SucceededPartial", "Failed", "Canceled"})

_ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:met="{ns}">
<soapenv:Header><met:SessionHeader><met:sessionId>{session}</met:sessionId></met:SessionHeader></soapenv:Header>
<soapenv:Body>{body}</soapenv:Body>
</soapenv:Envelope>"""


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _el(name: str, value: Any) -> str:
    """`<met:name>value</met:name>` with the value XML-escaped (booleans lowercase)."""
    text = _bool(value) if isinstance(value, bool) else escape(str(value))
    return f"<met:{name}>{text}</met:{name}>"


@dataclass(frozen=True)
class DeployOptions:
    """Metadata API DeployOptions (written in WSDL sequence order)."""

    check_only: bool = False
    test_level: str | None = None
    run_tests: Sequence[str] = ()
    rollback_on_error: bool = True
    ignore_warnings: bool = False
    purge_on_delete: bool = False
    single_package: bool = True
    allow_missing_files: bool = False
    auto_update_package: bool = False
    perform_retrieve: bool = False

    def validate(self) -> None:
        """Refuse combinations Salesforce would reject."""
        if self.test_level is not None and self.test_level not in TEST_LEVELS:
            raise UsageError(f"test level {self.test_level!r} is not one of {', '.join(TEST_LEVELS)}.")
        if self.run_tests and self.test_level != "RunSpecifiedTests":
            raise UsageError("run_tests needs test_level RunSpecifiedTests.")
        if self.test_level == "RunSpecifiedTests" and not self.run_tests:
            raise UsageError("test_level RunSpecifiedTests needs at least one test class in run_tests.")

    def to_xml(self) -> str:
        """The <met:DeployOptions> element (the WSDL names the deploy parameter with a capital D)."""
        self.validate()
        parts = [
            _el("allowMissingFiles", self.allow_missing_files),
            _el("autoUpdatePackage", self.auto_update_package),
            _el("checkOnly", self.check_only),
            _el("ignoreWarnings", self.ignore_warnings),
            _el("performRetrieve", self.perform_retrieve),
            _el("purgeOnDelete", self.purge_on_delete),
            _el("rollbackOnError", self.rollback_on_error),
            *(_el("runTests", t) for t in self.run_tests),
            _el("singlePackage", self.single_package),
        ]
        if self.test_level:
            parts.append(_el("testLevel", self.test_level))
        return "<met:DeployOptions>" + "".join(parts) + "</met:DeployOptions>"


@dataclass(frozen=True)
class ComponentMessage:
    """One component's outcome in a deploy."""

    type: str
    full_name: str
    file: str
    problem_type: str | None = None
    problem: str | None = None
    line: int | None = None
    column: int | None = None
    success: bool = False
    changed: bool = False
    created: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class TestFailure:
    """One failed Apex test method."""

    class_name: str
    method: str
    message: str
    stack: str | None = None


@dataclass(frozen=True)
class CodeCoverageWarning:
    name: str | None
    message: str


@dataclass(frozen=True)
class DeployResult:
    """What checkDeployStatus says about a deploy or validation."""

    id: str
    status: str
    done: bool
    success: bool
    check_only: bool = False
    state_detail: str | None = None
    number_component_errors: int = 0
    number_components_deployed: int = 0
    number_components_total: int = 0
    number_test_errors: int = 0
    number_tests_completed: int = 0
    number_tests_total: int = 0
    component_failures: list[ComponentMessage] = field(default_factory=list)
    component_successes: list[ComponentMessage] = field(default_factory=list)
    test_failures: list[TestFailure] = field(default_factory=list)
    code_coverage_warnings: list[CodeCoverageWarning] = field(default_factory=list)
    error_status_code: str | None = None
    error_message: str | None = None
    created_date: str | None = None
    completed_date: str | None = None
    rollback_on_error: bool | None = None
    run_tests_enabled: bool | None = None

    @property
    def partial(self) -> bool:
        return self.status == "SucceededPartial"


@dataclass(frozen=True)
class CancelDeployResult:
    id: str
    done: bool


@dataclass(frozen=True)
class FileProperties:
    """A component as listMetadata / retrieve describe it."""

    type: str
    full_name: str
    file_name: str
    id: str | None = None
    created_by_name: str | None = None
    created_date: str | None = None
    last_modified_by_name: str | None = None
    last_modified_date: str | None = None
    manageable_state: str | None = None
    namespace_prefix: str | None = None


@dataclass(frozen=True)
class RetrieveResult:
    id: str
    status: str
    done: bool
    success: bool
    zip_bytes: bytes | None = field(default=None, repr=False)
    file_properties: list[FileProperties] = field(default_factory=list)
    messages: list[tuple[str, str]] = field(default_factory=list)
    error_status_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class MetadataObject:
    xml_name: str
    directory_name: str | None
    suffix: str | None
    in_folder: bool
    meta_file: bool
    child_xml_names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MetadataDescribe:
    metadata_objects: list[MetadataObject]
    organization_namespace: str | None
    partial_save_allowed: bool
    test_required: bool


class _Node:
    """Namespace-blind access to a SOAP result element."""

    def __init__(self, element: Element) -> None:
        self.element = element

    def children(self, name: str) -> list[_Node]:
        return [_Node(c) for c in self.element if _local(c.tag) == name]

    def child(self, name: str) -> _Node | None:
        found = self.children(name)
        return found[0] if found else None

    def text(self, name: str) -> str | None:
        node = self.child(name)
        if node is None:
            return None
        return (node.element.text or "").strip()

    def get(self, name: str) -> str:
        return self.text(name) or ""

    def opt(self, name: str) -> str | None:
        return self.text(name) or None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.text(name)
        return default if value is None or value == "" else value.lower() == "true"

    def num(self, name: str) -> int:
        value = self.text(name)
        try:
            return int(float(value)) if value else 0
        except ValueError:
            return 0

    def opt_num(self, name: str) -> int | None:
        value = self.text(name)
        return int(value) if value and value.lstrip("-").isdigit() else None


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _component(node: _Node) -> ComponentMessage:
    return ComponentMessage(
        type=node.get("componentType"),
        full_name=node.get("fullName"),
        file=node.get("fileName"),
        problem_type=node.opt("problemType"),
        problem=node.opt("problem"),
        line=node.opt_num("lineNumber"),
        column=node.opt_num("columnNumber"),
        success=node.flag("success"),
        changed=node.flag("changed"),
        created=node.flag("created"),
        deleted=node.flag("deleted"),
    )


def parse_deploy_result(result: Element) -> DeployResult:
    """A DeployResult from a `<result>` element (modern `<details>` or legacy `<messages>` shape)."""
    node = _Node(result)
    details = node.child("details")
    successes: list[ComponentMessage] = []
    failures: list[ComponentMessage] = []
    run_tests = None
    if details is not None:
        successes = [_component(c) for c in details.children("componentSuccesses")]
        failures = [_component(c) for c in details.children("componentFailures")]
        run_tests = details.child("runTestResult")
    legacy = node.children("messages")
    for message in legacy:  # API <= 23: every component outcome is a <messages> element
        (successes if message.flag("success") else failures).append(_component(message))
    if run_tests is None:
        run_tests = node.child("runTestResult")
    test_failures: list[TestFailure] = []
    coverage_warnings: list[CodeCoverageWarning] = []
    if run_tests is not None:
        test_failures = [
            TestFailure(
                class_name=f.get("name"),
                method=f.get("methodName"),
                message=f.get("message"),
                stack=f.opt("stackTrace"),
            )
            for f in run_tests.children("failures")
        ]
        coverage_warnings = [
            CodeCoverageWarning(name=w.opt("name"), message=w.get("message"))
            for w in run_tests.children("codeCoverageWarnings")
        ]
    success = node.flag("success")
    status = node.text("status")
    done = node.flag("done", default=status in DONE_STATUSES if status else bool(legacy) or success)
    if not status:  # legacy results carry neither status nor done: they are final
        status = "Succeeded" if success else ("Failed" if done else "InProgress")
    return DeployResult(
        id=node.get("id"),
        status=status,
        done=done,
        success=success,
        check_only=node.flag("checkOnly"),
        state_detail=node.opt("stateDetail"),
        number_component_errors=node.num("numberComponentErrors"),
        number_components_deployed=node.num("numberComponentsDeployed"),
        number_components_total=node.num("numberComponentsTotal"),
        number_test_errors=node.num("numberTestErrors"),
        number_tests_completed=node.num("numberTestsCompleted"),
        number_tests_total=node.num("numberTestsTotal"),
        component_failures=failures,
        component_successes=successes,
        test_failures=test_failures,
        code_coverage_warnings=coverage_warnings,
        error_status_code=node.opt("errorStatusCode"),
        error_message=node.opt("errorMessage"),
        created_date=node.opt("createdDate"),
        completed_date=node.opt("completedDate"),
        rollback_on_error=node.flag("rollbackOnError") if node.text("rollbackOnError") else None,
        run_tests_enabled=node.flag("runTestsEnabled") if node.text("runTestsEnabled") else None,
    )


def _file_properties(node: _Node) -> FileProperties:
    return FileProperties(
        type=node.get("type"),
        full_name=node.get("fullName"),
        file_name=node.get("fileName"),
        id=node.opt("id"),
        created_by_name=node.opt("createdByName"),
        created_date=node.opt("createdDate"),
        last_modified_by_name=node.opt("lastModifiedByName"),
        last_modified_date=node.opt("lastModifiedDate"),
        manageable_state=node.opt("manageableState"),
        namespace_prefix=node.opt("namespacePrefix"),
    )


def parse_retrieve_result(result: Element) -> RetrieveResult:
    """A RetrieveResult from a `<result>` element (zip decoded from base64)."""
    node = _Node(result)
    zip_text = node.text("zipFile")
    zip_bytes = base64.b64decode(zip_text) if zip_text else None
    status = node.text("status")
    done = node.flag("done", default=zip_bytes is not None)
    if not status:  # older answers have no status: a zip means it finished
        status = "Succeeded" if zip_bytes is not None else ("Failed" if done else "InProgress")
    success = node.flag("success", default=status == "Succeeded")
    messages = [(m.get("fileName"), m.get("problem")) for m in node.children("messages")]
    return RetrieveResult(
        id=node.get("id"),
        status=status,
        done=done,
        success=success,
        zip_bytes=zip_bytes,
        file_properties=[_file_properties(p) for p in node.children("fileProperties")],
        messages=messages,
        error_status_code=node.opt("errorStatusCode"),
        error_message=node.opt("errorMessage"),
    )


def package_members(package_xml: str | bytes) -> dict[str, list[str]]:
    """{type: [members]} from a package.xml."""
    root = _Node(ElementTree.fromstring(package_xml))
    out: dict[str, list[str]] = {}
    for types in root.children("types"):
        out.setdefault(types.get("name"), []).extend((m.element.text or "").strip() for m in types.children("members"))
    return out


class MetadataClient:
    """The Metadata SOAP API of one org: {instance}/services/Soap/m/{version}."""

    def __init__(
        self, org: Org, *, sleep: Callable[[float], None] | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.org = org
        self.sleep = sleep or org.session.sleep
        self.clock = clock

    def __repr__(self) -> str:
        return f"MetadataClient(org={self.org.config.alias!r})"

    @property
    def endpoint(self) -> str:
        return f"{self.org.instance_url}/services/Soap/m/{self.org.api_version}"

    def call(self, operation: str, body: str, *, idempotent: bool = False) -> list[Element]:
        """Send one SOAP operation; returns the `<result>` elements of its response.

        The session id is read from the org's current credentials for each attempt; on an
        INVALID_SESSION_ID fault the org re-authenticates once and the call is replayed.
        """
        for attempt in range(2):
            token = self.org.credentials.access_token
            envelope = _ENVELOPE.format(
                ns=MD_NS, session=escape(token), body=f"<met:{operation}>{body}</met:{operation}>"
            )
            response = self.org.session.request(
                "POST",
                self.endpoint,
                data=envelope.encode("utf-8"),
                sfops_idempotent=idempotent,
                headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": operation},
            )
            fault = parse_soap_fault(response.content) if response.content.lstrip().startswith(b"<") else None
            if fault is not None:
                code, message = fault
                if code == "INVALID_SESSION_ID" and attempt == 0:
                    self.org.tokens.refresh(token)
                    continue
                raise make_error(code, message, status=response.status_code, url=self.endpoint, soap_fault=True)
            if response.status_code >= 400:
                raise error_from_response(response)
            root = parse_xml(response.content, f"Metadata API {operation}")
            answer = next((el for el in root.iter() if _local(el.tag) == f"{operation}Response"), None)
            if answer is None:
                raise SalesforceError(
                    f"Metadata API {operation}: unexpected answer (no {operation}Response).",
                    error_code="BAD_RESPONSE",
                    status=response.status_code,
                )
            return [el for el in answer if _local(el.tag) == "result"]
        raise AssertionError("unreachable")

    def _one(self, operation: str, body: str, *, idempotent: bool = False) -> Element:
        results = self.call(operation, body, idempotent=idempotent)
        if not results:
            raise SalesforceError(f"Metadata API {operation}: empty result.", error_code="BAD_RESPONSE")
        return results[0]

    # -- deploy ---------------------------------------------------------------------------------
    def deploy(self, zip_bytes: bytes, options: DeployOptions | None = None) -> str:
        """Start a deploy (or a validation with check_only) of a zip; returns the async id (0Af...)."""
        options = options or DeployOptions()
        body = _el("ZipFile", base64.b64encode(zip_bytes).decode("ascii")) + options.to_xml()
        return _Node(self._one("deploy", body)).get("id")

    def check_deploy_status(self, deploy_id: str, include_details: bool = True) -> DeployResult:
        """The current DeployResult of a deploy id."""
        body = _el("asyncProcessId", deploy_id) + _el("includeDetails", include_details)
        return parse_deploy_result(self._one("checkDeployStatus", body, idempotent=True))

    def quick_deploy(self, validated_id: str) -> str:
        """Deploy a recent successful validation (deployRecentValidation); returns the new deploy id."""
        result = self._one("deployRecentValidation", _el("validationId", validated_id))
        return (result.text or "").strip()

    def cancel_deploy(self, deploy_id: str) -> CancelDeployResult:
        """Ask Salesforce to cancel a queued or running deploy."""
        node = _Node(self._one("cancelDeploy", _el("String", deploy_id)))
        return CancelDeployResult(id=node.get("id") or deploy_id, done=node.flag("done"))

    # -- retrieve -------------------------------------------------------------------------------
    def retrieve(self, package: Mapping[str, Iterable[str]] | str | bytes, *, single_package: bool = True) -> str:
        """Start a retrieve of {type: [members]} (or a package.xml text); returns the async id."""
        members = package_members(package) if isinstance(package, str | bytes) else package
        types = "".join(
            "<met:types>" + "".join(_el("members", m) for m in names) + _el("name", type_name) + "</met:types>"
            for type_name, names in members.items()
        )
        request = (
            _el("apiVersion", self.org.api_version)
            + _el("singlePackage", single_package)
            + "<met:unpackaged>"
            + types
            + _el("version", self.org.api_version)
            + "</met:unpackaged>"
        )
        return _Node(self._one("retrieve", f"<met:retrieveRequest>{request}</met:retrieveRequest>")).get("id")

    def check_retrieve_status(self, retrieve_id: str, include_zip: bool = True) -> RetrieveResult:
        """Status of a retrieve; when done, the zip bytes and file properties."""
        body = _el("asyncProcessId", retrieve_id) + _el("includeZip", include_zip)
        return parse_retrieve_result(self._one("checkRetrieveStatus", body, idempotent=True))

    # -- discovery ------------------------------------------------------------------------------
    def list_metadata(self, metadata_type: str, folder: str | None = None) -> list[FileProperties]:
        """Components of one type (in a folder for Report, Dashboard, Document, EmailTemplate)."""
        query = (_el("folder", folder) if folder else "") + _el("type", metadata_type)
        body = f"<met:queries>{query}</met:queries>" + _el("asOfVersion", self.org.api_version)
        return [_file_properties(_Node(r)) for r in self.call("listMetadata", body, idempotent=True)]

    def describe_metadata(self) -> MetadataDescribe:
        """The metadata types the org supports."""
        node = _Node(self._one("describeMetadata", _el("asOfVersion", self.org.api_version), idempotent=True))
        objects = [
            MetadataObject(
                xml_name=o.get("xmlName"),
                directory_name=o.opt("directoryName"),
                suffix=o.opt("suffix"),
                in_folder=o.flag("inFolder"),
                meta_file=o.flag("metaFile"),
                child_xml_names=[(c.element.text or "").strip() for c in o.children("childXmlNames")],
            )
            for o in node.children("metadataObjects")
        ]
        return MetadataDescribe(
            metadata_objects=objects,
            organization_namespace=node.opt("organizationNamespace"),
            partial_save_allowed=node.flag("partialSaveAllowed"),
            test_required=node.flag("testRequired"),
        )

    # -- polling --------------------------------------------------------------------------------
    def poll(
        self,
        async_id: str,
        timeout: float,
        on_progress: Callable[[Any], None] | None = None,
        *,
        kind: str = "deploy",
        interval: float = 1.0,
        max_interval: float = 10.0,
    ) -> Any:
        """Check a deploy (or retrieve, kind="retrieve") until done, backing off from `interval`
        to `max_interval` seconds; raises StillRunning after `timeout` seconds."""
        if kind not in ("deploy", "retrieve"):
            raise ValueError(f"poll: kind must be 'deploy' or 'retrieve', not {kind!r}")
        check = self.check_deploy_status if kind == "deploy" else self.check_retrieve_status
        deadline = self.clock() + timeout
        delay = interval
        while True:
            result = check(async_id)
            if on_progress is not None:
                on_progress(result)
            if result.done:
                return result
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise StillRunning(
                    f"The {kind} {async_id} is still running ({result.status}) after {timeout:.0f} s.",
                    data={"id": async_id, "status": result.status},
                )
            self.sleep(min(delay, remaining))
            delay = min(delay * 2, max_interval)
