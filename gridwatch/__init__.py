"""gridwatch, the application: the one `gridwatch` command line and the demo, wired from the packages below
(edge, central, broker, models, kernel); nothing imports it."""

__version__ = "0.1.0"
