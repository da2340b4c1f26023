"""The one settings object, read once from the environment (prefix STYLETRACE_) or a .env."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.images import ImageLimits


class Settings(BaseSettings):
    """Every knob of the service; limits are explicit so operators can see and change them."""

    model_config = SettingsConfigDict(env_prefix="STYLETRACE_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str = ""  # default: sqlite under data_dir
    profile: str = "default"  # models/profiles/NAME.json, or a path to a profile JSON
    calibration: str = ""  # default: models/calibration/<profile>.json
    admin_key: str = ""  # bootstrap key for /v1; empty disables /v1 (every request 401)
    signing_key: Path | None = None  # Ed25519 PEM; default: DATA_DIR/keys/signing-ed25519.pem
    # watermark payload secret (keyed checksum); default: DATA_DIR/keys/watermark-secret.bin
    watermark_secret: Path | None = None
    # how published copies are watermarked (benchmarks/WATERMARK.md compares them)
    watermark_method: Literal["spreadTile", "dwtDct", "dwtDctSvd", "rivaGan"] = "spreadTile"
    c2pa_cert: Path | None = None  # PEM chain, leaf first; default: a development CA's leaf
    c2pa_key: Path | None = None  # its private key; both unset: DATA_DIR/keys/c2pa-*.pem
    examples_dir: Path = Path("./examples")  # the sample gallery `styletrace demo` registers
    scan_root: Path | None = None  # the only folder HTTP scans may read; unset: no HTTP scans

    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = Field(25 * 1024 * 1024, gt=0)
    max_pixels: int = Field(40_000_000, gt=0)
    max_frames: int = Field(1000, gt=0)
    # width*height*frames an upload may declare: bounds decode work before it starts
    max_decode_pixels: int = Field(400_000_000, gt=0)
    max_jpeg_scans: int = Field(100, gt=0)  # progressive scans a JPEG may have (scan bombs)
    # wall clock for decoding one image, checked as the decoder reads; 0: no limit
    max_decode_seconds: float = Field(10.0, ge=0)
    default_top_k: int = Field(5, ge=1)
    max_top_k: int = Field(100, ge=1)
    style_neighbours: int = Field(64, ge=1)  # works retrieved before grouping by creator
    style_works_per_creator: int = Field(3, ge=1)  # top works averaged into a creator score
    match_rate: float = Field(0.001, gt=0, lt=1)  # false-match rate for verdict "match"
    possible_rate: float = Field(0.01, gt=0, lt=1)  # ... and for "possible"
    inference_workers: int = Field(2, ge=1)  # concurrent model calls in the API
    max_queued_requests: int = Field(64, ge=0)  # waiting for a worker; more get 503
    max_queue_wait_seconds: float = Field(10.0, ge=0)  # expected wait past which: 503; 0: none
    # a request's wait for a worker plus its decoding and model time; past it 503 (still
    # waiting) or 504 (running: the thread runs on, its result dropped). 0: no timeout
    request_timeout_seconds: float = Field(60.0, ge=0)
    # requests per minute per API key (and per client IP without a valid key), refilled
    # continuously, up to rate_limit_burst at once; past it 429 with Retry-After. 0: no limit
    rate_limit_per_minute: float = Field(600.0, ge=0)
    rate_limit_burst: int = Field(60, ge=1)
    log_level: str = "INFO"  # of the JSON log lines `styletrace serve` writes to stderr
    batch_size: int = Field(16, ge=1)  # images per forward pass in register and scan
    decode_workers: int = Field(2, ge=1)  # threads decoding images ahead of the models
    ivf_from_vectors: int = Field(200_000, ge=1)  # per space: exact search below, IVF above
    vector_backend: Literal["faiss", "milvus"] = "faiss"  # where the vector indexes live
    milvus_uri: str = ""  # a Milvus server (http://host:19530); default: DATA_DIR/milvus.db (lite)
    milvus_prefix: str = Field("styletrace", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    dispute_window_days: float = Field(14.0, ge=0)  # how long a claim can be disputed
    torch_threads: int = Field(0, ge=0)  # 0: torch's default

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'catalog.sqlite'}"

    @property
    def signing_key_path(self) -> Path:
        return self.signing_key or self.data_dir / "keys" / "signing-ed25519.pem"

    @property
    def milvus(self) -> str:
        """The Milvus URI to use: the setting, or a milvus-lite file in the data dir."""
        return self.milvus_uri or str(self.data_dir / "milvus.db")

    @property
    def watermark_secret_path(self) -> Path:
        return self.watermark_secret or self.data_dir / "keys" / "watermark-secret.bin"

    @property
    def c2pa_paths(self) -> tuple[Path, Path, bool]:
        """(chain, key, whether a development pair may be created there)."""
        if self.c2pa_cert and self.c2pa_key:
            return self.c2pa_cert, self.c2pa_key, False
        keys = self.data_dir / "keys"
        return keys / "c2pa-dev-chain.pem", keys / "c2pa-dev-key.pem", True

    @property
    def limits(self) -> ImageLimits:
        return ImageLimits(
            self.max_upload_bytes,
            self.max_pixels,
            self.max_frames,
            self.max_decode_pixels,
            self.max_jpeg_scans,
            self.max_decode_seconds,
        )


def settings_problems(exc: ValidationError) -> str:
    """Settings that did not read, each named by its environment variable: "STYLETRACE_X:
    what is wrong (given 'abc')"."""
    parts = []
    for error in exc.errors():
        name = "STYLETRACE_" + "_".join(str(p) for p in error["loc"]).upper()
        given = f" (given {str(error.get('input'))[:80]!r})" if "input" in error else ""
        parts.append(f"{name}: {error['msg'].removeprefix('Value error, ')}{given}")
    return "; ".join(parts)
