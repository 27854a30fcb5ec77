"""MetadataService: the Metadata API entry points the emulator core routes to.

SOAP: ``POST /services/Soap/m/{NN.0}[/anything]`` -> ``handle_soap``. The operation is the first
element of soapenv:Body (never the URL or SOAPAction: simple-salesforce appends /deployRequest/<id>
and sets SOAPAction, jsforce posts to the bare path with an empty SOAPAction).
REST: ``/services/data/vNN.0/metadata/<subpath>`` -> ``handle_rest`` (the deployRequest resource).
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sfops.emulator.metadata.crud import MetadataCrud
from sfops.emulator.metadata.deploys import DeployError, Deploys, deploy_result, deploy_result_json
from sfops.emulator.metadata.host import MdUser, MetadataHost
from sfops.emulator.metadata.model import TEST_LEVELS, DeployOptions
from sfops.emulator.metadata.retrieve import MetadataReader
from sfops.emulator.metadata.soapxml import (
    MD_NS,
    SOAP_HEADERS,
    SoapFault,
    child,
    children,
    envelope,
    fault,
    local,
    parse_bool,
    parse_envelope,
    text,
    texts,
)

Response = tuple[int, dict[str, str], bytes]
JSON_HEADERS = {"Content-Type": "application/json;charset=UTF-8"}
INVALID_SESSION = "Invalid Session ID found in SessionHeader: Illegal Session"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name.lower():
            return v
    return None


def _bearer(headers: Mapping[str, str]) -> str | None:
    auth = _header(headers, "Authorization") or ""
    parts = auth.split(None, 1)
    if len(parts) == 2 and parts[0].lower() in ("bearer", "oauth"):
        return parts[1].strip()
    return None


def options_from_xml(elem: Any | None) -> DeployOptions:
    """DeployOptions from the SOAP element (booleans case-insensitive; runTests repeated). An omitted
    singlePackage is false, as on a real org (Tooling API DeployRequest: SinglePackage defaults to false)."""
    opts = DeployOptions(single_package=False)
    if elem is None:
        return opts
    flags = {
        "allowMissingFiles": "allow_missing_files",
        "autoUpdatePackage": "auto_update_package",
        "checkOnly": "check_only",
        "ignoreWarnings": "ignore_warnings",
        "performRetrieve": "perform_retrieve",
        "purgeOnDelete": "purge_on_delete",
        "rollbackOnError": "rollback_on_error",
        "singlePackage": "single_package",
    }
    for xml_name, attr in flags.items():
        raw = text(elem, xml_name)
        if raw is not None:
            setattr(opts, attr, parse_bool(raw, getattr(opts, attr)))
    level = text(elem, "testLevel")
    if level:
        if level not in TEST_LEVELS:
            raise SoapFault("INVALID_TYPE", f"'{level}' is not a valid value for the enum 'TestLevel'", client=True)
        opts.test_level = level
    elif parse_bool(text(elem, "runAllTests")):
        opts.test_level = "RunAllTestsInOrg"
    opts.run_tests = [t for t in texts(elem, "runTests") if t]
    return opts


def options_from_json(data: Mapping[str, Any]) -> DeployOptions:
    """DeployOptions from REST deployOptions (accepts JSON booleans or "true"/"false" strings)."""

    def flag(name: str, default: bool) -> bool:
        v = data.get(name, default)
        return parse_bool(v) if isinstance(v, str) else bool(v if v is not None else default)

    level = data.get("testLevel") or None
    if level is not None and level not in TEST_LEVELS:
        raise DeployError("INVALID_INPUT", f"'{level}' is not a valid value for the enum 'TestLevel'")
    tests = data.get("runTests") or []
    if isinstance(tests, str):
        tests = [t.strip() for t in tests.split(",") if t.strip()]
    return DeployOptions(
        check_only=flag("checkOnly", False),
        ignore_warnings=flag("ignoreWarnings", False),
        rollback_on_error=flag("rollbackOnError", True),
        single_package=flag("singlePackage", False),
        purge_on_delete=flag("purgeOnDelete", False),
        allow_missing_files=flag("allowMissingFiles", False),
        auto_update_package=flag("autoUpdatePackage", False),
        perform_retrieve=flag("performRetrieve", False),
        test_level=level,
        run_tests=list(tests),
    )


# types the CRUD calls (readMetadata) refuse although deploy/retrieve handle them
_NOT_READABLE = frozenset({"ApexClass", "ApexTrigger", "ApexTestSuite"})


class MetadataService:
    """The emulator's Metadata API (SOAP and REST deployRequest) over a MetadataHost."""

    def __init__(
        self, host: MetadataHost, *, polls_to_complete: int = 3, seconds_per_step: float | None = None
    ) -> None:
        self.host = host
        self.deploys = Deploys(host, polls_to_complete=polls_to_complete, seconds_per_step=seconds_per_step)
        self.reader = MetadataReader(host)
        self.crud = MetadataCrud(host)
        self._lock = threading.RLock()
        self._ops: dict[str, Callable[[Any, MdUser], bytes]] = {
            "deploy": self._deploy,
            "checkDeployStatus": self._check_deploy_status,
            "deployRecentValidation": self._deploy_recent_validation,
            "cancelDeploy": self._cancel_deploy,
            "retrieve": self._retrieve,
            "checkRetrieveStatus": self._check_retrieve_status,
            "listMetadata": self._list_metadata,
            "describeMetadata": self._describe_metadata,
            "readMetadata": self._read_metadata,
            "createMetadata": self._create_metadata,
            "updateMetadata": self._update_metadata,
            "upsertMetadata": self._upsert_metadata,
            "deleteMetadata": self._delete_metadata,
            "renameMetadata": self._rename_metadata,
        }

    # ------------------------------------------------------------------ public
    def handle_soap(self, body: bytes, headers: Mapping[str, str]) -> Response:
        """Answer one Metadata SOAP request: (HTTP status, headers, body)."""
        try:
            op_elem, session_id = parse_envelope(body)
            user = self.host.authenticate(session_id or _bearer(headers) or "")
            if user is None:
                raise SoapFault("INVALID_SESSION_ID", INVALID_SESSION)
            op = local(op_elem.tag)
            handler = self._ops.get(op)
            if handler is None:
                raise SoapFault("Client", f"No operation available for request {{{MD_NS}}}{op}", client=True)
            with self._lock:
                return 200, dict(SOAP_HEADERS), handler(op_elem, user)
        except SoapFault as exc:
            return 500, dict(SOAP_HEADERS), fault(exc.code, exc.message, client=exc.client)
        except DeployError as exc:
            return 500, dict(SOAP_HEADERS), fault(exc.code, exc.message)

    def handle_rest(
        self, method: str, subpath: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> Response:
        """Answer one request under /services/data/vNN.0/metadata/."""
        user = self.host.authenticate(_bearer(headers) or "")
        if user is None:
            return _json(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
        parts = [p for p in subpath.strip("/").split("/") if p]
        if not parts or parts[0] != "deployRequest" or len(parts) > 2:
            return _json(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])
        deploy_id = parts[1] if len(parts) == 2 else None
        try:
            with self._lock:
                return self._rest_deploy_request(method.upper(), deploy_id, query, headers, body, user)
        except DeployError as exc:
            status = 404 if exc.code == "INVALID_CROSS_REFERENCE_KEY" else 400
            code = "NOT_FOUND" if status == 404 else exc.code
            return _json(status, [{"errorCode": code, "message": exc.message}])
        except SoapFault as exc:
            return _json(400, [{"errorCode": "INVALID_INPUT", "message": exc.message}])

    def deploy_zip_now(
        self, zip_bytes: bytes, options: Mapping[str, Any] | None = None, user: MdUser | None = None
    ) -> dict[str, Any]:
        """Deploy synchronously (seeding); returns the final DeployResult (REST JSON shape)."""
        opts = options_from_json(options or {})
        who = user or MdUser(self.host.org_id, "Emulator Seed")
        with self._lock:
            rec = self.deploys.run_now(zip_bytes, opts, who)
        return deploy_result_json(rec)

    # ------------------------------------------------------------------ SOAP operations
    def _deploy(self, elem: Any, user: MdUser) -> bytes:
        raw = text(elem, "ZipFile") or ""
        try:
            zip_bytes = base64.b64decode(raw, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise SoapFault("Client", f"ZipFile is not valid base64: {exc}", client=True) from exc
        rec = self.deploys.submit(zip_bytes, options_from_xml(child(elem, "DeployOptions")), user)
        return envelope("deploy", {"done": False, "id": rec["id"], "state": "Queued"})

    def _check_deploy_status(self, elem: Any, user: MdUser) -> bytes:
        deploy_id = text(elem, "asyncProcessId") or ""
        include = parse_bool(text(elem, "includeDetails"), False)
        rec = self.deploys.poll(deploy_id)
        return envelope("checkDeployStatus", deploy_result(rec, include))

    def _deploy_recent_validation(self, elem: Any, user: MdUser) -> bytes:
        rec = self.deploys.quick_deploy(text(elem, "validationId") or "", user)
        return envelope("deployRecentValidation", rec["id"])

    def _cancel_deploy(self, elem: Any, user: MdUser) -> bytes:
        # the WSDL names the parameter String; jsforce sends <id>
        target = text(elem, "String") or text(elem, "id") or text(elem, "asyncProcessId") or ""
        rec = self.deploys.cancel(target, user)
        return envelope("cancelDeploy", {"done": False, "id": rec["id"]})

    def _retrieve(self, elem: Any, user: MdUser) -> bytes:
        # the WSDL calls the parameter retrieveRequest; jsforce sends <request>
        req = child(elem, "retrieveRequest")
        if req is None:
            req = child(elem, "request")
        if req is None and len(elem):
            req = elem[0]
        if req is None:
            raise SoapFault("Client", "retrieveRequest is required", client=True)
        types: dict[str, list[str]] = {}
        unpackaged = child(req, "unpackaged")
        if unpackaged is not None:
            for t in children(unpackaged, "types"):
                types.setdefault(text(t, "name") or "", []).extend(texts(t, "members"))
        request = {
            "apiVersion": text(req, "apiVersion"),
            "types": types,
            # RetrieveRequest.singlePackage defaults to false: the zip is rooted at unpackaged/
            "singlePackage": parse_bool(text(req, "singlePackage"), False),
            "specificFiles": texts(req, "specificFiles"),
        }
        rec = self.reader.start_retrieve(request, user)
        return envelope("retrieve", {"done": False, "id": rec["id"], "state": "Queued"})

    def _check_retrieve_status(self, elem: Any, user: MdUser) -> bytes:
        result = self.reader.check_retrieve(
            text(elem, "asyncProcessId") or "", parse_bool(text(elem, "includeZip"), True)
        )
        return envelope("checkRetrieveStatus", result)

    def _list_metadata(self, elem: Any, user: MdUser) -> bytes:
        queries = [(text(q, "type") or "", text(q, "folder") or None) for q in children(elem, "queries")]
        return envelope("listMetadata", self.reader.list_metadata(queries, user))

    def _describe_metadata(self, elem: Any, user: MdUser) -> bytes:
        return envelope("describeMetadata", self.reader.describe_metadata(), xsi=True)

    def _read_metadata(self, elem: Any, user: MdUser) -> bytes:
        type_name = text(elem, "type") or ""
        if type_name in _NOT_READABLE:
            # file-based only (deploy/retrieve); the fault jsforce issue #1206 quotes from real orgs
            raise SoapFault("INVALID_TYPE", "This type of metadata is not available for this organization")
        result = self.reader.read_metadata(type_name, texts(elem, "fullNames"))
        return envelope("readMetadata", result, xsi=True)

    def _create_metadata(self, elem: Any, user: MdUser) -> bytes:
        return envelope("createMetadata", self.crud.create(children(elem, "metadata"), user))

    def _update_metadata(self, elem: Any, user: MdUser) -> bytes:
        return envelope("updateMetadata", self.crud.update(children(elem, "metadata"), user))

    def _upsert_metadata(self, elem: Any, user: MdUser) -> bytes:
        return envelope("upsertMetadata", self.crud.upsert(children(elem, "metadata"), user))

    def _delete_metadata(self, elem: Any, user: MdUser) -> bytes:
        names = texts(elem, "fullNames")
        return envelope("deleteMetadata", self.crud.delete(text(elem, "type") or "", names, user))

    def _rename_metadata(self, elem: Any, user: MdUser) -> bytes:
        result = self.crud.rename(
            text(elem, "type") or "", text(elem, "oldFullName") or "", text(elem, "newFullName") or "", user
        )
        return envelope("renameMetadata", result)

    # ------------------------------------------------------------------ REST deployRequest
    def _rest_deploy_request(
        self,
        method: str,
        deploy_id: str | None,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
        user: MdUser,
    ) -> Response:
        include = str(query.get("includeDetails", "false")).lower() == "true"
        if method == "POST" and deploy_id is None:
            ctype = _header(headers, "Content-Type") or ""
            if ctype.lower().startswith("multipart/"):
                zip_bytes, opts = _parse_multipart(ctype, body)
                rec = self.deploys.submit(zip_bytes, opts, user)
                return _json(201, self._rest_body(rec, include, None))
            data = _json_body(body)
            validated = data.get("validatedDeployRequestId")
            if not validated:
                raise DeployError(
                    "INVALID_INPUT", "Provide a zip file (multipart part 'file') or validatedDeployRequestId"
                )
            rec = self.deploys.quick_deploy(validated, user)
            return _json(201, self._rest_body(rec, include, validated))
        if deploy_id is None:
            return _json(
                405,
                [
                    {
                        "errorCode": "METHOD_NOT_ALLOWED",
                        "message": f"HTTP Method '{method}' not allowed. Allowed are POST",
                    }
                ],
            )
        if method == "POST":  # POST deployRequest/{validatedId}: quick deploy
            rec = self.deploys.quick_deploy(deploy_id, user)
            return _json(201, self._rest_body(rec, include, deploy_id))
        if method == "GET":
            rec = self.deploys.poll(deploy_id)
            return _json(200, self._rest_body(rec, include, rec.get("quickOf")))
        if method == "PATCH":
            data = _json_body(body)
            status = (data.get("deployResult") or {}).get("status")
            if status != "Canceling":
                raise DeployError("INVALID_INPUT", 'Only {"deployResult":{"status":"Canceling"}} is supported')
            rec = self.deploys.cancel(deploy_id, user)
            return _json(202, self._rest_body(rec, include, rec.get("quickOf")))
        return _json(
            405,
            [
                {
                    "errorCode": "METHOD_NOT_ALLOWED",
                    "message": f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,POST",
                }
            ],
        )

    def _rest_body(self, rec: dict[str, Any], include: bool, validated: str | None) -> dict[str, Any]:
        return {
            "id": rec["id"],
            "validatedDeployRequestId": validated,
            "deployOptions": rec["options"],
            "deployResult": deploy_result_json(rec, include),
        }


def _json(status: int, data: Any) -> Response:
    return status, dict(JSON_HEADERS), json.dumps(data).encode()


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise DeployError("JSON_PARSER_ERROR", f"Unexpected body: {exc}") from exc
    if not isinstance(data, dict):
        raise DeployError("JSON_PARSER_ERROR", "Expected a JSON object")
    return data


def _parse_multipart(content_type: str, body: bytes) -> tuple[bytes, DeployOptions]:
    """The zip (part 'file') and deployOptions (part 'entity_content' JSON) of a REST deploy."""
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    )
    zip_bytes: bytes | None = None
    opts = DeployOptions(single_package=False)
    if not msg.is_multipart():
        raise DeployError("INVALID_MULTIPART_REQUEST", "The request is not a valid multipart request")
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if name == "file":
            zip_bytes = payload
        elif name in ("entity_content", "json"):
            data = _json_body(payload)
            opts = options_from_json(data.get("deployOptions") or {})
    if zip_bytes is None:
        raise DeployError("INVALID_MULTIPART_REQUEST", "Missing the zip file part named 'file'")
    return zip_bytes, opts
