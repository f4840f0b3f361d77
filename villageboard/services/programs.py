"""The policy list (政策清单): subsidy programs per year."""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from villageboard.domain.errors import NotFound, Problem, ValidationFailed, VBError
from villageboard.domain.models import PAYEE_MODES, UNITS, Application, Program, plain_rate
from villageboard.domain.money import ROUNDING_RULES, entitlement_fen, format_rate
from villageboard.domain.validate import check_phone, strip_controls
from villageboard.services.paths import REGISTRY

if TYPE_CHECKING:
    from villageboard.services.context import Services
    from villageboard.store import Tx

PROGRAMS = "programs"

#: What the application guide must say before a notice can be made (catalogue items).
GUIDE_FIELDS = {
    "eligibility": "补贴对象（谁可以申请）",
    "rate_fen": "补贴标准",
    "procedure": "办理程序",
    "materials": "申报材料",
    "hotline": "咨询电话",
    "office": "受理机构",
}

PROGRAM_LABELS = {
    "code": "项目代码",
    "name": "项目名称",
    "year": "年度",
    "basis": "政策依据",
    "basis_no": "文号",
    "department": "主管部门",
    "unit": "计量单位",
    "rate_fen": "补贴标准",
    "rounding": "取整规则",
    "posting_days": "公示天数",
    "hotline": "咨询电话",
    "max_quantity": "单户上限",
    "payee": "发放方式",
}


@dataclass
class Repriced:
    """One unpaid row worked out again at a new rate."""

    app: Application
    old_rate_fen: Decimal
    old_fen: int
    new_fen: int
    on_notice: str = ""  # code of a posted notice still showing the old amount


def rate_text(p: Program) -> str:
    return f"{format_rate(p.rate_fen)}元/{p.unit}"


class ProgramService:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.store = svc.store

    def _docs(self) -> list[tuple[int, Program]]:
        return [(int(k), Program.from_dict(d)) for k, d in self.store.table(REGISTRY, PROGRAMS).items()]

    def list(self, year: int | None = None, include_void: bool = False) -> list[Program]:
        out = [p for _k, p in self._docs() if (year is None or p.year == year) and (include_void or not p.void)]
        return sorted(out, key=lambda p: (p.year, p.code))

    def years(self) -> builtins.list[int]:
        return sorted({p.year for p in self.list()})

    def _key(self, year: int, code: str) -> int | None:
        for k, d in self.store.table(REGISTRY, PROGRAMS).items():
            if d.get("year") == year and d.get("code") == code:
                return int(k)
        return None

    def get(self, year: int, code: str) -> Program:
        k = self._key(year, code.upper())
        if k is None:
            known = "、".join(f"{p.code}（{p.name}）" for p in self.list(year)) or "（本年度还没有项目）"
            raise NotFound(f"{year}年没有代码为“{code}”的补贴项目。本年度的项目：{known}")
        return Program.from_dict(self.store.table(REGISTRY, PROGRAMS)[str(k)])

    #: free-text fields that may run over several lines
    MULTILINE = frozenset({"basis", "eligibility", "procedure", "materials"})

    @classmethod
    def clean(cls, p: Program) -> Program:
        """Control characters never enter: a program's name is printed on every poster
        and echoed by the command line."""
        for key, value in vars(p).items():
            if isinstance(value, str):
                setattr(p, key, strip_controls(value, "\n" if key in cls.MULTILINE else ""))
        return p

    def validate(self, p: Program) -> builtins.list[Problem]:
        problems = []
        if not re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", p.code or ""):
            problems.append(Problem("项目代码用2到10位大写字母或数字，字母开头（如GDDL）", "项目代码"))
        if len(p.name.strip()) < 2:
            problems.append(Problem("项目名称至少2个字", "项目名称"))
        if not 2000 <= p.year <= 2100:
            problems.append(Problem("年度不对", "年度"))
        if p.unit not in UNITS:
            problems.append(Problem(f"计量单位只能是：{'、'.join(UNITS)}", "计量单位"))
        if p.rate_fen <= 0:
            problems.append(Problem("补贴标准必须大于0", "补贴标准"))
        if p.rounding not in ROUNDING_RULES:
            problems.append(Problem("取整规则不对", "取整规则"))
        if not 1 <= p.posting_days <= 90:
            problems.append(Problem("公示天数应在1到90天之间（一般不少于7天）", "公示天数"))
        if p.hotline:
            problems += [Problem(e, "咨询电话") for e in check_phone(p.hotline).errors]
        if p.max_quantity is not None and p.max_quantity <= 0:
            problems.append(Problem("单户上限必须大于0", "单户上限"))
        if p.payee not in PAYEE_MODES:
            problems.append(Problem(f"发放方式只能是：{'、'.join(PAYEE_MODES.values())}", "发放方式"))
        return problems

    def add(self, p: Program, tx: Tx | None = None) -> Program:
        p = self.clean(Program.from_dict(p.to_dict()))
        p.code = p.code.strip().upper()
        problems = self.validate(p)
        if self._key(p.year, p.code) is not None:
            problems.append(Problem(f"{p.year}年已经有代码为{p.code}的项目", "项目代码"))
        if problems:
            raise ValidationFailed(problems, "补贴项目有误，没有保存：")

        def run(t: Tx) -> Program:
            t.insert(REGISTRY, PROGRAMS, "program", p.to_dict(), key_field=None)
            return p

        if tx is not None:
            return run(tx)
        with self.store.begin("补贴项目.新增") as t:
            return run(t)

    def update(self, year: int, code: str, changes: dict[str, Any], reason: str = "") -> Program:
        """Edit a program; a new rate re-prices its unpaid rows (see :meth:`edit`)."""
        return self.edit(year, code, changes, reason)[0]

    def edit(
        self, year: int, code: str, changes: dict[str, Any], reason: str = ""
    ) -> tuple[Program, builtins.list[Repriced]]:
        """Edit a program. A new rate (补贴标准) applies to the rows not yet paid: not
        sent to the bank, or failed there (those go again at the new amount); a row
        waiting for the bank or paid keeps its amount. Each row is worked out again
        with the program's rounding, per row. Once the program has rows or a notice
        the change needs a written reason; it is kept in the rate history and the
        journal, with the rows, in one save."""
        k = self._key(year, code)
        if k is None:
            raise NotFound(f"{year}年没有代码为“{code}”的补贴项目")
        old = self.get(year, code)
        data = old.to_dict()
        for key, value in changes.items():
            if key in ("code", "year", "rate_history"):
                continue
            if key in data:
                data[key] = (
                    plain_rate(value) if key == "rate_fen" else str(value) if isinstance(value, Decimal) else value
                )
        new = self.clean(Program.from_dict(data))
        problems = self.validate(new)
        if problems:
            raise ValidationFailed(problems, "补贴项目有误，没有保存：")
        if new.payee != old.payee and any(True for _a in self.svc.applications.iter(year, code)):
            raise ValidationFailed(
                [
                    Problem(
                        f"该项目已有申报，不能由{PAYEE_MODES.get(old.payee, old.payee)}"
                        f"改为{PAYEE_MODES.get(new.payee, new.payee)}（已有的申报是按原方式登记的）",
                        "发放方式",
                    )
                ],
                "补贴项目有误，没有保存：",
            )
        reason = " ".join(strip_controls(reason).split())
        repriced: list[Repriced] = []
        rows: list[Application] = []
        rate_changed = new.rate_fen != old.rate_fen
        if rate_changed or new.rounding != old.rounding:
            rows = self.svc.applications.list(year, code)
            if (rows or self.has_notices(year, code)) and not reason:
                what = "补贴标准" if rate_changed else "取整规则"
                raise VBError(
                    f"“修改原因”：该项目已有申报或公示，修改{what}必须填写原因（如 依据县农业农村局调整文件）；"
                    "还没有发放的申报将按新标准重算"
                )
            for a in rows:
                if a.status == "rejected" or a.payout_status not in ("", "failed"):
                    continue
                amount = entitlement_fen(a.quantity, new.rate_fen, new.rounding)
                if amount == a.amount_fen and a.rate_fen == new.rate_fen:
                    continue
                repriced.append(
                    Repriced(a, a.rate_fen, a.amount_fen, amount, self.svc.applications.frozen_by_posted(a))
                )
        if rate_changed:
            new.rate_history = [
                *old.rate_history,
                {
                    "from_fen": plain_rate(old.rate_fen),
                    "to_fen": plain_rate(new.rate_fen),
                    "reason": reason,
                    "date": self.svc.today().isoformat(),
                    "operator": self.svc.operator,
                    "repriced": len(repriced),
                },
            ]
        action = "补贴项目.修改" + (
            f"（补贴标准{format_rate(old.rate_fen)}→{format_rate(new.rate_fen)}元，"
            f"重算{len(repriced)}条未发放申报，原因：{reason}）"
            if rate_changed and reason
            else ""
        )
        with self.store.begin(action) as t:
            t.put(REGISTRY, PROGRAMS, k, new.to_dict())
            for r in repriced:
                r.app.rate_fen, r.app.amount_fen = new.rate_fen, r.new_fen
                self.svc.applications.save(r.app, action, t)
        return new, repriced

    def has_notices(self, year: int, code: str) -> bool:
        from villageboard.services.paths import notices_file

        for doc in self.store.table(notices_file(year), "notices").values():
            if doc.get("program_code") == code and not doc.get("void"):
                return True
        return False

    def missing_guide(self, p: Program) -> builtins.list[str]:
        """What the application guide still lacks (empty when complete)."""
        missing = []
        for key, label in GUIDE_FIELDS.items():
            value = getattr(p, key)
            if not value or (isinstance(value, str) and not value.strip()):
                missing.append(label)
        return missing

    def require_guide(self, p: Program) -> None:
        """Refuse to go on (e.g. make a notice) while the application guide is
        incomplete: the catalogue requires every notice to tell villagers who may
        apply, the rate, the procedure, the materials, where and whom to ask."""
        missing = self.missing_guide(p)
        if missing:
            raise VBError(
                f"{p.year}年“{p.name}”（{p.code}）的申报指南还不完整，缺少：{'、'.join(missing)}。"
                f"请先补齐（villageboard program edit {p.code} --year {p.year} …）再做公示。"
            )
