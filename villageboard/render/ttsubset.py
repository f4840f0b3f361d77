"""Read a font face straight from its bytes, and cut a small TrueType subset fast.

Why this exists: fpdf2 embeds a font by loading it with fontTools and subsetting it,
which for a CJK face (≈30–65k glyphs) costs 0.5–1 s per document, every document —
the whole DESIGN.md §8 budget for a 400-row notice. Reading the few tables we need
directly (cmap, hmtx, loca, glyf) is nearly free, and so is copying out the ~1–2k glyphs
a village notice uses. The small font this module writes is what fpdf2 then loads and
embeds, in milliseconds. The full face is parsed once per process and reused for a
whole batch.

Only TrueType-outline faces ('glyf') are subset here. CFF faces (Noto CJK is CFF) go
through fontTools' subsetter instead (:func:`subset_with_fonttools`): slower but
correct.
"""

from __future__ import annotations

import io
import struct
from bisect import bisect_left
from collections.abc import Callable, Iterable

_TTC = b"ttcf"
_U16 = struct.Struct(">H")
_I16 = struct.Struct(">h")
_U32 = struct.Struct(">I")

# Composite glyph flags (OpenType 'glyf').
_ARG_WORDS = 0x0001
_HAVE_SCALE = 0x0008
_MORE = 0x0020
_XY_SCALE = 0x0040
_TWO_BY_TWO = 0x0080

#: Tables copied as they are into a subset (hinting keeps small text crisp on screen).
_COPY_TABLES = (b"OS/2", b"name", b"cvt ", b"fpgm", b"prep", b"gasp")


class FontFormatError(ValueError):
    """The file is not a font this module can read."""


def face_count(data: bytes) -> int:
    """Number of faces in a .ttc/.otc collection (1 for a single .ttf/.otf)."""
    if data[:4] == _TTC:
        count: int = _U32.unpack_from(data, 8)[0]
        return count
    return 1


class SfntFace:
    """One face of a .ttf/.otf/.ttc/.otc, read lazily from the file's bytes."""

    def __init__(self, data: bytes, index: int = 0) -> None:
        self.data = data
        base = 0
        if data[:4] == _TTC:
            count = _U32.unpack_from(data, 8)[0]
            if not 0 <= index < count:
                raise FontFormatError(f"face {index} not in a collection of {count}")
            base = _U32.unpack_from(data, 12 + 4 * index)[0]
        elif index != 0:
            raise FontFormatError("a single-face font has only face 0")
        if len(data) < base + 12:
            raise FontFormatError("file too short to be a font")
        self.sfnt_version = bytes(data[base : base + 4])
        if self.sfnt_version not in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
            raise FontFormatError("not a TrueType/OpenType font")
        num = _U16.unpack_from(data, base + 4)[0]
        self.tables: dict[bytes, tuple[int, int]] = {}
        for i in range(num):
            rec = base + 12 + 16 * i
            tag = bytes(data[rec : rec + 4])
            offset, length = struct.unpack_from(">II", data, rec + 8)
            if offset + length > len(data):
                raise FontFormatError(f"table {tag!r} runs past the end of the file")
            self.tables[tag] = (offset, length)
        for required in (b"head", b"hhea", b"hmtx", b"maxp", b"cmap"):
            if required not in self.tables:
                raise FontFormatError(f"missing required table {required.decode()}")
        head = self.table(b"head")
        self.units_per_em: int = _U16.unpack_from(head, 18)[0] or 1000
        self.loc_format: int = _I16.unpack_from(head, 50)[0]
        hhea = self.table(b"hhea")
        self.ascent: int = _I16.unpack_from(hhea, 4)[0]
        self.descent: int = _I16.unpack_from(hhea, 6)[0]
        self.num_hmetrics: int = _U16.unpack_from(hhea, 34)[0]
        self.num_glyphs: int = _U16.unpack_from(self.table(b"maxp"), 4)[0]
        self.is_truetype = b"glyf" in self.tables and b"loca" in self.tables
        self._hmtx_off = self.tables[b"hmtx"][0]
        self._gid_cache: dict[int, int] = {}
        self._cmap_lookup = self._parse_cmap()

    # --- tables -----------------------------------------------------------------

    def table(self, tag: bytes) -> bytes:
        offset, length = self.tables[tag]
        return self.data[offset : offset + length]

    # --- character map -----------------------------------------------------------

    def _parse_cmap(self) -> Callable[[int], int]:
        off0, _length = self.tables[b"cmap"]
        data = self.data
        n = _U16.unpack_from(data, off0 + 2)[0]
        subtables: dict[tuple[int, int, int], int] = {}
        for i in range(n):
            pid, eid, sub = struct.unpack_from(">HHI", data, off0 + 4 + 8 * i)
            fmt = _U16.unpack_from(data, off0 + sub)[0]
            subtables.setdefault((pid, eid, fmt), off0 + sub)
        for key in ((3, 10, 12), (0, 4, 12), (0, 6, 12), (0, 3, 12)):
            if key in subtables:
                return self._format12(subtables[key])
        for key in ((3, 1, 4), (0, 3, 4), (0, 1, 4), (0, 0, 4)):
            if key in subtables:
                return self._format4(subtables[key])
        for (pid, _eid, fmt), off in subtables.items():
            if pid == 0 and fmt == 12:
                return self._format12(off)
            if pid == 0 and fmt == 4:
                return self._format4(off)
        raise FontFormatError("no Unicode character map (cmap format 4 or 12)")

    def _format4(self, off: int) -> Callable[[int], int]:
        data = self.data
        seg = _U16.unpack_from(data, off + 6)[0] // 2
        ends = struct.unpack_from(f">{seg}H", data, off + 14)
        starts = struct.unpack_from(f">{seg}H", data, off + 16 + 2 * seg)
        deltas = struct.unpack_from(f">{seg}h", data, off + 16 + 4 * seg)
        ro_base = off + 16 + 6 * seg
        ranges = struct.unpack_from(f">{seg}H", data, ro_base)

        def lookup(cp: int) -> int:
            if cp > 0xFFFF:
                return 0
            i = bisect_left(ends, cp)
            if i >= seg or starts[i] > cp:
                return 0
            if ranges[i] == 0:
                direct: int = (cp + deltas[i]) & 0xFFFF
                return direct
            addr = ro_base + 2 * i + ranges[i] + 2 * (cp - starts[i])
            if addr + 2 > len(data):
                return 0
            g: int = _U16.unpack_from(data, addr)[0]
            return (g + deltas[i]) & 0xFFFF if g else 0

        return lookup

    def _format12(self, off: int) -> Callable[[int], int]:
        data = self.data
        count = _U32.unpack_from(data, off + 12)[0]
        flat = struct.unpack_from(f">{3 * count}I", data, off + 16)
        starts = flat[0::3]
        ends = flat[1::3]
        glyphs = flat[2::3]

        def lookup(cp: int) -> int:
            i = bisect_left(ends, cp)
            if i >= count or starts[i] > cp:
                return 0
            gid: int = glyphs[i] + (cp - starts[i])
            return gid

        return lookup

    def gid(self, cp: int) -> int:
        """Glyph id for a code point; 0 (.notdef) when the face has no glyph for it."""
        g = self._gid_cache.get(cp)
        if g is None:
            g = self._cmap_lookup(cp)
            if g >= self.num_glyphs:
                g = 0
            self._gid_cache[cp] = g
        return g

    # --- metrics and outlines ------------------------------------------------------

    def advance(self, gid: int) -> int:
        i = min(gid, self.num_hmetrics - 1)
        width: int = _U16.unpack_from(self.data, self._hmtx_off + 4 * i)[0]
        return width

    def lsb(self, gid: int) -> int:
        if gid < self.num_hmetrics:
            pos = self._hmtx_off + 4 * gid + 2
        else:
            pos = self._hmtx_off + 4 * self.num_hmetrics + 2 * (gid - self.num_hmetrics)
        bearing: int = _I16.unpack_from(self.data, pos)[0]
        return bearing

    def _loca(self, gid: int) -> tuple[int, int]:
        off = self.tables[b"loca"][0]
        if self.loc_format == 0:
            a, b = struct.unpack_from(">HH", self.data, off + 2 * gid)
            return 2 * a, 2 * b
        return struct.unpack_from(">II", self.data, off + 4 * gid)

    def glyph(self, gid: int) -> bytes:
        start, end = self._loca(gid)
        g0 = self.tables[b"glyf"][0]
        return self.data[g0 + start : g0 + end]

    @staticmethod
    def components(glyph: bytes) -> list[tuple[int, int]]:
        """(byte position of the glyph id, glyph id) for each component of a composite."""
        if len(glyph) < 10 or _I16.unpack_from(glyph, 0)[0] >= 0:
            return []
        out = []
        i = 10
        more = True
        while more and i + 4 <= len(glyph):
            flags, gid = struct.unpack_from(">HH", glyph, i)
            out.append((i + 2, gid))
            i += 4 + (4 if flags & _ARG_WORDS else 2)
            if flags & _HAVE_SCALE:
                i += 2
            elif flags & _XY_SCALE:
                i += 4
            elif flags & _TWO_BY_TWO:
                i += 8
            more = bool(flags & _MORE)
        return out

    # --- subsetting ------------------------------------------------------------------

    def subset(self, codepoints: Iterable[int]) -> bytes:
        """A standalone TrueType font with just these characters (and .notdef).

        Glyph ids are renumbered; composite glyphs keep their components. Hinting
        tables are kept as they are so small print stays crisp on screen."""
        if not self.is_truetype:
            raise FontFormatError("only TrueType-outline faces are subset here")
        cmap: dict[int, int] = {}
        for cp in codepoints:
            g = self.gid(cp)
            if g:
                cmap[cp] = g
        keep = {0} | set(cmap.values())
        todo = list(keep)
        while todo:
            gid = todo.pop()
            for _pos, comp in self.components(self.glyph(gid)):
                if comp not in keep and comp < self.num_glyphs:
                    keep.add(comp)
                    todo.append(comp)
        order = sorted(keep)
        new_id = {old: new for new, old in enumerate(order)}

        glyf = bytearray()
        loca = bytearray()
        hmtx = bytearray()
        for old in order:
            data = self.glyph(old)
            comps = self.components(data)
            if comps:
                buf = bytearray(data)
                for pos, comp in comps:
                    _U16.pack_into(buf, pos, new_id.get(comp, 0))
                data = bytes(buf)
            loca += _U32.pack(len(glyf))
            glyf += data
            glyf += b"\0" * (-len(glyf) % 4)
            hmtx += struct.pack(">Hh", self.advance(old), self.lsb(old))
        loca += _U32.pack(len(glyf))

        head = bytearray(self.table(b"head")[:54])
        head[8:12] = b"\0\0\0\0"
        _I16.pack_into(head, 50, 1)  # long loca offsets
        hhea = bytearray(self.table(b"hhea")[:36])
        _U16.pack_into(hhea, 34, len(order))
        maxp = bytearray(self.table(b"maxp"))
        _U16.pack_into(maxp, 4, len(order))
        post = bytearray(self.table(b"post")[:32]) if b"post" in self.tables else bytearray(32)
        post = post.ljust(32, b"\0")
        _U32.pack_into(post, 0, 0x00030000)  # format 3: no glyph names

        tables: dict[bytes, bytes] = {
            b"head": bytes(head),
            b"hhea": bytes(hhea),
            b"maxp": bytes(maxp),
            b"post": bytes(post),
            b"hmtx": bytes(hmtx),
            b"loca": bytes(loca),
            b"glyf": bytes(glyf),
            b"cmap": _build_cmap({cp: new_id[g] for cp, g in cmap.items()}),
        }
        for tag in _COPY_TABLES:
            if tag in self.tables:
                tables[tag] = bytes(self.table(tag))
        return _write_sfnt(b"\x00\x01\x00\x00", tables)


def _build_cmap(mapping: dict[int, int]) -> bytes:
    """cmap with a (3,1) format 4 subtable for the BMP and a (3,10) format 12 for all."""
    cps = sorted(mapping)
    # format 12: merge runs where both code point and glyph id go up by one
    groups: list[list[int]] = []
    for cp in cps:
        g = mapping[cp]
        if groups and groups[-1][1] + 1 == cp and groups[-1][2] + (cp - groups[-1][0]) == g:
            groups[-1][1] = cp
        else:
            groups.append([cp, cp, g])
    f12 = struct.pack(">HHIII", 12, 0, 16 + 12 * len(groups), 0, len(groups))
    f12 += b"".join(struct.pack(">III", *grp) for grp in groups)

    bmp = [grp for grp in groups if grp[1] <= 0xFFFF]
    segs = [(s, e, (g - s) & 0xFFFF) for s, e, g in bmp] + [(0xFFFF, 0xFFFF, 1)]
    n = len(segs)
    p2 = 1
    while p2 * 2 <= n:
        p2 *= 2
    entry_selector = p2.bit_length() - 1
    body = struct.pack(f">{n}H", *(e for _s, e, _d in segs)) + b"\0\0"
    body += struct.pack(f">{n}H", *(s for s, _e, _d in segs))
    body += struct.pack(f">{n}H", *(d for _s, _e, d in segs))
    body += b"\0\0" * n
    length = 14 + len(body)
    f4 = struct.pack(">HHHHHHH", 4, length, 0, 2 * n, 2 * p2, entry_selector, 2 * n - 2 * p2)
    f4 += body
    if len(f4) > 0xFFFF:  # too many BMP segments for format 4; format 12 alone suffices
        header = struct.pack(">HH", 0, 1) + struct.pack(">HHI", 3, 10, 12)
        return header + f12
    header = struct.pack(">HH", 0, 2)
    header += struct.pack(">HHI", 3, 1, 4 + 16)
    header += struct.pack(">HHI", 3, 10, 4 + 16 + len(f4))
    return header + f4 + f12


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    words: tuple[int, ...] = struct.unpack(f">{len(padded) // 4}I", padded)
    return sum(words) & 0xFFFFFFFF


def _write_sfnt(version: bytes, tables: dict[bytes, bytes]) -> bytes:
    tags = sorted(tables)
    n = len(tags)
    p2 = 1
    while p2 * 2 <= n:
        p2 *= 2
    header = version + struct.pack(">HHHH", n, 16 * p2, p2.bit_length() - 1, 16 * n - 16 * p2)
    offset = 12 + 16 * n
    records = bytearray()
    body = bytearray()
    head_pos = 0
    for tag in tags:
        data = tables[tag]
        if tag == b"head":
            head_pos = offset + len(body)
        records += tag + struct.pack(">III", _checksum(data), offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    font = bytearray(header + records + body)
    adjustment = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
    _U32.pack_into(font, head_pos + 8, adjustment)
    return bytes(font)


def subset_with_fonttools(data: bytes, index: int, codepoints: Iterable[int]) -> bytes:
    """Subset any face (CFF included) with fontTools. Slow on big CJK faces (≈1 s), so
    it is used only for faces :meth:`SfntFace.subset` cannot handle."""
    from fontTools import subset as ftsubset
    from fontTools.ttLib import TTFont

    options = ftsubset.Options(notdef_outline=True, glyph_names=False)
    options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "BASE", "VORG", "vhea", "vmtx", "MATH", "meta", "DSIG"]
    options.layout_features = []
    font = TTFont(io.BytesIO(data), fontNumber=index, lazy=True, recalcTimestamp=False)
    sub = ftsubset.Subsetter(options)
    sub.populate(unicodes=list(codepoints))
    sub.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
