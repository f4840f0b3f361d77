"""Reusable widgets. They show things and post intent; screens call the services."""

from villageboard.tui.widgets.field import FieldRow
from villageboard.tui.widgets.job import JobPanel
from villageboard.tui.widgets.keys import FieldSelect, TickBox
from villageboard.tui.widgets.message import MessageLine
from villageboard.tui.widgets.navbar import NAV, NavBar

__all__ = ["NAV", "FieldRow", "FieldSelect", "JobPanel", "MessageLine", "NavBar", "TickBox"]
