"""The default post-mortem template (docs/postmortem-template.md is a copy; a test keeps them equal).

Placeholders use string.Template syntax ($name). Override with `[incidents] postmortem_template =
"path/to/template.md"` in sfops.toml.
"""

DEFAULT_TEMPLATE = """\
# Post-mortem: $ref - $summary

| | |
|---|---|
| **Incident** | $ref ($severity) |
| **Status** | Draft - review due $review_due |
| **Org** | $org |
| **Detected** | $detected_at |
| **Resolved** | $resolved_at |
| **Authors** | $authors |

## Summary

$summary

## Impact

$impact

## Detection

$detection

## What changed before it broke

$changes

## Timeline (UTC)

$timeline

## Root cause and contributing factors

$root_cause

## Resolution

$resolution

## Salesforce specifics

- **Release:** $release
- **Components:** $components
- **Governor limits hit:** $limits_hit
- **Kill switches flipped:** $switches
- **Circuit breakers:** $breakers
- **Rollback:** $rollback

## What went well

$went_well

## What went badly

$went_badly

## Where we got lucky

- _Fill in._

## Action items

$action_items
"""
