"""The central hub: alert ingest, grid cases with the closed loop, dispatch, escalation, live feed, roles."""
