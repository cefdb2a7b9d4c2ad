"""The what-if simulator (SPEC §10): a hall day in simulated time through the real dispatch."""
