"""`sfops rollback`: plan a rollback from a bad release B back to a good release A (git refs)."""

from __future__ import annotations

from pathlib import Path

import click

from sfops.cli.common import dry_run_option, output_command, pass_app
from sfops.cli.context import AppContext
from sfops.cli.output import Result


@click.group("rollback")
def rollback() -> None:
    """Roll metadata back from Git: plan, package (validate/deploy come with the Metadata API client)."""


@rollback.command("plan")
@click.option("--from", "from_ref", required=True, metavar="B",
              help="The bad release (deployed now): tag, branch or SHA.")
@click.option("--to", "to_ref", required=True, metavar="A", help="The good release to go back to.")
@click.option("--repo", "repo", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="The SFDX project's git working tree.")
@click.option("--output", "output", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Package folder (default: <repo>/metadata/rollbacks/<B>-to-<A>).")
@dry_run_option
@output_command
@pass_app
def plan_cmd(app: AppContext, from_ref: str, to_ref: str, repo: Path, output: Path | None,
             dry_run: bool) -> Result:
    """Plan the rollback B -> A: re-add, revert, pre/post deletions with reasons; write the package."""
    from sfops.rollback.package import plan_and_package

    plan = plan_and_package(repo, from_ref, to_ref, output, write=not dry_run)
    counts = {step: sum(1 for i in plan.items if i.placement == step) for step in ("deploy", "pre", "post", "skip")}
    message = (f"Rollback {from_ref} ({plan.from_sha[:10]}) -> {to_ref} ({plan.to_sha[:10]}): "
               f"{counts['deploy']} to deploy, {counts['pre']} pre-delete, {counts['post']} post-delete, "
               f"{counts['skip']} skipped, {plan.phases} phase(s).")
    if plan.package_dir:
        message += f"\nPackage: {plan.package_dir} ({plan.file_count} files, {plan.zip_bytes:,} bytes zipped)"
    if plan.unknown:
        message += f"\nNot packaged (unknown or unsupported): {len(plan.unknown)} file(s), see plan.json 'unknown'."
    return Result(data=plan, rows=plan.rows(), columns=["phase", "step", "action", "type", "member", "why"],
                  title="Rollback plan", message=message, warnings=list(plan.warnings))
