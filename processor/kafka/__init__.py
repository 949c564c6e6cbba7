"""The Kafka runtime: topics, publishing, Faust workers around the same decision core, and the projector."""

EVENTS_TOPIC = "licensing.events"
DECISIONS_TOPIC = "licensing.decisions"
DEAD_LETTER_TOPIC = "licensing.dead-letter"
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
WORKER_GROUP = "licensing-processor"
PROJECTOR_GROUP = "licensing-projector"
