"""What a client may ask the host: the public methods of the services, nothing else.

Reads may be retried after the host is lost; writes that do not say how to retry them
safely are reported as "outcome unknown" instead of being applied twice.
"""

from __future__ import annotations

READS: dict[str, frozenset[str]] = {
    "memory": frozenset(
        {
            "search",
            "get",
            "list",
            "facets",
            "history",
            "chain",
            "stats",
            "policy_status",
            "export",
            "reembed_status",
        }
    ),
    "todo": frozenset(
        {
            "get",
            "list",
            "topo_order",
            "ready_queue",
            "critical_path",
            "search",
            "dependents",
            "ancestors",
            "descendants",
            "children",
            "counts",
            "to_mermaid",
            "to_text",
            "export_json",
            "undo_available",
            "revision",
        }
    ),
    "chat": frozenset(
        {"list", "get", "latest", "messages", "to_markdown", "search", "prepare_search"}
    ),
    "host": frozenset({"ping", "info", "health"}),
    "ingest": frozenset({"cancel", "file_summary"}),
    # A question for a person in the open TUIs (approvals.py); it changes no data.
    "approval": frozenset({"ask", "answer"}),
}

WRITES: dict[str, frozenset[str]] = {
    "memory": frozenset(
        {
            "add_many",  # `add` is sent as add_many with a client-chosen id: safe to retry
            "update",
            "forget",
            "restore",
            "purge",
            "promote",
            "demote",
            "pin",
            "confirm",
            "set_importance",
            "supersede",
            "undo",
            "run_cycle",
            "import_",
            "reindex",
            "reembed",
            "flush_accesses",
            "copy",  # by id: a copy run again skips what it copied (safe to retry)
        }
    ),
    "todo": frozenset(
        {
            "create",
            "edit",
            "set_state",
            "start",
            "done",
            "fail",
            "cancel",
            "add_dep",
            "remove_dep",
            "reparent",
            "link_memory",
            "unlink_memory",
            "add_artifact",
            "delete",
            "undo",
            "import_json",
            "apply_plan",
        }
    ),
    "chat": frozenset(
        {
            "create",
            "get_or_create",
            "rename",
            "set_system_prompt",
            "set_model",
            "delete",
            "add_message",
            "update_message",
            "delete_messages",
            "export_markdown",
        }
    ),
    "ingest": frozenset({"ingest", "remove"}),
}

# Writes that leave the other processes' views stale: which domain they change.
CHANGES = {"memory": "memory", "todo": "tasks", "chat": "chat", "ingest": "memory"}


def kind(op: str) -> str | None:
    """'read', 'write' or None (not allowed)."""
    domain, _, name = op.partition(".")
    if name in READS.get(domain, ()):
        return "read"
    if name in WRITES.get(domain, ()):
        return "write"
    return None
