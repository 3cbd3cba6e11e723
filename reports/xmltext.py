"""Byte-level XML helpers for patching the parts of a package a stranger sent us.

No XML parser ever sees these parts: a parser would expand entities an attacker declared,
and re-serialising would change bytes we promise to keep. Instead, start tags are matched
with an anchored pattern that knows quoted attribute values (so a ``>`` inside a value does
not end the tag), and elements are located by their names, which the OOXML schemas keep
unnested where we look. Every scan moves forward only: each byte is looked at a bounded
number of times, whatever the input.

Text we write goes through :func:`clean` (control characters XML 1.0 forbids removed,
line ends normalised, length capped) and :func:`esc` / :func:`esc_attr`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: An element's start tag from its ``<``: name, attributes (double or single quoted), end.
START_TAG = re.compile(
    rb"<([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>"
)
_ATTR = re.compile(rb"\s([A-Za-z_][\w.:-]*)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_ENTITY = re.compile(rb"&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);")
_NAMED = {b"amp": "&", b"lt": "<", b"gt": ">", b"quot": '"', b"apos": "'"}
# XML 1.0 forbids C0 controls but tab/LF/CR, lone surrogates and U+FFFE/U+FFFF; C1 controls
# (except NEL) are legal but invisible and only ever smuggled in.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


class XmlShapeError(ValueError):
    """A part is not shaped as its schema says (the caller turns it into MarkupError)."""


def clean(text: object, limit: int) -> str:
    """Text safe for an XML 1.0 document: forbidden characters gone, CR/LF as LF, at most
    ``limit`` characters (cut with an ellipsis)."""
    s = str(text).replace("\r\n", "\n").replace("\r", "\n")
    s = _BAD_CHARS.sub("", s)
    if len(s) > limit:
        s = s[: max(limit - 1, 0)].rstrip() + "…"
    return s


def esc(text: str) -> str:
    """Escape element text (``]]>`` cannot survive: ``>`` is always escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_attr(text: str) -> str:
    """Escape an attribute value written between double quotes; tab and LF kept as such
    (attribute-value normalisation would turn them into spaces)."""
    return esc(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def unescape(raw: bytes) -> str:
    """Attribute or text bytes -> str, with the predefined and numeric entities resolved."""

    def one(m: re.Match[bytes]) -> str:
        name = m.group(1)
        if name in _NAMED:
            return _NAMED[name]
        code = int(name[2:], 16) if name[:2] == b"#x" else int(name[1:])
        return chr(code) if 0 < code < 0x110000 else "\ufffd"

    return _ENTITY.sub(lambda m: one(m).encode("utf-8", "surrogatepass"), raw).decode(
        "utf-8", "replace"
    )


@dataclass(frozen=True)
class Tag:
    """One start tag found in a part."""

    name: bytes  # qualified name, as written
    start: int  # offset of "<"
    end: int  # offset just past ">"
    attrs: bytes  # the attribute text
    empty: bool  # "<x/>"

    @property
    def local(self) -> bytes:
        return self.name.rpartition(b":")[2]

    @property
    def prefix(self) -> bytes:
        """``b"x:"`` for ``<x:row>``, ``b""`` without a prefix."""
        head, colon, _ = self.name.rpartition(b":")
        return head + colon

    def get(self, name: str) -> str | None:
        return get_attr(self.attrs, name)


def tag_at(xml: bytes, pos: int) -> Tag:
    """The start tag beginning at ``pos``; :class:`XmlShapeError` if it is not one."""
    m = START_TAG.match(xml, pos)
    if m is None:
        raise XmlShapeError(f"no start tag at byte {pos}")
    return Tag(m.group(1), pos, m.end(), m.group(2), m.group(3) == b"/")


def attrs_of(attrs: bytes) -> dict[bytes, bytes]:
    """Raw attribute values by qualified name (first occurrence wins)."""
    out: dict[bytes, bytes] = {}
    for m in _ATTR.finditer(attrs):
        out.setdefault(m.group(1), m.group(2) if m.group(2) is not None else m.group(3))
    return out


def get_attr(attrs: bytes, name: str) -> str | None:
    """Value of attribute ``name``; ``"*:id"`` matches ``id`` under any prefix."""
    for key, value in attrs_of(attrs).items():
        if key == name.encode() or (
            name.startswith("*:") and key.rpartition(b":")[2] == name[2:].encode() and b":" in key
        ):
            return unescape(value)
    return None


def set_attr(tag: bytes, name: str, value: str) -> bytes:
    """Start tag ``tag`` with attribute ``name`` set (replaced in place, or added last)."""
    pattern = re.compile(rb"(\s)" + re.escape(name.encode()) + rb"\s*=\s*(?:\"[^\"]*\"|'[^']*')")
    new = f'{name}="{esc_attr(value)}"'.encode()
    if pattern.search(tag):
        return pattern.sub(lambda m: m.group(1) + new, tag, count=1)
    close = 2 if tag.endswith(b"/>") else 1
    return tag[: len(tag) - close].rstrip() + b" " + new + tag[len(tag) - close :]


def drop_attr(tag: bytes, name: str) -> bytes:
    pattern = re.compile(rb"\s" + re.escape(name.encode()) + rb"\s*=\s*(?:\"[^\"]*\"|'[^']*')")
    return pattern.sub(b"", tag)


def root(xml: bytes) -> Tag:
    """The document element's start tag (after the XML declaration and comments)."""
    pos = 0
    while True:
        i = xml.find(b"<", pos)
        if i < 0:
            raise XmlShapeError("no root element")
        if xml.startswith(b"<?", i):
            pos = _skip(xml, i, b"?>")
        elif xml.startswith(b"<!--", i):
            pos = _skip(xml, i, b"-->")
        elif xml.startswith(b"<!", i):
            raise XmlShapeError("document type declarations are not allowed")
        else:
            return tag_at(xml, i)


def ns_prefix(root_tag: Tag, uri: str) -> bytes | None:
    """The prefix (``b"r"``) the root declares for namespace ``uri``; ``b""`` for a default."""
    for key, value in attrs_of(root_tag.attrs).items():
        if unescape(value) == uri:
            if key == b"xmlns":
                return b""
            if key.startswith(b"xmlns:"):
                return key[6:]
    return None


def _skip(xml: bytes, start: int, closer: bytes) -> int:
    j = xml.find(closer, start)
    if j < 0:
        raise XmlShapeError("unterminated markup")
    return j + len(closer)


@dataclass(frozen=True)
class Element:
    """A child element: its start tag and the offset just past its end tag."""

    tag: Tag
    end: int

    @property
    def start(self) -> int:
        return self.tag.start


def children(xml: bytes, start: int, stop: int) -> Iterator[Element]:
    """The elements directly inside ``xml[start:stop]`` (which holds their parent's content),
    in document order. Linear: comments, CDATA and processing instructions are skipped."""
    pos = start
    depth = 0
    current: Tag | None = None
    while True:
        i = xml.find(b"<", pos, stop)
        if i < 0:
            if depth:
                raise XmlShapeError("unclosed element")
            return
        if xml.startswith(b"<!--", i):
            pos = _skip(xml, i, b"-->")
        elif xml.startswith(b"<![CDATA[", i):
            pos = _skip(xml, i, b"]]>")
        elif xml.startswith(b"<?", i):
            pos = _skip(xml, i, b"?>")
        elif xml.startswith(b"</", i):
            pos = _skip(xml, i, b">")
            depth -= 1
            if depth < 0:
                return  # the parent's own end tag
            if depth == 0 and current is not None:
                yield Element(current, pos)
                current = None
        else:
            tag = tag_at(xml, i)
            pos = tag.end
            if depth == 0:
                if tag.empty:
                    yield Element(tag, tag.end)
                else:
                    current = tag
                    depth = 1
            elif not tag.empty:
                depth += 1


def element_end(xml: bytes, tag: Tag) -> int:
    """Offset just past the end of the element whose start tag is ``tag``, for elements
    that never contain an element of their own name (rows, cells, comments...)."""
    if tag.empty:
        return tag.end
    close = b"</" + tag.name + b">"
    j = xml.find(close, tag.end)
    if j < 0:
        raise XmlShapeError(f"unclosed <{tag.name.decode('ascii', 'replace')}>")
    return j + len(close)
