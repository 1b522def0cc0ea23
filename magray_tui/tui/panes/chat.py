from magray_tui.tui.panes.base import PlannedPane


class ChatPane(PlannedPane):
    PANE_ID = "chat"
    TITLE = "Chat"
    SUMMARY = "Talk with the agent; every turn is remembered in the Interact layer."
    PLANNED = (
        "It will hold: streamed replies rendered as Markdown, the memories retrieved for "
        "each turn, tool calls with their allow/ask/deny decision, and Esc to cancel a turn."
    )
