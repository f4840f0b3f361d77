"""Modal dialogs: typed results come back through the push_screen callback."""

from villageboard.tui.dialogs.choice import ChoiceDialog
from villageboard.tui.dialogs.confirm import ConfirmDialog
from villageboard.tui.dialogs.form import FormDialog, FormField
from villageboard.tui.dialogs.message import MessageDialog

__all__ = ["ChoiceDialog", "ConfirmDialog", "FormDialog", "FormField", "MessageDialog"]
