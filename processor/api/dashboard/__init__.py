"""The dashboard of `licensing serve`: server-rendered pages of what the portal's licence blades show, and more.

`router` holds its pages (at `/` and `/tenants/{tenant}/…`), the JSON its script polls, and its static files.
"""

from fastapi import APIRouter

from processor.api.dashboard import live, pages

router = APIRouter()
router.include_router(pages.router)
router.include_router(live.router)
