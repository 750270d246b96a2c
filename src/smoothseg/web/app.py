"""The FastAPI application of ``smoothseg serve``: :func:`create_app`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from smoothseg.errors import SmoothsegError
from smoothseg.predict import Predictor
from smoothseg.web.compare_routes import router as compare_router
from smoothseg.web.context import ApiError, WebContext, static_dir
from smoothseg.web.examples import available_examples
from smoothseg.web.jobs import JobRunner
from smoothseg.web.pipeline import ModelHolder
from smoothseg.web.routes import router
from smoothseg.web.sessions import SessionStore
from smoothseg.web.settings import WebSettings

REAP_EVERY_S = 60.0
LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
#: NiiVue compiles WebGL shaders and decodes images in the page; nothing leaves the origin.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; connect-src 'self' data: "
    "blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


async def _expire_sessions(store: SessionStore) -> None:
    """Delete idle sessions' files every minute while the app runs."""
    while True:
        await asyncio.sleep(REAP_EVERY_S)
        await asyncio.to_thread(store.expire)


def same_origin(request: Request) -> bool:
    """Whether a request's ``Origin`` (sent by browsers on POST/DELETE) is this app's own.

    Scheme and host:port must both match: ``https://host`` is another origin than
    ``http://host``. (Behind a TLS-terminating proxy, run uvicorn with ``--proxy-headers`` so
    that the request's scheme is the one the browser used.)
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not from a browser page (curl, scripts)
    parts = urlsplit(origin)
    return parts.scheme == request.url.scheme and parts.netloc == request.headers.get("host", "")


def create_app(
    settings: WebSettings | None = None,
    *,
    predictor: Predictor | None = None,
    allowed_hosts: list[str] | None = None,
) -> FastAPI:
    """The web app.

    Args:
        settings: Options (default :class:`WebSettings`).
        predictor: An already loaded model to use (default: load ``settings.model_dir`` once,
            on first use).
        allowed_hosts: ``Host`` headers accepted (default: localhost names only, which stops
            DNS-rebinding pages from reaching the app; ``["*"]`` accepts any).

    """
    cfg = settings or WebSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx: WebContext = app.state.ctx
        reaper = asyncio.create_task(_expire_sessions(ctx.store))
        yield
        reaper.cancel()
        ctx.runner.shutdown()
        ctx.store.close()

    app = FastAPI(title="smoothseg", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.ctx = WebContext(
        settings=cfg,
        store=SessionStore(
            idle_s=cfg.session_idle_s, max_sessions=cfg.max_sessions, work_dir=cfg.work_dir
        ),
        runner=JobRunner(),
        models=ModelHolder(cfg.model_dir, cfg.device, predictor),
        examples=available_examples(cfg.shared_dir),
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or LOCAL_HOSTS)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.method not in ("GET", "HEAD") and not same_origin(request):
            return JSONResponse({"error": "cross-site request refused"}, status_code=403)
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(SmoothsegError)
    async def input_error(request: Request, exc: SmoothsegError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=400)

    app.include_router(router)
    app.include_router(compare_router)
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    return app
