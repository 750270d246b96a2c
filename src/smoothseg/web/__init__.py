"""``smoothseg serve``: a local web app to segment a CT and inspect it in a medical viewer.

* :mod:`.settings` — :class:`WebSettings` (model, upload limit, session lifetime, examples).
* :mod:`.safety` — upload names, size-limited saving and safe zip extraction.
* :mod:`.sessions` — per-browser sessions, each with its own temporary folder.
* :mod:`.jobs` — background segmentation jobs with progress.
* :mod:`.pipeline` — one job's work: input → checks → :func:`predict_scan` → viewer files.
* :mod:`.examples` — bundled examples (a phantom case; the real TotalSegmentator CT if present).
* :mod:`.app` / :mod:`.routes` — the FastAPI application and its HTTP API.

Needs the ``web`` extra (``pip install smoothseg[web]``)::

    from smoothseg.web import WebSettings, create_app
    app = create_app(WebSettings())  # serve with uvicorn on 127.0.0.1
"""

from smoothseg.web.app import create_app
from smoothseg.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
