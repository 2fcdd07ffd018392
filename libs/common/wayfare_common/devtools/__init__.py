"""Tools for running the suite on one machine (`make run`); never used in production."""
