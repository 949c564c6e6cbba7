"""Wire models: the CloudEvents envelope, the input event types of CONTRACT §2 and the output types of §3."""

from events.inputs import INPUT_TYPES, InputEvent
from events.parse import ParseError, parse_event

__all__ = ["INPUT_TYPES", "InputEvent", "ParseError", "parse_event"]
