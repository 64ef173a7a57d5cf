"""The generic job scheduler: `escuta jobs`, and one child of `escuta run`."""
