"""``smoothseg serve``: the local web viewer (upload a CT, segment it, inspect, download)."""

from __future__ import annotations

from pathlib import Path

import typer


def serve(
    model: Path | None = typer.Option(
        None,
        "--model",
        help="Model folder (liver/ + tumor/ bundles, or one bundle). Default: the shipped "
        "model, trained on synthetic phantoms (not for clinical use).",
        readable=False,
    ),
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        help="Address to listen on. The default serves this computer only; another address "
        "exposes the app (no login) to the network.",
    ),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port (0: any free port)."),
    max_upload_mb: float = typer.Option(
        1024.0, "--max-upload-mb", min=1.0, help="Largest accepted upload (MiB)."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
) -> None:
    """Open a local web app: segment a CT and inspect it in a medical image viewer."""
    from rich.console import Console

    from smoothseg.errors import SmoothsegError

    try:
        import uvicorn

        from smoothseg.web import WebSettings, create_app
    except ImportError as exc:
        raise SmoothsegError(
            f"the web viewer needs the 'web' extra ({exc.name} is missing): "
            "pip install 'smoothseg[web]'"
        ) from exc
    from smoothseg.predict import PredictConfig, Predictor

    console = Console(stderr=True)
    with console.status("loading models"):
        predictor = Predictor.from_model_dir(model, PredictConfig(device=device))
    if predictor.provenance.get("disclaimer"):
        console.print(f"note: {predictor.provenance['disclaimer']}", style="yellow", markup=False)
    settings = WebSettings(model_dir=model, max_upload_mb=max_upload_mb, device=device)
    local = host in ("127.0.0.1", "localhost", "::1")
    app = create_app(settings, predictor=predictor, allowed_hosts=None if local else ["*"])
    if not local:
        console.print(
            f"warning: listening on {host}: anyone who can reach this address can upload "
            "scans and read results (there is no login)",
            style="yellow",
            markup=False,
        )
    if port == 0:
        port = _free_port(host)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"smoothseg viewer on http://{shown}:{port}/ (Ctrl+C stops it)", markup=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _free_port(host: str) -> int:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("serve")(serve)
