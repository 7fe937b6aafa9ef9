"""Build test DOCX files from the built-in templates: edited text, hostile packages."""

from __future__ import annotations

import copy
import io
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from lxml import etree

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def builtin(key: str) -> bytes:
    return (TEMPLATES / f"{key}.docx").read_bytes()


def read_parts(docx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rezip(parts: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return out.getvalue()


def edit_part(docx: bytes, name: str, edit: Callable[[bytes], bytes]) -> bytes:
    parts = read_parts(docx)
    parts[name] = edit(parts[name])
    return rezip(parts)


def replace_text(docx: bytes, old: str, new: str) -> bytes:
    """Replace text inside one w:t of the body (it must be there)."""

    def edit(xml: bytes) -> bytes:
        assert old.encode() in xml, f"{old!r} not in word/document.xml"
        return xml.replace(old.encode(), new.encode(), 1)

    return edit_part(docx, "word/document.xml", edit)


def add_paragraph(docx: bytes, text: str, after: str | None = None) -> bytes:
    """A new paragraph with `text` after the one starting with `after` (default: at the end),
    with the same paragraph style."""

    def edit(xml: bytes) -> bytes:
        root = etree.fromstring(xml)
        body = root.find(W + "body")
        paragraphs = [p for p in body.iter(W + "p")]
        anchor = paragraphs[-1]
        if after is not None:
            anchor = next(p for p in paragraphs if "".join(p.itertext()).startswith(after))
        new = etree.Element(W + "p")
        ppr = anchor.find(W + "pPr")
        if ppr is not None:
            new.append(copy.deepcopy(ppr))
        run = etree.SubElement(new, W + "r")
        t = etree.SubElement(run, W + "t")
        t.text = text
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        anchor.addnext(new)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    return edit_part(docx, "word/document.xml", edit)


def with_jinja(text: str, key: str = "security") -> bytes:
    """The built-in template with one more paragraph holding `text` (Jinja, say)."""
    return add_paragraph(builtin(key), text)


def macro_enabled(docx: bytes) -> bytes:
    """What Word saves as .docm: a macro-enabled main part and word/vbaProject.bin."""
    parts = read_parts(docx)
    types = parts["[Content_Types].xml"].decode()
    types = types.replace(DOCX_MAIN, DOCM_MAIN)
    types = types.replace(
        "</Types>",
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
    )
    parts["[Content_Types].xml"] = types.encode()
    rels = parts["word/_rels/document.xml.rels"].decode()
    parts["word/_rels/document.xml.rels"] = rels.replace(
        "</Relationships>",
        '<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/'
        'vbaProject" Target="vbaProject.bin"/></Relationships>',
    ).encode()
    parts["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(2048)
    return rezip(parts)


def with_vba_part_only(docx: bytes) -> bytes:
    """A .docx content type but a macro part smuggled in."""
    parts = read_parts(docx)
    parts["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(2048)
    return rezip(parts)


def zip_bomb(docx: bytes, megabytes: int = 60) -> bytes:
    """A 60 MB entry of zeros that deflates to ~60 KB."""
    parts = read_parts(docx)
    parts["word/media/image1.png"] = bytes(megabytes * 1024 * 1024)
    return rezip(parts)


def lying_sizes(docx: bytes) -> bytes:
    """A bomb entry whose central directory claims it is small."""
    data = bytearray(zip_bomb(docx, 20))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("word/media/image1.png")
    real = info.file_size.to_bytes(4, "little")
    fake = (1000).to_bytes(4, "little")
    # Patch the declared uncompressed size in the local header and the central directory.
    data = bytearray(bytes(data).replace(real, fake))
    return bytes(data)


def many_entries(docx: bytes, count: int = 1001) -> bytes:
    parts = read_parts(docx)
    for i in range(count):
        parts[f"customXml/extra{i}.xml"] = b"<x/>"
    return rezip(parts)


def too_big(docx: bytes, megabytes: int = 6) -> bytes:
    """Over 5 MB, stored uncompressed (random bytes do not compress anyway)."""
    parts = read_parts(docx)
    parts["word/media/image2.jpeg"] = os.urandom(megabytes * 1024 * 1024)
    return rezip(parts)


def pdf_file() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out)
    c.drawString(72, 720, "Not a Word document")
    c.save()
    return out.getvalue()


def renamed_zip() -> bytes:
    return rezip({"readme.txt": b"just a zip", "data/a.xml": b"<a/>"})


def with_dtd(docx: bytes) -> bytes:
    def edit(xml: bytes) -> bytes:
        return re.sub(
            rb"^(<\?xml[^>]*\?>)",
            rb'\1<!DOCTYPE w:document [<!ENTITY e "ee">]>',
            xml,
            count=1,
        )

    return edit_part(docx, "word/document.xml", edit)


def with_external_image(docx: bytes) -> bytes:
    def edit(rels: bytes) -> bytes:
        return rels.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdExt" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/image" Target="http://127.0.0.1:9/track.png" '
            b'TargetMode="External"/></Relationships>',
        )

    return edit_part(docx, "word/_rels/document.xml.rels", edit)


def as_word_template(docx: bytes) -> bytes:
    def edit(types: bytes) -> bytes:
        return types.replace(
            DOCX_MAIN.encode(), DOCX_MAIN.replace("document.main", "template.main").encode()
        )

    return edit_part(docx, "[Content_Types].xml", edit)


def without_marker(key: str = "security") -> bytes:
    """The master without its `{{p <key>_clause }}` paragraph."""
    marker = f"<w:p><w:pPr/><w:r><w:t>{{{{p {key}_clause }}}}</w:t></w:r></w:p>"
    return replace_text(builtin("master"), marker, "")
