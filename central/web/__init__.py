"""Browser consoles for operators, installers and grid workers, served by the hub (no build step, no CDN)."""

from central.web.routes import router as web_router

__all__ = ["web_router"]
