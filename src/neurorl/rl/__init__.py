"""Training and evaluation: one jitted A2C program per run, frozen-weight evaluation, metrics."""
