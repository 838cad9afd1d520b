"""The event backbone: envelopes, event schemas, the broker, publishing with
confirms, the event log and its outbox relay, and the consumer loop."""
