"""The hub's HTTP API: one router per resource, thin over the services in central."""
