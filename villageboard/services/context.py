"""`Services`: one open data dir and every workflow over it."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from villageboard.domain.models import Township
from villageboard.store import Store
from villageboard.store.store import REGISTRY

if TYPE_CHECKING:
    from villageboard.services.applications import ApplicationService
    from villageboard.services.backup import BackupService
    from villageboard.services.calls import CallLogService
    from villageboard.services.flags import FlagService
    from villageboard.services.notices import NoticeService
    from villageboard.services.payouts import PayoutService
    from villageboard.services.phone import PhoneDesk
    from villageboard.services.programs import ProgramService
    from villageboard.services.registry import RegistryService
    from villageboard.services.transfer import TransferService

SETTINGS_TABLE = "settings"

#: Work run every time a data dir is opened for writing (e.g. archiving notices whose
#: posting period has ended). Modules register themselves here.
ON_OPEN: list[Callable[[Services], Any]] = []


def _default_operator() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "操作员"


class Services:
    """Entry point for every workflow. ``today`` is injectable so tests and the demo
    can freeze the date."""

    def __init__(self, store: Store, today: dt.date | None = None, operator: str | None = None) -> None:
        self.store = store
        self._today = today
        self.operator = operator or _default_operator()
        store.operator = self.operator
        self.open_messages: list[str] = []

    # -- opening ----------------------------------------------------------------
    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        readonly: bool = False,
        fallback_readonly: bool = False,
        today: dt.date | None = None,
        operator: str | None = None,
        run_open_hooks: bool = True,
    ) -> Services:
        store = Store.open(Path(data_dir), readonly=readonly, fallback_readonly=fallback_readonly)
        svc = cls(store, today=today, operator=operator)
        if store.restore_note:
            svc.open_messages.append(store.restore_note)
        if store.recovered:
            svc.open_messages.append("上次保存时程序意外中断，已按修改记录补全。")
        if run_open_hooks and not store.readonly:
            msg = svc.notices.archive_due()
            if msg:
                svc.open_messages.append(msg)
            for hook in ON_OPEN:
                msg = hook(svc)
                if msg:
                    svc.open_messages.append(msg)
        return svc

    @classmethod
    def create(cls, data_dir: Path, today: dt.date | None = None, operator: str | None = None) -> Services:
        store = Store.create(Path(data_dir))
        return cls(store, today=today, operator=operator)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- basics -----------------------------------------------------------------
    def today(self) -> dt.date:
        return self._today or dt.date.today()

    @property
    def fixed_today(self) -> dt.date | None:
        """The date the services were told to treat as today, if any."""
        return self._today

    def set_today(self, day: dt.date | None) -> None:
        """Treat ``day`` as today from now on (None: the clock's date again)."""
        self._today = day

    def now(self) -> dt.datetime:
        if self._today is not None:
            t = dt.datetime.now().time().replace(microsecond=0)
            return dt.datetime.combine(self._today, t)
        return dt.datetime.now().replace(microsecond=0)

    @property
    def readonly(self) -> bool:
        return self.store.readonly

    @property
    def township(self) -> Township:
        doc = self.store.table(REGISTRY, SETTINGS_TABLE).get("1")
        return Township.from_dict(doc) if doc else Township()

    @property
    def root(self) -> Path:
        return self.store.root

    # -- workflows ----------------------------------------------------------------
    @cached_property
    def backups(self) -> BackupService:
        from villageboard.services.backup import BackupService

        return BackupService(self)

    @cached_property
    def registry(self) -> RegistryService:
        from villageboard.services.registry import RegistryService

        return RegistryService(self)

    @cached_property
    def programs(self) -> ProgramService:
        from villageboard.services.programs import ProgramService

        return ProgramService(self)

    @cached_property
    def applications(self) -> ApplicationService:
        from villageboard.services.applications import ApplicationService

        return ApplicationService(self)

    @cached_property
    def payouts(self) -> PayoutService:
        from villageboard.services.payouts import PayoutService

        return PayoutService(self)

    @cached_property
    def flags(self) -> FlagService:
        from villageboard.services.flags import FlagService

        return FlagService(self)

    @cached_property
    def transfer(self) -> TransferService:
        from villageboard.services.transfer import TransferService

        return TransferService(self)

    @cached_property
    def notices(self) -> NoticeService:
        from villageboard.services.notices import NoticeService

        return NoticeService(self)

    @cached_property
    def phone(self) -> PhoneDesk:
        from villageboard.services.phone import PhoneDesk

        return PhoneDesk(self)

    @cached_property
    def calls(self) -> CallLogService:
        from villageboard.services.calls import CallLogService

        return CallLogService(self)
