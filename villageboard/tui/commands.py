"""The command palette (Ctrl+P): the clerk's jobs by name, in Chinese.

Each command goes to the screen that does the job and starts it there, so the palette
adds no second way of doing anything.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

#: (name, help, mode, screen action)
DOMAIN_COMMANDS: tuple[tuple[str, str, str, str], ...] = (
    ("查询农户…（来电）", "来电时按名字、身份证或电话尾号查找，核实身份后给出答复话术", "phone", "focus_query"),
    ("打印公示…", "把选中的公示生成PDF等文件并打印", "notices", "render"),
    ("各村批量打印公示…", "为每个村生成同一类公示的海报文件", "notices", "batch"),
    ("新建公示…", "为一个村或全部村新建公示草稿", "notices", "new_notice"),
    ("张贴公示…", "登记张贴：冻结公示内容，生成核验码", "notices", "post"),
    ("登记张贴照片…", "为正在公示的公示保存张贴照片（留存证据）", "notices", "photo"),
    ("处理异议…", "查看、登记和处理选中公示的异议", "notices", "objections"),
    ("查找农户（名册）…", "在农户名册中查找", "households", "focus_search"),
    ("新增农户…", "在名册中登记一户", "households", "new"),
    ("导入农户名册…", "从 Excel 或 CSV 导入农户名册", "households", "import"),
    ("导入申报…", "从 Excel 或 CSV 导入申报", "applications", "import"),
    ("录入申报…", "逐户录入申报", "applications", "focus_entry"),
    ("导出银行发放表…", "审核通过、还没有发放的各户，生成银行发放表", "payouts", "export_bank"),
    ("导入银行回盘…", "登记银行的发放结果", "payouts", "import_return"),
    ("重新发放失败的…", "更正账号后，把发放失败的重新发放", "payouts", "reissue"),
    ("导出报县汇总表…", "分村分项目的汇总和明细（内部资料）", "payouts", "export_county"),
    ("核验公示…", "输入编号和核验码，或扫描到的二维码内容", "archive", "verify"),
    ("打印存档件…", "打印盖有“公示期满存档”字样的存档件", "archive", "render"),
    ("备份…", "把全部数据备份成一个文件", "settings", "backup"),
    ("恢复备份…", "用备份替换现在的数据（恢复前自动再备份一次）", "settings", "restore"),
    ("检查数据", "检查每个数据文件和修改记录是否完好", "settings", "check"),
    ("新增补贴项目…", "在政策清单中新增一个补贴项目", "programs", "new"),
)


class DomainCommands(Provider):
    def _command(self, mode: str, action: str):  # type: ignore[no-untyped-def]
        return partial(self.app.run_action, f"go_and('{mode}', '{action}')")

    async def discover(self) -> Hits:
        for name, help_text, mode, action in DOMAIN_COMMANDS:
            yield DiscoveryHit(name, self._command(mode, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, mode, action in DOMAIN_COMMANDS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), self._command(mode, action), help=help_text)
