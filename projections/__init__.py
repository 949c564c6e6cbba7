"""Read models built only from output events."""
