"""Rollback from Git: reverse delta between two refs, pre/post destructive plan, Metadata API package.

Entry points: `plan_and_package` (sfops.rollback.package), `compute_delta` (delta), `build_plan` (plan).
"""
