"""An example Dagster project built from a ``typedrepl.ReplicationComponent``."""
