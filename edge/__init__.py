"""Edge worker: cameras, detection, tracking, zones and rules, sensors, and publishing to the hub."""
