"""The licensing decision core and its runtimes (embedded SQLite log, Kafka/Faust)."""
