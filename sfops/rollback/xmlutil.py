"""Metadata XML: parsed with defusedxml only, written deterministically in the layout `sf` writes.

Output layout: XML declaration, 4-space indentation, one element per line, text escaped like the
Salesforce CLI (& < > ' " as entities), a trailing newline.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # building/serialising only; parsing goes through defusedxml
from collections.abc import Iterable, Mapping

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from sfops.errors import SfopsError

MD_NS = "http://soap.sforce.com/2006/04/metadata"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_PREFIXES = {XSI_NS: "xsi", XSD_NS: "xsd"}


class MetadataXmlError(SfopsError):
    """A metadata file is not well-formed XML."""


def parse(data: bytes, where: str = "") -> ET.Element:
    """Parse metadata XML safely (no entities, no DTDs)."""
    try:
        return SafeET.fromstring(data)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise MetadataXmlError(f"Cannot parse XML {where}: {exc}") from exc


def local(tag: str) -> str:
    """Tag without its {namespace}."""
    return tag.rsplit("}", 1)[-1]


def text_of(element: ET.Element, child: str) -> str | None:
    """Text of the first direct child named `child` (any namespace)."""
    for sub in element:
        if local(sub.tag) == child:
            return (sub.text or "").strip()
    return None


def canonical(element: ET.Element) -> str:
    """A whitespace-insensitive string form, for equality of two elements."""
    parts: list[str] = []
    _canon(element, parts)
    return "".join(parts)


def _canon(element: ET.Element, parts: list[str]) -> None:
    attrs = "".join(f" {local(k)}={v!r}" for k, v in sorted(element.attrib.items()))
    parts.append(f"<{local(element.tag)}{attrs}>")
    if len(element):
        for sub in element:
            _canon(sub, parts)
    else:
        parts.append((element.text or "").strip())
    parts.append(f"</{local(element.tag)}>")


def escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def _attr_name(name: str) -> str:
    if name.startswith("{"):
        ns, _, tag = name[1:].partition("}")
        return f"{_PREFIXES.get(ns, 'ns')}:{tag}"
    return name


def _used_namespaces(element: ET.Element) -> set[str]:
    used: set[str] = set()
    for node in element.iter():
        for name in node.attrib:
            if name.startswith("{"):
                used.add(name[1:].partition("}")[0])
        for value in node.attrib.values():
            if ":" in value:
                prefix = value.split(":", 1)[0]
                used.update(ns for ns, p in _PREFIXES.items() if p == prefix)
    return used


def serialize(root_tag: str, children: Iterable[ET.Element]) -> bytes:
    """A metadata document `<root_tag xmlns=...>children</root_tag>` in sf's layout."""
    children = list(children)
    used: set[str] = set()
    for child in children:
        used |= _used_namespaces(child)
    ns_decl = f' xmlns="{MD_NS}"' + "".join(f' xmlns:{_PREFIXES[ns]}="{ns}"' for ns in (XSI_NS, XSD_NS) if ns in used)
    lines = [DECLARATION.rstrip("\n"), f"<{root_tag}{ns_decl}>"]
    for child in children:
        _write(child, 1, lines)
    lines.append(f"</{root_tag}>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _write(element: ET.Element, depth: int, lines: list[str]) -> None:
    pad = "    " * depth
    tag = local(element.tag)
    attrs = "".join(f' {_attr_name(k)}="{escape(v)}"' for k, v in element.attrib.items())
    if len(element):
        lines.append(f"{pad}<{tag}{attrs}>")
        for sub in element:
            _write(sub, depth + 1, lines)
        lines.append(f"{pad}</{tag}>")
    else:
        text = (element.text or "").strip()
        lines.append(f"{pad}<{tag}{attrs}>{escape(text)}</{tag}>" if text else f"{pad}<{tag}{attrs}/>")


def element(tag: str, text: str | None = None, children: Iterable[ET.Element] = ()) -> ET.Element:
    """Build an element (no namespace; serialize() adds the metadata namespace on the root)."""
    node = ET.Element(tag)
    node.text = text
    node.extend(children)
    return node


def package_xml(members: Mapping[str, Iterable[str]], api_version: str) -> bytes:
    """package.xml / destructiveChanges*.xml: types sorted by name, members sorted, like `sf`."""
    types = []
    for type_name in sorted(members):
        names = sorted(set(members[type_name]))
        if names:
            types.append(
                element("types", children=[*(element("members", n) for n in names), element("name", type_name)])
            )
    return serialize("Package", [*types, element("version", api_version)])


def normalised(data: bytes) -> str:
    """Canonical string of a whole document (used to compare with reference outputs)."""
    return canonical(parse(data))
