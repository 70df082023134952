"""Entry point: the pm_admin framework wired to this company's domain and panel."""

from pm_admin import create_app
from views import site

app = create_app(site=site)
