"""Web tools that are safe by construction: SSRF-safe fetching with extraction, and web search.

Start at ``fetch.WebFetcher`` (the pipeline) and ``tools`` (the ``fetch_url``/``web_search``
tools); ``docs/web.md`` lists every rule of the network policy.
"""
