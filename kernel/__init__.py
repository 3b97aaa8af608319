"""The kernel shared by edge and hub: message contracts and topics, the MQTT seam, settings, errors, the
camera-config schema and the sensor formats. It imports nothing above it."""
