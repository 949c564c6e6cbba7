"""The plan rules of SPEC §1.4, one module each, as pure functions over plan bit masks."""
