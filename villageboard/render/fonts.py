"""Finding, checking and caching the CJK font every poster is printed in.

DESIGN.md §6: a configured font path always wins (the ``font`` argument — the
township's setting — then the ``VILLAGEBOARD_FONT`` environment variable); otherwise the
platform's Chinese fonts are searched: fonts-wqy-microhei or fonts-noto-cjk on Linux
(also whatever ``fc-list :lang=zh`` reports), 微软雅黑/宋体 on Windows, 苹方/宋体 on macOS.
Inside a .ttc collection the face is chosen by reading its ``name`` table (the
Simplified-Chinese "SC" face of Noto, the proportional "Micro Hei" rather than "Micro
Hei Mono"), never by a fixed index, because the face order differs between versions.

A poster must never show tofu boxes: :func:`resolve_fonts` checks every character the
poster will print against the chosen face's character map. Characters it lacks are
taken from another installed CJK font when one has them (e.g. 𠮷 from Noto when the
main font is WenQuanYi); if none has them, rendering stops with a message naming the
characters and where they occur.

Loaded faces are cached per process (a batch parses each font file once), and so are
the small per-document subsets (see :mod:`villageboard.render.ttsubset`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from villageboard.domain.errors import VBError
from villageboard.locations import ENV_FONT
from villageboard.render.ttsubset import (
    FontFormatError,
    SfntFace,
    face_count,
    subset_with_fonttools,
)

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
#: Characters every usable Chinese notice font must have.
_CJK_PROBE = "公示村镇补贴发放户元姓名"
#: Characters that are never drawn as glyphs (layout handles them), so never "missing".
_INVISIBLE = {
    0x09,
    0x0A,
    0x0D,
    0x200B,
    0x200C,
    0x200D,
    0x2060,
    0xFEFF,
    *range(0xFE00, 0xFE10),
    *range(0xE0100, 0xE01F0),
}

INSTALL_HINT = (
    "请安装一种中文字体后重试：\n"
    "  Debian/Ubuntu/统信UOS/银河麒麟：sudo apt-get install fonts-wqy-microhei（或 fonts-noto-cjk）\n"
    "  Fedora/CentOS/openEuler：sudo dnf install wqy-microhei-fonts（或 google-noto-sans-cjk-fonts）\n"
    "  Windows：系统自带“微软雅黑”（C:\\Windows\\Fonts\\msyh.ttc），若被删除请从其他电脑复制安装\n"
    "  macOS：系统自带“苹方”（PingFang）\n"
    f"也可以在乡镇设置里填写字体文件路径，或用环境变量 {ENV_FONT} 指定（.ttf/.otf/.ttc 文件）。"
)


@dataclass(frozen=True)
class FontSpec:
    """Which face of which file, and why it was chosen (shown in messages)."""

    path: Path
    index: int
    name: str
    source: str  # 设置 | 环境变量 VILLAGEBOARD_FONT | 系统字体


class LoadedFont:
    """A parsed face: character coverage, advance widths, and fast subsetting.

    Widths are computed exactly as fpdf2 does (1/1000 em, rounded half up), from the
    same file that is embedded, so measured column widths match the printed text."""

    def __init__(self, spec: FontSpec, data: bytes) -> None:
        self.spec = spec
        self.face = SfntFace(data, spec.index)
        self._data = data
        self._scale = 1000 / self.face.units_per_em
        self._widths: dict[int, int] = {}
        self._subsets: OrderedDict[frozenset[int], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.suffix = ".ttf" if self.face.is_truetype else ".otf"
        #: Ascender and descender in 1/1000 em (for placing text on a baseline).
        self.ascent = self.face.ascent * self._scale
        self.descent = self.face.descent * self._scale

    @property
    def name(self) -> str:
        return self.spec.name

    def has(self, ch: str) -> bool:
        return self.face.gid(ord(ch)) != 0

    def missing(self, text: str) -> list[str]:
        """Characters of ``text`` this face has no glyph for (each once, in order)."""
        out: list[str] = []
        for ch in dict.fromkeys(text):
            cp = ord(ch)
            if cp < 0x20 or cp in _INVISIBLE or ch == " ":
                continue
            if self.face.gid(cp) == 0:
                out.append(ch)
        return out

    def char_width(self, ch: str) -> int:
        """Advance width of one character in 1/1000 em (as fpdf2 computes it)."""
        cp = ord(ch)
        w = self._widths.get(cp)
        if w is None:
            gid = self.face.gid(cp)
            adv = self.face.advance(gid)
            w = 0 if adv == 65535 else int(self._scale * adv + 0.5 + 0.001)
            self._widths[cp] = w
        return w

    def text_width(self, text: str, size_pt: float) -> float:
        """Width of ``text`` in points at ``size_pt``."""
        cw = self.char_width
        return sum(cw(c) for c in text) * size_pt / 1000

    def subset(self, chars: Iterable[str]) -> bytes:
        """A small standalone font holding just these characters. Cached: the pages of
        a batch share their fixed labels, and a re-render of the same notice is free."""
        key = frozenset(ord(c) for c in chars)
        with self._lock:
            hit = self._subsets.get(key)
            if hit is not None:
                self._subsets.move_to_end(key)
                return hit
        if self.face.is_truetype:
            out = self.face.subset(key)
        else:
            out = subset_with_fonttools(self._data, self.spec.index, key)
        with self._lock:
            self._subsets[key] = out
            while len(self._subsets) > 16:
                self._subsets.popitem(last=False)
        return out


# --- discovery --------------------------------------------------------------------------


def _platform_candidates() -> list[Path]:
    """Known locations of good CJK fonts, best first. WenQuanYi Micro Hei leads on Linux:
    it is TrueType, so it subsets in milliseconds (Noto CJK is CFF and far slower)."""
    paths: list[Path] = []
    if sys.platform.startswith("win"):
        roots = [Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"]
        local = os.environ.get("LOCALAPPDATA")
        if local:
            roots.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
        for root in roots:
            for name in ("msyh.ttc", "msyh.ttf", "simsun.ttc", "simhei.ttf", "Deng.ttf", "simkai.ttf", "simfang.ttf"):
                paths.append(root / name)
    elif sys.platform == "darwin":
        for name in (
            "/System/Library/Fonts/PingFang.ttc",
            "/System/Library/Fonts/Supplemental/Songti.ttc",
            "/Library/Fonts/Songti.ttc",
            "/System/Library/Fonts/STHeiti Light.ttc",
            "/System/Library/Fonts/Hiragino Sans GB.ttc",
            "/Library/Fonts/Arial Unicode.ttf",
        ):
            paths.append(Path(name))
    home_fonts = [Path.home() / ".local/share/fonts", Path.home() / ".fonts"]
    for root in (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), *home_fonts):
        for rel in (
            "truetype/wqy/wqy-microhei.ttc",
            "wqy-microhei/wqy-microhei.ttc",
            "wqy-microhei.ttc",
            "truetype/wqy/wqy-zenhei.ttc",
            "wqy-zenhei/wqy-zenhei.ttc",
            "opentype/noto/NotoSansCJK-Regular.ttc",
            "noto-cjk/NotoSansCJK-Regular.ttc",
            "google-noto-cjk/NotoSansCJK-Regular.ttc",
            "google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
            "opentype/noto/NotoSerifCJK-Regular.ttc",
            "noto-cjk/NotoSerifCJK-Regular.ttc",
            "google-noto-serif-cjk-fonts/NotoSerifCJK-Regular.ttc",
            "truetype/arphic/uming.ttc",
            "truetype/droid/DroidSansFallbackFull.ttf",
        ):
            paths.append(root / rel)
    return paths


def _fc_list() -> list[Path]:
    """Chinese fonts fontconfig knows about (Linux, BSD; absent elsewhere)."""
    exe = shutil.which("fc-list")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, ":lang=zh", "file"], capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.splitlines():
        p = line.split(":", 1)[0].strip()
        if p.lower().endswith(FONT_SUFFIXES):
            found.append(Path(p))
    # Regular weights first, bold/light faces last: body text wants a regular face.
    return sorted(
        set(found),
        key=lambda p: (any(w in p.name.lower() for w in ("bold", "light", "thin", "black", "heavy", "medium")), str(p)),
    )


def _face_names(path: Path) -> list[tuple[int, list[str], str]]:
    """(index, family/full names in every language, subfamily) for each face. Names
    come Simplified-Chinese first, then English, then the rest."""
    from fontTools.ttLib import TTCollection, TTFont

    out = []
    if path.suffix.lower() in (".ttc", ".otc"):
        coll = TTCollection(str(path), lazy=True)
        fonts = list(enumerate(coll.fonts))
    else:
        fonts = [(0, TTFont(str(path), lazy=True))]
    for i, f in fonts:
        ranked: list[tuple[int, str]] = []
        sub = ""
        try:
            table = f["name"]
            for rec in table.names:
                if rec.nameID in (1, 4, 16):
                    try:
                        text = rec.toUnicode()
                    except UnicodeDecodeError:
                        continue
                    lang = rec.langID if rec.platformID == 3 else -1
                    rank = 0 if lang == 0x0804 else 1 if lang in (0x0409, -1) else 2
                    ranked.append((rank, text))
            sub = table.getDebugName(17) or table.getDebugName(2) or ""
        except Exception:  # a face without a readable name table still counts
            pass
        names = list(dict.fromkeys(text for _rank, text in sorted(ranked, key=lambda r: r[0])))
        out.append((i, names, sub))
    if hasattr(fonts[0][1], "close"):
        for _i, f in fonts:
            f.close()
    return out


def _score_face(names: list[str], subfamily: str) -> int:
    """Prefer the Simplified-Chinese, proportional, regular-weight face."""
    text = " ".join(names)
    low = text.lower()
    score = 0
    if any(k in text for k in (" SC", "SC ", "Simplified", "简", "GB")) or low.endswith(" sc"):
        score += 100
    if any(
        k in text
        for k in (
            "微米黑",
            "Micro Hei",
            "YaHei",
            "雅黑",
            "SimSun",
            "宋体",
            "PingFang",
            "苹方",
            "Songti",
            "Zen Hei",
            "正黑",
        )
    ):
        score += 20
    for bad, penalty in (
        ("mono", 60),
        ("等宽", 60),
        (" ui", 40),
        ("nsimsun", 40),
        (" tc", 50),
        (" hk", 50),
        (" jp", 50),
        (" kr", 50),
        ("繁", 50),
        ("traditional", 50),
    ):
        if bad in low + " ":
            score -= penalty
    sub = subfamily.lower()
    if sub in ("regular", "normal", "book", "roman", "标准", "常规", ""):
        score += 10
    elif any(w in sub for w in ("bold", "black", "heavy", "light", "thin", "medium", "semibold", "ultra")):
        score -= 15
    return score


def choose_face(path: Path, data: bytes | None = None) -> tuple[int, str]:
    """(face index, name) of the best face in a font file, chosen by its name table and
    its Chinese coverage — never a fixed index."""
    try:
        faces = _face_names(path)
    except Exception as exc:
        raise VBError(f"字体文件 {path} 无法读取（{exc}），请换一个字体文件。") from None
    if data is None:
        data = path.read_bytes()
    best: tuple[int, int, str] | None = None
    for index, names, sub in faces:
        try:
            face = SfntFace(data, index)
        except FontFormatError:
            continue
        coverage = sum(1 for ch in _CJK_PROBE if face.gid(ord(ch)))
        score = _score_face(names, sub) + 50 * coverage
        display = _display_name(names) or path.name
        if best is None or score > best[0]:
            best = (score, index, display)
    if best is None:
        raise VBError(f"字体文件 {path} 不是可用的 TrueType/OpenType 字体。")
    return best[1], best[2]


def _display_name(names: list[str]) -> str:
    """A readable family name: Simplified Chinese when the font has one, else English."""
    return names[0] if names else ""


# --- loading and caching ------------------------------------------------------------------

_LOCK = threading.RLock()
_LOADED: dict[tuple[str, int, int], LoadedFont] = {}
_SYSTEM: list[Path] | None = None
#: Characters already known to be in no installed font (so a bad record does not make
#: every re-render read every font file again).
_NOWHERE: set[str] = set()


def _stat_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def load(path: Path | str, source: str = "系统字体") -> LoadedFont:
    """Parse (once per process) the best face of a font file."""
    p = Path(path).expanduser()
    key = _stat_key(p)
    with _LOCK:
        font = _LOADED.get(key)
        if font is not None:
            return font
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise VBError(f"无法读取字体文件 {p}：{exc.strerror or exc}") from None
        try:
            count = face_count(data[:16])
        except Exception:
            count = 1
        if count > 1:
            index, name = choose_face(p, data)
        else:
            index = 0
            try:
                name = _display_name(_face_names(p)[0][1]) or p.stem
            except Exception:
                name = p.stem
        try:
            font = LoadedFont(FontSpec(p, index, name, source), data)
        except Exception as exc:  # a damaged or exotic file: say which, never crash
            raise VBError(f"字体文件 {p} 无法使用（{exc}）。请换一个字体文件。") from None
        _LOADED[key] = font
        return font


def _forget(path: Path) -> None:
    """Drop a font that was only probed, so its megabytes are not kept."""
    with _LOCK:
        for key in [k for k, f in _LOADED.items() if f.spec.path == path]:
            del _LOADED[key]


def system_fonts() -> list[Path]:
    """Existing CJK font files on this machine, best first (cached per process)."""
    global _SYSTEM
    with _LOCK:
        if _SYSTEM is None:
            seen: dict[str, Path] = {}
            for p in _platform_candidates():
                if p.is_file():
                    seen.setdefault(str(p.resolve()), p)
            for p in _fc_list():
                if p.is_file():
                    seen.setdefault(str(p.resolve()), p)
            _SYSTEM = list(seen.values())
        return list(_SYSTEM)


def _check_configured(path_text: str, source: str) -> LoadedFont:
    p = Path(path_text).expanduser()
    if not p.is_file():
        raise VBError(
            f"找不到{source}指定的字体文件：{p}\n"
            "请检查路径是否正确（文件是否被移动或删除），或清除该设置以自动使用系统中文字体。"
        )
    if p.suffix.lower() not in FONT_SUFFIXES:
        raise VBError(f"{source}指定的 {p} 不是字体文件（应为 .ttf/.otf/.ttc）。")
    font = load(p, source)
    if font.missing(_CJK_PROBE):
        raise VBError(
            f"{source}指定的字体“{font.name}”（{p}）不含中文字形，印出来会是方框。\n"
            "请改用中文字体，或清除该设置以自动使用系统中文字体。"
        )
    return font


def primary_font(configured: str | os.PathLike[str] | None = None) -> LoadedFont:
    """The main font: the ``configured`` path, else $VILLAGEBOARD_FONT, else the best
    installed CJK font. Raises VBError with install instructions when there is none."""
    if configured:
        return _check_configured(str(configured), "设置")
    env = os.environ.get(ENV_FONT, "").strip()
    if env:
        return _check_configured(env, f"环境变量 {ENV_FONT} ")
    for p in system_fonts():
        try:
            font = load(p)
        except VBError:
            continue
        if not font.missing(_CJK_PROBE):
            return font
    raise VBError("没有找到中文字体，无法生成公示（否则中文会印成方框）。\n" + INSTALL_HINT)


@dataclass
class FontSet:
    """The main font plus any fallbacks needed for rare characters in this document."""

    primary: LoadedFont
    fallbacks: list[LoadedFont]

    def font_for(self, ch: str) -> int:
        """0 for the main font, i ≥ 1 for fallback i-1 (which has this character)."""
        if self.primary.has(ch) or not self.fallbacks:
            return 0
        for i, f in enumerate(self.fallbacks, 1):
            if f.has(ch):
                return i
        return 0

    @property
    def fonts(self) -> list[LoadedFont]:
        return [self.primary, *self.fallbacks]


def resolve_fonts(
    items: Iterable[tuple[str, str]],
    configured: str | os.PathLike[str] | None = None,
) -> FontSet:
    """Choose fonts for everything in ``items`` ((where, text) pairs) or refuse.

    Missing characters are looked up in the other installed CJK fonts; any that no
    font has stop rendering with VBError naming each character (and its code point, as
    a rare character may be invisible in a terminal) and where it is used."""
    primary = primary_font(configured)
    items = list(items)
    # Fast path: one look at every distinct character; the per-item walk that finds
    # where a missing character is used only runs when something is missing.
    if not primary.missing("".join({ch for _w, text in items for ch in text})):
        return FontSet(primary, [])
    where_of: dict[str, list[str]] = {}
    for where, text in items:
        for ch in primary.missing(text):
            lst = where_of.setdefault(ch, [])
            if len(lst) < 3 and where not in lst:
                lst.append(where)
    if not where_of:
        return FontSet(primary, [])
    fallbacks: list[LoadedFont] = []
    remaining = [ch for ch in where_of if ch not in _NOWHERE]
    if remaining:
        for p in system_fonts():
            if not remaining:
                break
            if p.resolve() == primary.spec.path.resolve():
                continue
            try:
                f = load(p)
            except VBError:
                continue
            covered = [ch for ch in remaining if f.has(ch)]
            if covered:
                fallbacks.append(f)
                remaining = [ch for ch in remaining if ch not in covered]
            else:
                _forget(f.spec.path)
        _NOWHERE.update(remaining)
    remaining = [ch for ch in where_of if not any(f.has(ch) for f in fallbacks)]
    if remaining:
        lines = [f"字体“{primary.name}”（{primary.spec.path}）缺少下列字，印出来会是方框，已停止生成："]
        for ch in remaining:
            lines.append(f"  “{ch}”（U+{ord(ch):04X}）：{'；'.join(where_of[ch])}")
        lines.append(
            "请安装包含这些字的字体（如 sudo apt-get install fonts-noto-cjk），"
            f"或在乡镇设置 / 环境变量 {ENV_FONT} 中指定这样的字体文件；"
            "若是录入错误，请改正对应记录。"
        )
        raise VBError("\n".join(lines))
    return FontSet(primary, fallbacks)


def clear_cache() -> None:
    """Forget every loaded font (tests; or after the clerk installs a font)."""
    global _SYSTEM
    with _LOCK:
        _LOADED.clear()
        _NOWHERE.clear()
        _SYSTEM = None
