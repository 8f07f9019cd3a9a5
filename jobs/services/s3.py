"""An S3-compatible server on loopback: S3Proxy over the local filesystem, with the warehouse bucket.

Its access keys are generated on first start and kept only in files readable by their owner, which the
profiles reference ("file:.services/s3/access_key") — never in settings or logs.
"""

from __future__ import annotations

import secrets
import shutil

import boto3
import httpx
from botocore.config import Config

from connectors.secrets import write_secret_file
from jobs.services.process import ManagedProcess, ServiceError
from jobs.settings import ROOT, Settings

VERSION = "4.1.0"
JAR = ROOT / ".dist" / f"s3proxy-{VERSION}-jar-with-dependencies.jar"


class S3Service:
    name = "s3"

    def __init__(self, settings: Settings) -> None:
        self.state = settings.services.state_path / "s3"
        self.bucket = settings.services.s3_bucket
        self.url = f"http://127.0.0.1:{settings.services.s3_port}"
        self.process = ManagedProcess(self.name, self.state / "run" / "pid", self.state / "logs" / "s3proxy.log")

    def credentials(self) -> tuple[str, str]:
        """The server's keys, made on first use."""
        access, secret = self.state / "access_key", self.state / "secret_key"
        if not (access.exists() and secret.exists()):
            write_secret_file(access, "gs-" + secrets.token_hex(8))
            write_secret_file(secret, secrets.token_urlsafe(30))
        return access.read_text().strip(), secret.read_text().strip()

    def client(self):
        access, secret = self.credentials()
        return boto3.client(
            "s3", endpoint_url=self.url, aws_access_key_id=access, aws_secret_access_key=secret,
            region_name="us-east-1", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
        )

    def healthy(self) -> bool:
        try:
            httpx.get(self.url, timeout=2)  # any HTTP answer (anonymous requests get 403) means it serves
            return True
        except httpx.HTTPError:
            return False

    def start(self) -> None:
        if not JAR.exists():
            raise ServiceError(f"S3Proxy {VERSION} is not installed at {JAR}: run `make setup`")
        java = shutil.which("java")
        if java is None:
            raise ServiceError("no `java` on PATH: S3Proxy needs Java 17+ (apt-get install openjdk-17-jre-headless)")
        access, secret = self.credentials()
        (self.state / "data").mkdir(parents=True, exist_ok=True)
        properties = self.state / "s3proxy.properties"
        write_secret_file(
            properties,
            "\n".join([
                f"s3proxy.endpoint={self.url}",
                "s3proxy.authorization=aws-v2-or-v4",
                f"s3proxy.identity={access}",
                f"s3proxy.credential={secret}",
                "jclouds.provider=filesystem",
                f"jclouds.filesystem.basedir={self.state / 'data'}",
                "",
            ]),
        )
        self.process.spawn([java, "-jar", str(JAR), "--properties", str(properties)], cwd=self.state)

    def wait(self) -> None:
        self.process.wait_healthy(self.healthy, timeout=60)
        client = self.client()
        if self.bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
            client.create_bucket(Bucket=self.bucket)
