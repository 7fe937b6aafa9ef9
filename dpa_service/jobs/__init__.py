"""Background work: what a job needs (context), how jobs run (engines), which work recurs (periodic)."""
