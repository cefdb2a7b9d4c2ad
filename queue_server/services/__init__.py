"""Use cases, one function each; they flush, the unit of work commits."""
