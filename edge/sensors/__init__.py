"""Sensors on the edge: profiles, parsing, alarm rules, availability, registry, reader, simulator."""
