"""The console: server-rendered pages for people (Jinja2, no JavaScript build), served by the API's app.

`install(app)` mounts the static assets, the offline API docs (/docs, /redoc) and the console's pages (/, /console/...).
Pages call the same services as the API, with the same principal: the session cookie carries the API's own
bearer token, so login, lockout, expiry and revocation are the API's.
"""

from jinyu.web.install import install, is_console_path, render_domain_error, render_error

__all__ = ["install", "is_console_path", "render_domain_error", "render_error"]
