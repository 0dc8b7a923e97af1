"""The verifier web service: blueprints (api, pages, errors), templates, static assets."""
