"""Workflows over the store. The CLI and the TUI both call these; neither touches files."""

from villageboard.services.context import Services

__all__ = ["Services"]
