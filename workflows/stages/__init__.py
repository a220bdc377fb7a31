"""One module per stage of the saga's forward path, named exactly after its `Stage` value, each
opening with its row of the saga table (activities, compensation, timeout / retry, non-retryable
errors) and exposing `STAGE` and `run(state)`. Their order is `upgrade.FORWARD`.

The side stages are cross-cutting and live one level up: `needs_attention` in `decisions`,
`compensating` in `compensation`; the terminal stages have no work of their own (`ending`).
"""
