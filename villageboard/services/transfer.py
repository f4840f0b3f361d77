"""Excel and CSV in and out: the household registry, applications, the bank payment
sheet and the bank's return, the county working sheet and the risk-flag list.

:class:`TransferService` (``svc.transfer``) is the one door; the work is in

* :mod:`~villageboard.services.imports` — households and applications;
* :mod:`~villageboard.services.bank_return` — the bank's return;
* :mod:`~villageboard.services.exports` — bank sheet, reissue, county sheet, flag list;
* :mod:`~villageboard.services.import_common` — report, refusal, progress, cancelling;
* :mod:`~villageboard.services.sheet_places` — villages and groups named in a sheet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from villageboard.services.bank_return import BankReturnImport
from villageboard.services.exports import Exports
from villageboard.services.imports import RegistryImports

if TYPE_CHECKING:
    from villageboard.services.context import Services

__all__ = ["TransferService"]


class TransferService(RegistryImports, BankReturnImport, Exports):
    """Imports and exports. ``svc.transfer``."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.store = svc.store
