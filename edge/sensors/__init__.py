"""Sensors on the edge: device profiles, parsing, alarm rules, availability, registry, reader and simulator."""
