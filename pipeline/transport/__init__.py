"""The thin Kafka layer: the embedded broker and the kafka-python clients the command line uses."""
