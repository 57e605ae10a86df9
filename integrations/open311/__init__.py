"""Open311 GeoReport v2 under `/open311/v2/`: service discovery, filing and reading requests.

Each feedback category is one service (`service_code` = category). Requests are our cases:
filed through the same store API and deadlines as a chat report, read back with the same
redaction as open data. Only holders of a configured API key may file.
"""

from integrations.open311.routes import add_routes

__all__ = ["add_routes"]
