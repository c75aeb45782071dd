"""``autan serve``: one process loads the model, embedder and stores once and serves them over HTTP.

Modules: ``app`` (the Starlette app and its middleware), ``state`` (what is loaded once),
``records`` (API keys, owners and runs in SQLite), ``runs`` (agent runs as background tasks),
``openai_api``, ``threads_api``, ``docs_api``, ``automations_api``, ``agui_api`` (the routes),
``client`` (the CLI's side of the wire).
"""
