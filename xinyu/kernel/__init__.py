"""The lowest floor: what every app shares and nothing app-specific.

- `errors.ServiceError`: the one refusal every service raises (Chinese, English, field).
- `validators`: text, date, number and choice checks that raise it.
- `excel`: the one Excel writer of every export (header style, watermark, formula
  neutralisation).
- `registry`: the registries that apps fill and hubs read (home panels, student-file timeline
  providers, demo builders, policy-file sections).
- `kiosk`: helpers for the pages used without an account (wrong-code throttle, name mask,
  help lines).

Imports Django only: never an app of Xinyu (import-linter enforces it).
"""
