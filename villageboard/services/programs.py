"""The policy list (政策清单): subsidy programs per year."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from villageboard.domain.errors import NotFound, Problem, ValidationFailed, VBError
from villageboard.domain.models import UNITS, Program
from villageboard.domain.money import ROUNDING_RULES, format_fen
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
}


def rate_text(p: Program) -> str:
    return f"{format_fen(p.rate_fen)}元/{p.unit}"


class ProgramService:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.store = svc.store

    def _docs(self) -> list[tuple[int, Program]]:
        return [(int(k), Program.from_dict(d)) for k, d in self.store.table(REGISTRY, PROGRAMS).items()]

    def list(self, year: int | None = None, include_void: bool = False) -> list[Program]:
        out = [p for _k, p in self._docs() if (year is None or p.year == year) and (include_void or not p.void)]
        return sorted(out, key=lambda p: (p.year, p.code))

    def years(self) -> list[int]:
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

    def validate(self, p: Program) -> list[Problem]:
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
        """Edit a program. Once a notice exists for it, changing the rate needs a
        recorded reason, and rows already calculated keep their amounts."""
        k = self._key(year, code)
        if k is None:
            raise NotFound(f"{year}年没有代码为“{code}”的补贴项目")
        old = self.get(year, code)
        data = old.to_dict()
        for key, value in changes.items():
            if key in ("code", "year", "rate_history"):
                continue
            if key in data:
                data[key] = str(value) if isinstance(value, Decimal) else value
        new = self.clean(Program.from_dict(data))
        problems = self.validate(new)
        if problems:
            raise ValidationFailed(problems, "补贴项目有误，没有保存：")
        if new.rate_fen != old.rate_fen:
            if self.has_notices(year, code) and not reason.strip():
                raise VBError("该项目已有公示，修改补贴标准必须填写原因；已计算的金额不会自动重算。")
            new.rate_history = [*old.rate_history, {
                "from_fen": old.rate_fen, "to_fen": new.rate_fen, "reason": reason.strip(),
                "date": self.svc.today().isoformat(), "operator": self.svc.operator,
            }]
        with self.store.begin("补贴项目.修改") as t:
            t.put(REGISTRY, PROGRAMS, k, new.to_dict())
        return new

    def has_notices(self, year: int, code: str) -> bool:
        from villageboard.services.paths import notices_file

        for doc in self.store.table(notices_file(year), "notices").values():
            if doc.get("program_code") == code and not doc.get("void"):
                return True
        return False

    def missing_guide(self, p: Program) -> list[str]:
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
