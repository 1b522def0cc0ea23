"""`magray memory promote|demote|supersede|pin|unpin|confirm|set-importance|history|undo|
policy`."""

from __future__ import annotations

import json
from typing import Any

import click

from magray_tui.commands import AppContext, pass_app
from magray_tui.commands.output import dump_json, echo, echo_err, print_table, snippet

LAYER_CHOICE = click.Choice(["interact", "insights", "assets"], case_sensitive=False)


def register(group: click.Group) -> None:
    from magray_tui.commands.errors import friendly_errors
    from magray_tui.commands.memory_cmd import open_memory

    @group.command("promote")
    @click.argument("ref", required=False)
    @click.option("--to", "to", type=LAYER_CHOICE, help="Target layer (default: the next one).")
    @click.option("--dry-run", is_flag=True, help="Show what a cycle would do, change nothing.")
    @click.option("--json", "as_json", is_flag=True)
    @pass_app
    @friendly_errors
    def promote_cmd(
        app: AppContext, ref: str | None, to: str | None, dry_run: bool, as_json: bool
    ) -> None:
        """Promote REF, or without REF run a promotion cycle (promote, merge, expire)."""
        if ref is None:
            if to:
                raise click.UsageError("--to goes with a memory id")
            with open_memory(app, write=not dry_run) as svc:
                report = svc.run_cycle(dry_run=dry_run)
            _print_cycle(report, as_json)
            return
        with open_memory(app, write=True) as svc:
            record = svc.promote(ref, to)
            chain = svc.chain(record.id) if not record.merged_into else None
        _print_move(record, as_json, chain)

    @group.command("demote")
    @click.argument("ref")
    @click.option("--to", "to", type=LAYER_CHOICE, help="Target layer (default: the previous one).")
    @click.option("--json", "as_json", is_flag=True)
    @pass_app
    @friendly_errors
    def demote_cmd(app: AppContext, ref: str, to: str | None, as_json: bool) -> None:
        """Move a memory down a layer."""
        with open_memory(app, write=True) as svc:
            _print_move(svc.demote(ref, to), as_json)

    @group.command("supersede")
    @click.argument("old")
    @click.argument("new")
    @click.option("--json", "as_json", is_flag=True)
    @pass_app
    @friendly_errors
    def supersede_cmd(app: AppContext, old: str, new: str, as_json: bool) -> None:
        """Mark NEW as superseding OLD (a fact that changed): OLD stays searchable, ranked
        below NEW, with valid_until and superseded_by; `memory undo` reverses it."""
        with open_memory(app, write=True) as svc:
            record = svc.supersede(old, new)
        if as_json:
            dump_json(record.to_dict())
        else:
            echo(f"{record.id} superseded by {record.superseded_by}")

    @group.command("pin")
    @click.argument("ref")
    @pass_app
    @friendly_errors
    def pin_cmd(app: AppContext, ref: str) -> None:
        """Pin a memory: it never expires."""
        with open_memory(app, write=True) as svc:
            echo(f"pinned {svc.pin(ref, True).id}")

    @group.command("unpin")
    @click.argument("ref")
    @pass_app
    @friendly_errors
    def unpin_cmd(app: AppContext, ref: str) -> None:
        """Unpin a memory."""
        with open_memory(app, write=True) as svc:
            echo(f"unpinned {svc.pin(ref, False).id}")

    @group.command("confirm")
    @click.argument("ref")
    @pass_app
    @friendly_errors
    def confirm_cmd(app: AppContext, ref: str) -> None:
        """Vouch for a memory the assistant (or a tool) wrote: it may then ground answers
        and be promoted (a thumbs-up; `magray memory undo REF` takes it back)."""
        with open_memory(app, write=True) as svc:
            record = svc.confirm(ref, how="cli")
        echo(f"confirmed {record.id} (by {record.author}): it may ground answers now")

    @group.command("set-importance")
    @click.argument("ref")
    @click.argument("value", type=click.FloatRange(0, 1))
    @pass_app
    @friendly_errors
    def importance_cmd(app: AppContext, ref: str, value: float) -> None:
        """Set how important a memory is (0 to 1; the default is 0.5)."""
        with open_memory(app, write=True) as svc:
            record = svc.set_importance(ref, value)
        echo(f"{record.id} importance {record.importance:g}")

    @group.command("history")
    @click.argument("ref")
    @click.option("--json", "as_json", is_flag=True)
    @pass_app
    @friendly_errors
    def history_cmd(app: AppContext, ref: str, as_json: bool) -> None:
        """Every move, merge, expiry and restore of a memory, with its reason."""
        with open_memory(app, write=False) as svc:
            record = svc.get(ref, count_access=False)
            rows = svc.history(record.id)
        if as_json:
            for row in rows:
                row["details"] = json.loads(row["details"] or "{}")
            dump_json(rows)
            return
        if not rows:
            echo_err(f"no history for {record.id}")
            return
        print_table(
            ("when", "action", "from", "to", "by", "reason"),
            [
                (
                    f"{r['ts']:%Y-%m-%d %H:%M}",
                    r["action"],
                    r["from_layer"] or "",
                    r["to_layer"] or "",
                    r["actor"],
                    r["reason"] or "",
                )
                for r in rows
            ],
            title=f"history of {record.id}",
        )

    @group.command("undo")
    @click.argument("ref")
    @pass_app
    @friendly_errors
    def undo_cmd(app: AppContext, ref: str) -> None:
        """Reverse the last action on a memory (move, merge, expiry, pin, edit ...)."""
        with open_memory(app, write=True) as svc:
            echo(svc.undo(ref))

    @group.command("policy")
    @click.option("--json", "as_json", is_flag=True)
    @pass_app
    @friendly_errors
    def policy_cmd(app: AppContext, as_json: bool) -> None:
        """Which promotion policy is active, and why."""
        with open_memory(app, write=False) as svc:
            status = svc.policy_status()
            cfg = svc.settings.promotion
        data = {
            "active": "learned" if status.active else "default",
            "why": status.why,
            "examples": status.examples,
            "held_out": status.held_out,
            "learned_accuracy": status.learned_accuracy,
            "default_accuracy": status.default_accuracy,
            "thresholds": {
                "to_insights": cfg.to_insights,
                "to_assets": cfg.to_assets,
                "keep_insights": cfg.keep_insights,
            },
        }
        if status.weights:
            from magray_tui.memory.promotion import FEATURES

            data["weights"] = dict(zip(FEATURES, status.weights, strict=True))
        if as_json:
            dump_json(data)
            return
        echo(f"active policy: {data['active']} — {status.why}")
        echo(
            f"thresholds: interact→insights {cfg.to_insights:g}, insights→assets "
            f"{cfg.to_assets:g}, keep expired insights ≥ {cfg.keep_insights:g}"
        )


def _print_move(record: Any, as_json: bool, chain: dict[str, Any] | None = None) -> None:
    if as_json:
        dump_json(record.to_dict())
    elif record.merged_into:
        echo(f"{record.id} merged into its near-duplicate {record.merged_into}")
    else:
        echo(f"{record.id} now in {record.layer.value}")
        older = (chain or {}).get("older") or []
        if older:  # the promotion changed a value of its neighbour
            echo(f"{record.id} supersedes {older[0]['id']} (kept, ranked below it)")
        elif record.superseded_by:
            echo(f"{record.id} is superseded by the newer {record.superseded_by}")


def _print_cycle(report: Any, as_json: bool) -> None:
    if as_json:
        dump_json(
            {
                "applied": report.applied,
                "policy": report.policy,
                "why": report.policy_why,
                "considered": report.considered,
                "seconds": round(report.seconds, 3),
                "actions": [a.to_dict() for a in report.actions],
                "nearest": [c.to_dict() for c in report.nearest],
            }
        )
        return
    verb = "did" if report.applied else "would do (dry run)"
    counts = ", ".join(f"{n} {k}" for k, n in sorted(report.counts().items())) or "nothing"
    echo(f"{report.policy} policy over {report.considered:,} memories {verb}: {counts}")
    if report.actions:
        print_table(
            ("id", "action", "from", "to", "score", "reason", "text"),
            [
                (
                    a.record_id,
                    a.action,
                    a.from_layer,
                    a.merge_into or a.to_layer or "",
                    f"{a.score:.2f}",
                    a.reason,
                    snippet(a.text or "", 40),
                )
                for a in report.actions[:200]
            ],
        )
        if len(report.actions) > 200:
            echo_err(f"... and {len(report.actions) - 200} more (use --json for all)")
    elif report.nearest:
        echo("nearest to moving (score / threshold; what holds each back):")
        print_table(
            ("id", "layer", "to", "score", "threshold", "held by", "text"),
            [
                (
                    c.record_id,
                    c.layer,
                    c.to_layer,
                    f"{c.score:.2f}",
                    f"{c.threshold:.2f}",
                    c.blocked_by,
                    snippet(c.text or "", 40),
                )
                for c in report.nearest
            ],
        )
