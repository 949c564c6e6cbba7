"""`licensing serve`: the admin surface (Microsoft Graph v1.0 routes, CloudEvents over HTTP, the dashboard)."""
