"""Parsing IAM's form XML (``xml/<form id>.xml``, ISO-8859-1).

A form is ``<form id= writer-id= width= height=>`` (full-resolution scan pixels); its
``<handwritten-part>`` holds ``<line id= segmentation= threshold=>`` elements, each a sequence of
``<word text=>`` elements holding zero or more ``<cmp x= y= width= height=/>`` boxes. A line's
tokens are its words' texts (entities such as ``&quot;`` unescaped by the parser), its box the
union of its words' ``<cmp>`` boxes; a line with no ``<cmp>`` has no box (``None``).

A file that is not well-formed XML, has no ``<form>`` root, or lacks or garbles an attribute named
above is a :class:`~textrec_core.errors.DataError` naming the file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import attrs

from textrec_core.errors import DataError


@attrs.frozen
class XmlLine:
    """One handwritten line: ``box`` is ``(x, y, w, h)`` in full-resolution form pixels, or None."""

    line_id: str
    segmentation: str
    threshold: int
    components: int
    tokens: tuple[str, ...]
    box: tuple[int, int, int, int] | None


@attrs.frozen
class FormXml:
    """One form: its id, writer, scan size ``(width, height)`` in full-resolution pixels and lines."""

    form_id: str
    writer_id: str
    size: tuple[int, int]
    lines: tuple[XmlLine, ...]


def parse_form_xml(data: bytes, *, origin: str) -> FormXml:
    """The form in ``data`` (see the module docstring); ``origin`` names the file in errors."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise DataError(f"{origin} is not well-formed XML: {exc}") from None
    if root.tag != "form":
        raise DataError(f"{origin}: the root element is <{root.tag}>, expected <form>")
    return FormXml(_attribute(root, "id", origin), _attribute(root, "writer-id", origin),
                   (_integer(root, "width", origin), _integer(root, "height", origin)),
                   tuple(_line(line, origin) for line in root.iterfind("handwritten-part/line")))


def _line(element: ElementTree.Element, origin: str) -> XmlLine:
    boxes = [tuple(_integer(cmp, name, origin) for name in ("x", "y", "width", "height"))
             for cmp in element.iterfind("word/cmp")]
    box = None
    if boxes:
        left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
        right, bottom = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
        box = (left, top, right - left, bottom - top)
    tokens = tuple(_attribute(word, "text", origin) for word in element.iterfind("word"))
    return XmlLine(_attribute(element, "id", origin), element.get("segmentation", "ok"),
                   _integer(element, "threshold", origin) if "threshold" in element.attrib else 0,
                   len(boxes), tokens, box)


def _attribute(element: ElementTree.Element, name: str, origin: str) -> str:
    value = element.get(name)
    if value is None:
        raise DataError(f"{origin}: a <{element.tag}> element has no {name!r} attribute")
    return value


def _integer(element: ElementTree.Element, name: str, origin: str) -> int:
    value = _attribute(element, name, origin)
    try:
        return int(value)
    except ValueError:
        raise DataError(f"{origin}: <{element.tag}> {name}={value!r} is not an integer") from None
