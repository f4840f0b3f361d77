"""The command palette (Ctrl+P): every screen and the clerk's jobs by name, in Chinese.

Each command goes to the screen that does the job and starts it there, so the palette
adds no second way of doing anything. A command is found by its 汉字, by pinyin
(``beifen``) or by initials (``bf``), through the same readings the phone desk files
names under. When nothing matches, the palette says so in Chinese.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from textual.binding import Binding
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.css.query import NoMatches


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    mode: str
    action: str = ""  # the screen's action after going there; "" only goes
    words: str = ""  # more words it is found by (汉字)


#: Screens first, then the jobs, in the order a clerk's year runs.
DOMAIN_COMMANDS: tuple[Command, ...] = (
    Command("首页", "本年概况、正在公示的公示和待办事项（F1）", "home", "", "待办 概况"),
    Command(
        "电话查询…（来电）",
        "来电时按名字、身份证或电话尾号查找，核实身份后给出答复话术（F2）",
        "phone",
        "focus_query",
        "查询农户 接电话",
    ),
    Command("农户名册", "查找、新增、修改农户（F3）", "households", "focus_search", "农户 查找农户"),
    Command("补贴项目（政策清单）", "补贴项目和申报指南（F4）", "programs", "", "政策 项目 申报指南"),
    Command("申报", "申报录入、审核和导入（F5）", "applications", "focus_table", "审核"),
    Command("发放与对账", "银行发放表、回盘、对账和重新发放（F6）", "payouts", "", "发放 对账"),
    Command("公示", "新建、预览、张贴、打印公示，处理异议（F7）", "notices", "", "公示栏"),
    Command("档案", "已存档的公示：查找、打印存档件、核验（F8）", "archive", "focus_search", "存档"),
    Command("设置", "乡镇信息、遮挡规则、字体、备份和恢复（F9）", "settings", "", "乡镇信息 遮挡规则"),
    Command("记录来电", "把这次来电记入来电记录", "phone", "log_call", "来电记录"),
    Command("来电转为异议…", "把来电反映的问题登记为正在公示的公示的异议", "phone", "to_objection", "异议"),
    Command("新增农户…", "在名册中登记一户", "households", "new", "登记农户"),
    Command(
        "登记已故或迁出…",
        "先查到这户、回车打开，再按 Ctrl+T 登记（要填日期）",
        "households",
        "focus_search",
        "已故 迁出 死亡",
    ),
    Command("导入农户名册…", "从 Excel 或 CSV 导入农户名册", "households", "import", "名册"),
    Command("新增补贴项目…", "在政策清单中新增一个补贴项目", "programs", "new"),
    Command("录入申报…", "逐户录入申报", "applications", "focus_entry"),
    Command("导入申报…", "从 Excel 或 CSV 导入申报", "applications", "import"),
    Command("审核申报", "到申报表，推进审核或不通过", "applications", "focus_table", "不通过"),
    Command(
        "核实风险提示",
        "申报表里标出的风险（户主已故、重复申报…）：选中一笔回车核实",
        "applications",
        "focus_table",
        "风险",
    ),
    Command("导出银行发放表…", "审核通过、还没有发放的各户，生成银行发放表", "payouts", "export_bank"),
    Command("导入银行回盘…", "登记银行的发放结果", "payouts", "import_return", "回盘"),
    Command("对账", "各村之和与合计、已提交银行与已发放加失败：在“发放”界面看是否相符", "payouts", "", "核对"),
    Command("重新发放失败的…", "更正账号后，把发放失败的重新发放", "payouts", "reissue"),
    Command("导出报县汇总表…", "分村分项目的汇总和明细（内部资料）", "payouts", "export_county", "汇总"),
    Command(
        "打印签字用表…",
        "申报确认表、发放清册、报县汇总表：带大写合计和签字栏（PDF 或 Excel）",
        "payouts",
        "export_papers",
        "申报确认表 发放清册 清册 签字",
    ),
    Command("新建公示…", "为一个村或全部村新建公示草稿", "notices", "new_notice"),
    Command("张贴公示…", "登记张贴：冻结公示内容，生成核验码", "notices", "post"),
    Command("指定日期张贴…", "补登记以前某天已经张贴的公示", "notices", "post_on"),
    Command("打印公示…", "把选中的公示生成PDF等文件并打印", "notices", "render"),
    Command("各村批量打印公示…", "为每个村生成同一类公示的海报文件", "notices", "batch"),
    Command("登记张贴照片…", "为正在公示的公示保存张贴照片（留存证据）", "notices", "photo"),
    Command("处理异议…", "查看、登记和处理选中公示的异议", "notices", "objections", "异议"),
    Command("核验公示…", "输入编号和核验码，或扫描到的二维码内容", "archive", "verify", "真伪"),
    Command("打印存档件…", "打印盖有“公示期满存档”字样的存档件", "archive", "render"),
    Command("备份…", "把全部数据备份成一个文件", "settings", "backup", "备份数据"),
    Command("恢复备份…", "用备份替换现在的数据（恢复前自动再备份一次）", "settings", "restore", "恢复"),
    Command("检查数据", "检查每个数据文件和修改记录是否完好", "settings", "check"),
)

NO_MATCH = "没有找到“{query}”。可以输入汉字、拼音或首字母，如 备份、beifen、bf"


@cache
def spellings(text: str) -> tuple[tuple[str, str], ...]:
    """(pinyin, initials) of each way the 汉字 of ``text`` can be read, spaces
    dropped: 备份数据 -> ("beifenshuju", "bfsj"), ... Loaded on first search: the
    pinyin tables cost a quarter of a second at start-up otherwise."""
    from villageboard.services.lookup.readings import name_readings

    out: list[tuple[str, str]] = []
    for word in "".join(ch if "\u4e00" <= ch <= "\u9fff" else " " for ch in text).split():
        for reading in name_readings(word)[:8]:
            syllables = reading.split()
            out.append(("".join(syllables), "".join(s[0] for s in syllables)))
    return tuple(out)


def match_score(command: Command, query: str) -> float:
    """How well ``query`` names the command: 0 for not at all, 1 for a name that
    starts with it. 汉字 match the name and its words; letters match pinyin from
    the start of a syllable, or initials."""
    q = "".join(query.lower().split())
    if not q:
        return 0.0
    text = command.name + " " + command.words
    if q in command.name:
        return 1.0 if command.name.startswith(q) else 0.9
    if q in text:
        return 0.8
    if not q.isascii():
        return 0.0
    best = 0.0
    for pinyin, initials in spellings(text):
        if pinyin.startswith(q) or initials.startswith(q):
            best = max(best, 0.7)
        elif q in initials or _from_a_syllable(q, pinyin, initials):
            best = max(best, 0.5)
    return best


def _from_a_syllable(q: str, pinyin: str, initials: str) -> bool:
    """``q`` read from the start of some syllable of ``pinyin`` (``fen`` in beifen)."""
    start = 0
    for i in range(len(initials)):
        start = pinyin.find(initials[i], start)
        if start < 0:
            return False
        if pinyin.startswith(q, start):
            return True
        start += 1
    return False


class DomainCommands(Provider):
    def _command(self, c: Command) -> Callable[[], Awaitable[Any]]:
        return partial(self.app.run_action, f"go_and('{c.mode}', '{c.action}')")

    async def discover(self) -> Hits:
        for c in DOMAIN_COMMANDS:
            yield DiscoveryHit(c.name, self._command(c), help=c.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        found = 0
        for c in DOMAIN_COMMANDS:
            score = match_score(c, query)
            if score > 0:
                found += 1
                shown = matcher.highlight(c.name) if matcher.match(c.name) > 0 else c.name
                yield Hit(score, shown, self._command(c), help=c.help)
        if not found:
            yield Hit(0.01, NO_MATCH.format(query=query.strip()), lambda: None, help="按 Esc 关闭，或换个说法")


class Palette(CommandPalette):
    """The command palette, with PageDown/PageUp that wait for its list: pressed the
    moment the palette opens (a clerk typing ahead), Textual's own keys look up lines
    the list has not laid out yet and the app stopped with a KeyError."""

    BINDINGS = [
        Binding("pagedown", "page(1)", show=False, id="palette-page-down", tooltip="下一页"),
        Binding("pageup", "page(-1)", show=False, id="palette-page-up", tooltip="上一页"),
    ]

    def action_page(self, direction: int) -> None:
        try:
            found = self.query_one(CommandList)
        except NoMatches:
            return
        if found.option_count == 0 or found.scrollable_content_region.height == 0:
            return  # nothing laid out yet: the key does nothing, as on an empty list
        try:
            if direction > 0:
                found.action_page_down()  # type: ignore[no-untyped-call]  # untyped in Textual
            else:
                found.action_page_up()  # type: ignore[no-untyped-call]
        except KeyError:  # laid out, but its lines not yet counted
            return
