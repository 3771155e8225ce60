"""Operating the instance (SPEC §1 admin): counters, users, sessions, event log, jobs."""
