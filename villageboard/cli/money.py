"""Money commands: the program catalogue (cli.programs), applications
(cli.applications), imports, exports, bank sheets and returns (cli.sheets),
reconciliation and risk flags (cli.reconcile). This module registers them all.

Every handler opens the data dir through ``open_services`` and closes it; all work is
done by the services (the TUI calls the same ones). Bad input raises VBError /
ValidationFailed, which ``main`` prints as one Chinese line per problem (exit 1).
"""

from __future__ import annotations

import argparse

from villageboard.cli.applications import register_application
from villageboard.cli.programs import register_program
from villageboard.cli.reconcile import register_flags, register_reconcile
from villageboard.cli.sheets import register_export, register_import, register_payouts, register_templates


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The money commands, in the order the help lists them."""
    register_import(sub)
    register_export(sub)
    register_program(sub)
    register_application(sub)
    register_payouts(sub)
    register_reconcile(sub)
    register_flags(sub)
    register_templates(sub)
