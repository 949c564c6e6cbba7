"""`licensing demo`: a generated tenant (generator) and what an admin is shown of it (report)."""
