"""PDF/A-2b checks the tests make with pikepdf and fontTools (veraPDF is not packaged here):
every font used is embedded and its /Widths agree with the embedded program's advances (rules
6.2.11.4.1 and 6.2.11.5), the file claims PDF/A-2 in its XMP and carries an output intent, and
its XMP title, author and subject read exactly as its Info dictionary."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pikepdf
from fontTools.ttLib import TTFont

# veraPDF allows one unit in a thousand between /Widths and the font program.
WIDTH_TOLERANCE = 1.0


def _fonts_shown(pdf: pikepdf.Pdf) -> dict[tuple[int, int], tuple[Any, set[int]]]:
    """Every font a content stream selects (Tf), with the codes it shows (Tj, TJ, ', ")."""
    found: dict[tuple[int, int], tuple[Any, set[int]]] = {}
    seen_forms: set[tuple[int, int]] = set()

    def walk(owner: Any, resources: Any) -> None:
        fonts = resources.get("/Font", {}) if resources is not None else {}
        xobjects = resources.get("/XObject", {}) if resources is not None else {}
        current: tuple[Any, set[int]] | None = None
        for operands, operator in pikepdf.parse_content_stream(owner):
            op = str(operator)
            if op == "Tf":
                font = fonts.get(str(operands[0]))
                if font is not None:  # selecting a font counts as using it
                    current = found.setdefault(font.objgen, (font, set()))
            elif op in ("Tj", "'", '"', "TJ") and current is not None:
                font, codes = current
                wide = font.get("/Subtype") == "/Type0"
                items = operands[-1] if op == "TJ" else [operands[-1]]
                for item in items:
                    if isinstance(item, pikepdf.String):
                        raw = bytes(item)
                        if wide:
                            codes.update(
                                int.from_bytes(raw[i : i + 2], "big")
                                for i in range(0, len(raw) - 1, 2)
                            )
                        else:
                            codes.update(raw)
            elif op == "Do":
                form = xobjects.get(str(operands[0]))
                if (
                    form is not None
                    and form.get("/Subtype") == "/Form"
                    and form.objgen not in seen_forms
                ):
                    seen_forms.add(form.objgen)
                    walk(form, form.get("/Resources", resources))

    for page in pdf.pages:
        walk(page, page.obj.get("/Resources"))
        for annotation in page.obj.get("/Annots", []):
            for appearance in (annotation.get("/AP") or {}).values():
                if isinstance(appearance, pikepdf.Stream):
                    walk(appearance, appearance.get("/Resources"))
    return found


def _glyph_advances(program: bytes) -> tuple[TTFont, float]:
    font = TTFont(io.BytesIO(program))
    return font, 1000.0 / font["head"].unitsPerEm


def _simple_glyph(font: TTFont, code: int) -> str | None:
    """The glyph a simple TrueType font draws for a one-byte code: symbolic cmaps first."""
    for table in font["cmap"].tables if "cmap" in font else []:
        if (table.platformID, table.platEncID) in ((3, 0), (1, 0)):
            for table_code, name in table.cmap.items():
                if table_code & 0xFF == code:
                    return str(name)
    try:
        char = bytes([code]).decode("cp1252")
    except UnicodeDecodeError:
        return None
    name = (font.getBestCmap() or {}).get(ord(char))
    return None if name is None else str(name)


def _cid_widths(descendant: Any) -> Iterator[tuple[int, float]]:
    entries = list(descendant.get("/W", []))
    i = 0
    while i < len(entries):
        first, following = int(entries[i]), entries[i + 1]
        if isinstance(following, pikepdf.Array):
            yield from ((first + k, float(w)) for k, w in enumerate(following))
            i += 2
        else:
            yield from ((cid, float(entries[i + 2])) for cid in range(first, int(following) + 1))
            i += 3


def font_problems(pdf_bytes: bytes) -> list[str]:
    """What is wrong with the fonts a PDF uses; empty when every one is embedded with widths
    that agree with its program for every code shown."""
    problems: list[str] = []
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        for font, codes in _fonts_shown(pdf).values():
            name = str(font.get("/BaseFont", "?")).lstrip("/")
            subtype = str(font.get("/Subtype"))
            if subtype == "/Type3":
                continue  # glyphs drawn by content streams: nothing to embed
            descendant = font["/DescendantFonts"][0] if subtype == "/Type0" else font
            descriptor = descendant.get("/FontDescriptor")
            files = [
                k
                for k in ("/FontFile", "/FontFile2", "/FontFile3")
                if descriptor and k in descriptor
            ]
            if not files:
                problems.append(f"{name}: not embedded")
                continue
            if files[0] != "/FontFile2":
                continue  # neither LibreOffice nor reportlab embeds Type 1 or CFF here
            program, scale = _glyph_advances(descriptor["/FontFile2"].read_bytes())
            metrics, order = program["hmtx"].metrics, program.getGlyphOrder()
            mismatches: list[str] = []
            if subtype == "/TrueType":
                first = int(font.get("/FirstChar", 0))
                for offset, width in enumerate(font.get("/Widths", [])):
                    code = first + offset
                    glyph = _simple_glyph(program, code) if code in codes else None
                    if glyph in metrics:
                        advance = metrics[glyph][0] * scale
                        if abs(advance - float(width)) > WIDTH_TOLERANCE:
                            mismatches.append(f"code {code}: /Widths {width} vs {advance:.1f}")
            else:
                gid_map = descendant.get("/CIDToGIDMap")
                to_gid = None
                if isinstance(gid_map, pikepdf.Stream):
                    raw = gid_map.read_bytes()
                    to_gid = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
                for cid, width in _cid_widths(descendant):
                    if cid not in codes:
                        continue
                    gid = to_gid[cid] if to_gid and cid < len(to_gid) else cid
                    if gid < len(order):
                        advance = metrics[order[gid]][0] * scale
                        if abs(advance - width) > WIDTH_TOLERANCE:
                            mismatches.append(f"CID {cid}: /W {width} vs {advance:.1f}")
            if mismatches:
                problems.append(f"{name}: {len(mismatches)} widths disagree, e.g. {mismatches[0]}")
    return problems


def pdfa_identity(pdf_bytes: bytes) -> dict[str, Any]:
    """The PDF/A part and conformance the XMP claims, the output intents, and the title,
    author and subject as XMP and Info each give them."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        intents = [
            (str(i.get("/S")), "/DestOutputProfile" in i)
            for i in pdf.Root.get("/OutputIntents", [])
        ]
        info = {k: str(v) for k, v in pdf.docinfo.items()}
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
            return {
                "part": xmp.get("pdfaid:part"),
                "conformance": xmp.get("pdfaid:conformance"),
                "output_intents": intents,
                "xmp": {
                    "title": xmp.get("dc:title"),
                    "author": xmp.get("dc:creator"),
                    "subject": xmp.get("dc:description"),
                },
                "info": {
                    "title": info.get("/Title"),
                    "author": info.get("/Author"),
                    "subject": info.get("/Subject"),
                },
            }
