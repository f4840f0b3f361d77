"""Risk flags (风险提示) on applications and payouts.

The failures this kit exists to make visible have all happened: land areas that grew
year after year, several households paid into one card, the same person claiming twice,
a man dead for ten years still paid. Each is a *flag*, not a rule: it never blocks a
save, because the clerk may know the reason (a household took over a neighbour's land).
Clearing a flag needs a note, which is stored on the application and journaled, so the
reason is on record for the audit.

Flags are computed for a whole year at once from the raw stored documents (no record
objects), with every lookup table built once per call, and cached until the next save
(the journal sequence number changes on every commit). A year of 10,000 households ×
10 programs takes a fraction of a second, so the TUI can show them beside each record.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from villageboard.domain import masking as masking_module
from villageboard.domain.errors import VBError
from villageboard.domain.masking import mask_card
from villageboard.domain.models import HOUSEHOLD_STATUS, Application
from villageboard.services import flag_rows
from villageboard.services.applications import APPLICATIONS
from villageboard.services.flag_cards import shared_payee_cards
from villageboard.services.flag_rows import (
    FlagRow,
    digest_number,
    extract_row,
    show_half,
    show_hundredths,
)
from villageboard.services.paths import HOUSEHOLDS_DIR, REGISTRY, applications_dir
from villageboard.store.changes import Commit
from villageboard.store.derived import code_stamp

if TYPE_CHECKING:
    from villageboard.services.context import Services

#: kind code -> (short name a clerk types, what it means)
FLAG_KINDS: dict[str, tuple[str, str]] = {
    "growth": ("比上年增加", "数量超过前三年同一项目审核通过数量中最少一年的设定倍数（比上年增加提示线，默认1.2倍）"),
    "shared_card": ("一卡多户", "一个一卡通账号被两户以上使用"),
    "duplicate_id": ("身份证重复", "同一身份证号登记在两个村，或在同一项目中申报两次"),
    "status": ("已故迁出", "户主已登记为已故或迁出，之后仍在申报或发放"),
    "outlier": ("数量异常", "数量超过本村该项目中位数的设定倍数（数量异常提示线，默认3倍）"),
    "planted": (
        "种粮超耕地",
        "种粮（实际种植）面积超过本户耕地地力保护补贴的补贴面积的设定倍数（种粮超耕地提示线，默认1倍）",
    ),
    "deduction": ("扣除无原因", "有扣除面积，却没有写明扣除原因"),
    "shared_payee_card": (
        "共用银行卡",
        "同一项目同一年度，两个不同的享受人（含不同户的户主）发放到同一个一卡通账号",
    ),
}
#: Which programs the 种粮 check compares, by name: the 种粮 (actually planted) area of
#: a household against the 补贴面积 (确权 − 扣除) of its 耕地地力保护补贴 row.
PLANTED_WORDS = ("种粮", "实际种植")
LAND_WORDS = ("耕地地力保护",)
#: How many previous years of approved rows the growth flag compares with.
BASELINE_YEARS = 3
#: What the kept rows and counts were made by (store.derived): this module and the
#: masking it applies; a new program version makes them afresh.
_ROWS_STAMP = code_stamp(__file__, flag_rows.__file__, masking_module.__file__)


def kind_code(text: str) -> str:
    """Accept the code (growth) or the short Chinese name (比上年增加)."""
    t = "".join(str(text).split())
    for code, (short, _long) in FLAG_KINDS.items():
        if t in (code, short):
            return code
    names = "、".join(f"{short}（{code}）" for code, (short, _l) in FLAG_KINDS.items())
    raise VBError(f"没有“{text}”这种风险提示。可用的有：{names}")


@dataclass(slots=True)
class Flag:
    """One raised flag on one application. ``cleared`` holds the clearing record
    (kind, note, operator, date) when a clerk has checked it."""

    kind: str
    app_id: str
    year: int
    program_code: str
    household_id: int
    village_id: int
    message: str
    cleared: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return FLAG_KINDS[self.kind][0]

    @property
    def is_cleared(self) -> bool:
        return self.cleared is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "app_id": self.app_id,
            "year": self.year,
            "program": self.program_code,
            "household_id": self.household_id,
            "village_id": self.village_id,
            "message": self.message,
            "cleared": dict(self.cleared) if self.cleared else None,
        }


@dataclass(frozen=True, slots=True)
class Held:
    """What the flag service holds in memory: the years whose flags are made, and how
    many data files' rows."""

    years: frozenset[int]
    files: int


class FlagService:
    """Computes and clears risk flags. ``svc.flags``.

    What each stored file contributes is extracted once and kept until a commit
    touches that file (the store tells its listeners which files every commit
    wrote), so after one save only that file is read again and the year is
    recombined in memory."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.store = svc.store
        self._cache: dict[int, tuple[int, dict[str, list[Flag]], list[Flag]]] = {}
        self._files: dict[str, list[FlagRow]] = {}
        self._memo: dict[Any, int] = {}
        self._digests: dict[str, str] = {}
        self._digests_key = b""
        self.store.subscribe(self._on_commit)

    def _on_commit(self, commit: Commit) -> None:
        for c in commit.changes:
            self._files.pop(c.file, None)

    def held(self) -> Held:
        """What is held in memory now (the counts let go of what they loaded)."""
        return Held(frozenset(self._cache), len(self._files))

    def let_go(self) -> None:
        """Drop every year's flags and rows held in memory; what is kept between starts
        stays, and the next call makes them again from it."""
        self._cache = {}
        self._files.clear()

    # -- reading ----------------------------------------------------------------
    def _rows(self, year: int, keep: bool = True) -> list[FlagRow]:
        """Live (not void) applications of a year, from the per-file extracts (kept
        between starts in store.derived, each until its file changes). ``keep``: hold
        the rows made here for the next pass."""
        files = self.svc.applications.files(year)
        have = {rel: self._files.get(rel) for rel in files}
        if any(rows is None for rows in have.values()):
            stored = self.store.derived.each(
                f"flag-rows-{year}", files, self._extract_file, version=_ROWS_STAMP, remember=False
            )
            for rel, rows in have.items():
                if rows is None:
                    have[rel] = rows = [
                        FlagRow(
                            a,
                            c,
                            h,
                            v,
                            q,
                            bool(rj),
                            bool(ok),
                            cr,
                            tuple(map(tuple, ev)),
                            tuple(cl),
                            bool(ld),
                            bool(nr),
                            pe,
                            pt,
                            tl,
                        )
                        for a, c, h, v, q, rj, ok, cr, ev, cl, ld, nr, pe, pt, tl in stored[rel]
                    ]
                    if keep:
                        self._files[rel] = rows  # a commit meanwhile may drop it again: fine
        out: list[FlagRow] = []
        for rel in files:
            rows = have[rel]
            assert rows is not None  # every file missing from the cache was filled in above
            out += rows
        return out

    def _extract_file(self, rel: str) -> list[list[Any]]:
        memo, key = self._memo, self.key()
        digests = self._digests_for(key)
        return [
            list(extract_row(d, memo, key, digests))
            for d in self.store.scan(rel, APPLICATIONS).values()
            if not d.get("void")
        ]

    def digest(self, text: str) -> str:
        """``text`` (an ID or card number) as the extracts' keyed digest, remembered."""
        key = self.key()
        digests = self._digests_for(key)
        got = digests.get(text)
        if got is None:
            got = digests[text] = digest_number(key, text)
        return got

    def _digests_for(self, key: bytes) -> dict[str, str]:
        """The digests made so far, when they were made with ``key``; else none."""
        if key != self._digests_key:
            self._digests_key, self._digests = key, {}
        return self._digests

    def key(self) -> bytes:
        """The key of the digests in the kept extracts: the township's own secret."""
        tag = self.svc.township.tag_key
        try:
            return bytes.fromhex(tag)[:64] or b"villageboard"
        except ValueError:
            return tag.encode()[:64] or b"villageboard"

    def _by_app(self, year: int, keep: bool = True) -> tuple[dict[str, list[Flag]], list[Flag]]:
        seq = self.store.journal.last_seq
        hit = self._cache.get(year)
        if hit is not None and hit[0] == seq:
            return hit[1], hit[2]
        # The pass makes ~10^5 small objects and no cycles; pausing the cyclic garbage
        # collector keeps it from re-walking the store's cached documents meanwhile
        # (it halves the time on a large township).
        paused = gc.isenabled()
        gc.disable()
        try:
            result = self._compute(year, keep)
            ordered = [f for app_id in sorted(result) for f in result[app_id]]
        finally:
            if paused:
                gc.enable()
        self._cache = {y: v for y, v in self._cache.items() if v[0] == seq}
        self._cache[year] = (seq, result, ordered)
        return result, ordered

    def flags(
        self,
        year: int,
        program: str | None = None,
        village: int | None = None,
        open_only: bool = False,
    ) -> list[Flag]:
        """Every flag of a year (optionally one program or one village), in application
        order. Cleared flags are included, marked, unless ``open_only``."""
        _by_app, ordered = self._by_app(year)
        if not program and village is None and not open_only:
            return list(ordered)
        return [
            f
            for f in ordered
            if (not program or f.program_code == program)
            and (village is None or f.village_id == village)
            and not (open_only and f.is_cleared)
        ]

    def flags_for(self, app: Application) -> list[Flag]:
        """The flags to show beside one record (served from the year's cache)."""
        if app.void:
            return []
        return list(self._by_app(app.year)[0].get(app.id, []))

    def counts(self, year: int) -> dict[str, int]:
        """Open flags per kind, for a dashboard line. Kept between starts until the
        registry or the year's (or the year before's) applications change.

        Counting needs every flag of the year, and the rows of the years behind them
        (some 60 MB at a large township). What this count loaded is let go again, so
        the home screen's count after a save does not hold it for the rest of the day;
        the flags screen makes them again (from the kept rows) when it is opened."""

        def count() -> dict[str, int]:
            held_year, held_files = year in self._cache, set(self._files)
            try:
                out = dict.fromkeys(FLAG_KINDS, 0)
                # rows not held already are let go as soon as used: one earlier year's
                # rows at a time, not all of them at once (the peak of a start)
                for f in self._by_app(year, keep=False)[1]:
                    if not f.is_cleared:
                        out[f.kind] += 1
                return out
            finally:
                if not held_year:
                    self._cache.pop(year, None)
                for rel in set(self._files) - held_files:
                    self._files.pop(rel, None)

        return dict(self.store.derived.get(f"flag-counts-{year}", self._sources(year), count, version=_ROWS_STAMP))

    def counts_if_known(self, year: int) -> dict[str, int] | None:
        """The counts when nothing they depend on changed since they were last made
        (no computing); else None."""
        got = self.store.derived.cached(f"flag-counts-{year}", self._sources(year), version=_ROWS_STAMP)
        return dict(got) if got is not None else None

    @staticmethod
    def _sources(year: int) -> list[str]:
        return [
            REGISTRY,
            HOUSEHOLDS_DIR,
            applications_dir(year),
            *(applications_dir(year - k) for k in range(1, BASELINE_YEARS + 1)),
        ]

    # -- clearing ---------------------------------------------------------------
    def clear(self, app_number: str, kind: str, note: str) -> Application:
        """Record that a clerk checked a flag, with a note saying why it is fine. The
        note goes into the journal with the application; the flag stays visible as
        已核实 with the note."""
        code = kind_code(kind)
        note = " ".join(str(note).split())
        if len(note) < 2:
            raise VBError("核实风险提示必须写明核实情况（至少2个字），例如“经村组实地核实，新承包邻户土地3亩”")
        app = self.svc.applications.get(app_number)
        if app.void:
            raise VBError(f"申报{app.id}已作废")
        raised = [f for f in self.flags_for(app) if f.kind == code]
        if not raised:
            raise VBError(f"申报{app.id}没有“{FLAG_KINDS[code][0]}”提示，不需要核实")
        if raised[0].is_cleared:
            c = raised[0].cleared or {}
            raise VBError(
                f"申报{app.id}的“{FLAG_KINDS[code][0]}”提示已于{c.get('date')}由{c.get('operator')}核实：{c.get('note')}"
            )
        app.cleared_flags = [
            *app.cleared_flags,
            {
                "kind": code,
                "note": note,
                "operator": self.svc.operator,
                "date": self.svc.today().isoformat(),
                "message": raised[0].message,
            },
        ]
        return self.svc.applications.save(app, f"风险提示.核实.{FLAG_KINDS[code][0]}")

    # -- computing --------------------------------------------------------------
    def _compute(self, year: int, keep: bool = True) -> dict[str, list[Flag]]:
        """One pass to build the lookup tables, one pass over the rows. Quantities are
        compared as exact integers of hundredths (they have at most two decimals), so
        the thresholds need no Decimal arithmetic per row. The township's thresholds
        have at most two decimals, so as hundredths G and F they are integers:
        q > G/100·old ⇔ 100q > G·old, and q > F/100·median ⇔ 200q > F·(a + b) for an
        even count's middle pair a, b (2·median for an odd count)."""
        t = self.svc.township
        growth = int(Decimal(t.growth_limit).scaleb(2))  # 1.2 -> 120
        factor = int(Decimal(t.outlier_factor).scaleb(2))  # 3 -> 300
        planted_limit = int(Decimal(t.planted_limit).scaleb(2))  # 1 -> 100
        reg = self.svc.registry
        households = reg.by_number()
        names = {v.id: v.name for v in reg.villages(include_void=True)}
        docs = [r for r in self._rows(year, keep) if not r.rejected]
        prev = self._baseline(year, keep)

        # households sharing a card; one ID in two villages (both registry-wide)
        by_card: dict[str, list[int]] = defaultdict(list)
        by_idn: dict[str, list[int]] = defaultdict(list)
        gone: dict[int, tuple[str, dt.date | None]] = {}
        for h in households.values():
            if h.void:
                continue
            if h.card_account:
                by_card[h.card_account].append(h.id)
            by_idn[h.id_number].append(h.id)
            if h.status in ("deceased", "moved"):
                gone[h.id] = (h.status, h.status_date)

        def who(hid: int) -> str:
            h = households.get(hid)
            return f"{h.name}（{names.get(h.village_id, '?')}）" if h else f"户编号{hid}"

        shared_card: dict[int, str] = {}
        for card, hids in by_card.items():
            if len(hids) > 1:
                for hid in hids:
                    others = "、".join(who(o) for o in hids if o != hid)
                    shared_card[hid] = f"一卡通账号（{mask_card(card)}）还登记在{others}名下"
        two_villages: dict[int, str] = {}  # two live households with one ID, in one village or two
        for hids in by_idn.values():
            for hid in hids if len(hids) > 1 else ():
                two_villages[hid] = f"同一身份证号还登记在{'、'.join(who(o) for o in hids if o != hid)}"
        shared_idn: dict[int, str] = {}  # only these households can be in a program twice
        for idn, held in reg.holders().items():  # every stored record, voided ones too
            for hid in held if len(held) > 1 else ():
                shared_idn[hid] = idn

        # one card paid to two people in one program
        shared_payee = shared_payee_cards(docs, households, names, self.digest)
        # twice in one program (by ID number: a head's, or a per-person row's person), and village medians
        per_program_id: dict[tuple[str, str], list[str]] = defaultdict(list)
        groups: dict[tuple[int, str], list[int]] = defaultdict(list)
        for r in docs:
            groups[(r.village_id, r.code)].append(r.q)
            if r.person:
                per_program_id[(r.code, "person:" + r.person)].append(r.app_id)
            elif r.household_id in shared_idn:
                per_program_id[(r.code, shared_idn[r.household_id])].append(r.app_id)
        twice: dict[str, list[str]] = {}
        for ids in per_program_id.values():
            if len(ids) > 1:
                for i in ids:
                    twice[i] = [o for o in ids if o != i]
        # limit2 = 200 × factor × median: a row is an outlier when 200q > limit2
        limit2: dict[tuple[int, str], tuple[int, int]] = {}
        for key, qs in groups.items():
            qs.sort()
            n, mid = len(qs), len(qs) // 2
            twice_median = 2 * qs[mid] if n % 2 else qs[mid - 1] + qs[mid]
            limit2[key] = (factor * twice_median, twice_median)
        programs = self.svc.programs.list(year, include_void=True)
        units = {p.code: p.unit for p in programs}
        planted_codes = {p.code for p in programs if any(w in p.name for w in PLANTED_WORDS)}
        land_codes = {p.code for p in programs if any(w in p.name for w in LAND_WORDS)}
        # a household's 耕地 补贴面积: only rows that keep their land have one
        land_area = {r.household_id: r.q for r in docs if r.land and r.code in land_codes}

        out: dict[str, list[Flag]] = {}
        for r in docs:
            app_id, code, hid, vid, q = r.app_id, r.code, r.household_id, r.village_id, r.q
            raised: list[tuple[str, str]] = []
            base = prev.get((hid, code))
            if base is not None and 100 * q > growth * base[1]:
                unit = units.get(code, "")
                old_year, old = base
                raised.append(
                    (
                        "growth",
                        f"{show_hundredths(q)}{unit}，比{old_year}年（{show_hundredths(old)}{unit}）增加{(q - old) * 100 // old}%"
                        f"（比较的是前{BASELINE_YEARS}年审核通过数量中最少的一年）",
                    )
                )
            if hid in shared_card:
                raised.append(("shared_card", shared_card[hid]))
            if app_id in shared_payee:
                raised.append(("shared_payee_card", shared_payee[app_id]))
            if hid in two_villages or app_id in twice:
                dup = [two_villages[hid]] if hid in two_villages else []
                if app_id in twice:
                    dup.append(f"同一身份证号在本项目还有申报{'、'.join(twice[app_id])}")
                raised.append(("duplicate_id", "；".join(dup)))
            if hid in gone:
                msg = self._status_message(*gone[hid], r)
                if msg:
                    raised.append(("status", msg))
            lim, twice_median = limit2[(vid, code)]
            if twice_median and 200 * q > lim:
                unit = units.get(code, "")
                times = Decimal(2 * q) / Decimal(twice_median)
                raised.append(
                    (
                        "outlier",
                        f"{show_hundredths(q)}{unit}，是本村该项目中位数（{show_half(twice_median)}{unit}）的{times.quantize(Decimal('0.1'))}倍",
                    )
                )
            farmed = land_area.get(hid) if code in planted_codes else None
            if farmed is not None and 100 * q > planted_limit * farmed:
                unit = units.get(code, "")
                raised.append(
                    (
                        "planted",
                        f"{show_hundredths(q)}{unit}，超过本户耕地地力保护补贴的补贴面积（{show_hundredths(farmed)}{unit}）",
                    )
                )
            if r.no_reason:
                raised.append(("deduction", "有扣除面积，没有写明扣除原因"))
            if not raised:
                continue
            cleared = {c.get("kind"): c for c in r.cleared}
            out[app_id] = [Flag(kind, app_id, year, code, hid, vid, msg, cleared.get(kind)) for kind, msg in raised]
        return out

    def _baseline(self, year: int, keep: bool = True) -> dict[tuple[int, str], tuple[int, int]]:
        """The growth flag's baseline: per (household, program), the smallest positive
        approved (通过) quantity of the previous ``BASELINE_YEARS`` years, with its year,
        as (year, hundredths).

        The minimum, not last year alone and not the average: land claimed a little
        more each year (10 → 11.5 → 13.2 亩, never +20% on the year before) is +32% on
        the smallest year and fires; against an average (10.75) a steady creep of
        10 → 11 → 12 → 13.2 would stay just under the line. A household that really
        took on land clears the flag once with a note. Only approved rows count: a
        rejected or not yet reviewed quantity was never accepted, so it says nothing
        about the land the household had. Two approved rows of one year (a shared
        ID) add up to that year's quantity. Years without an approved row are skipped;
        the latest year wins a tie."""
        out: dict[tuple[int, str], tuple[int, int]] = {}
        for y in range(year - BASELINE_YEARS, year):  # oldest first: a later tie wins
            per_year: dict[tuple[int, str], int] = defaultdict(int)
            for r in self._rows(y, keep):
                if r.approved:
                    per_year[(r.household_id, r.code)] += r.q
            for key, q in per_year.items():
                if q <= 0:
                    continue
                have = out.get(key)
                if have is None or q <= have[1]:
                    out[key] = (y, q)
        return out

    @staticmethod
    def _status_message(status: str, since: dt.date | None, row: FlagRow) -> str:
        """A deceased or moved household still applying (application made after the
        date) or being paid (a bank sheet or payment after the date)."""
        label = HOUSEHOLD_STATUS[status]
        if since is None:
            return f"户主已登记为{label}（没有登记日期），仍有申报"
        day = since.isoformat()  # ISO dates compare correctly as text
        events = []
        if row.created and row.created > day:
            events.append(f"{row.created}申报")
        for issued, paid in row.events:
            if issued and issued > day:
                events.append(f"{issued}提交银行")
            if paid and paid > day:
                events.append(f"{paid}发放")
        if not events:
            return ""
        return f"户主{since}已登记为{label}，之后仍有" + "、".join(dict.fromkeys(events))
